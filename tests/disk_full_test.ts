/**
 * A full disk costs the run, not its results: `treecast demo --out` on a
 * 48 KiB tmpfs (a 7-worker demo's results outgrow it during its first tree,
 * after a few writes) exits 1 with one `error:` line naming results.json
 * and ENOSPC, leaves no temp file, and its results.json still parses, fits
 * the schema and says the run failed.
 * Needs root to mount the tmpfs (CI has it); ignored, saying why, without.
 *
 * @module
 */
import assert from "node:assert/strict";
import { rootMissing } from "./helpers/root.ts";
import { runTreecast } from "./helpers/run.ts";
import { assertResultsSchema } from "./helpers/schema.ts";

const noRoot = rootMissing("disk_full_test", "a small tmpfs");

/** Every file below `dir`, as paths relative to it. */
function filesBelow(dir: string, prefix = ""): string[] {
  return [...Deno.readDirSync(dir)].flatMap((e) =>
    e.isDirectory
      ? filesBelow(`${dir}/${e.name}`, `${prefix}${e.name}/`)
      : [`${prefix}${e.name}`]
  );
}

Deno.test({
  name:
    "a demo whose --out fills up exits 1 naming ENOSPC; results.json stays valid and says failed, no temp file",
  ignore: noRoot !== undefined,
  fn: async () => {
    const out = await Deno.makeTempDir({ prefix: "treecast-full-" });
    const mount = new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=48k", "tmpfs", out],
    });
    assert.equal((await mount.output()).code, 0, "mount a 48 KiB tmpfs");
    try {
      const r = await runTreecast(
        ["demo", "--workers", "7", "--no-stragglers", "--out", out],
        { timeoutMs: 180_000 },
      );
      assert.equal(r.code, 1, r.stderr);
      const errors = r.stderr.split("\n").filter((l) => l.startsWith("error:"));
      assert.equal(errors.length, 1, r.stderr);
      const m = errors[0]!.match(
        /^error: Cannot write (\/\S+\/results\.json): ENOSPC: /,
      );
      assert.ok(m, errors[0]!);
      assert.ok(m[1]!.startsWith(`${out}/`), m[1]!);
      const files = filesBelow(out);
      assert.deepEqual(
        files.filter((f) => f.endsWith(".tmp")),
        [],
        "temp files",
      );
      const results = JSON.parse(await Deno.readTextFile(m[1]!));
      assertResultsSchema(results);
      assert.equal(results.status, "failed");
      assert.match(results.error, /ENOSPC/);
    } finally {
      await new Deno.Command("umount", { args: [out] }).output();
      await Deno.remove(out, { recursive: true });
    }
  },
});
