import assert from "node:assert/strict";
import { WriteFailed } from "../core/durable_file.ts";
import { demoResults } from "../tests/fixtures/results_demo.ts";
import { rootMissing } from "../tests/helpers/root.ts";
import { assertResultsSchema } from "../tests/helpers/schema.ts";
import { markEnded, type Results, ResultsWriter } from "./results.ts";

const noRoot = rootMissing("manager/results_test", "a small tmpfs");

Deno.test("markEnded fails the trees still building or evaluating, not the complete ones", () => {
  const r = demoResults();
  r.trees[1]!.status = "building";
  r.trees[2]!.status = "evaluating";
  markEnded(r, "interrupted", "Interrupted");
  assert.equal(r.status, "interrupted");
  assert.equal(r.error, "Interrupted");
  assert.deepEqual(
    r.trees.map((t) => [t.status, t.error]),
    [
      ["complete", undefined],
      ["failed", "Interrupted"],
      ["failed", "Interrupted"],
      ["complete", undefined],
    ],
  );
});

/** The demo's results as they were after their first tree, still running. */
function firstTree(): Results {
  const r = demoResults();
  r.status = "running";
  delete r.finishedUs;
  r.trees = r.trees.slice(0, 1);
  return r;
}

Deno.test({
  name:
    "ResultsWriter on a full disk: the last results written stay, marked failed with ENOSPC; no temp file",
  ignore: noRoot !== undefined,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "treecast-results-" });
    // Room for the first document twice (old file and its replacement) and a
    // little more, not for the whole demo's.
    const first = JSON.stringify(firstTree(), null, 1).length;
    const kib = 2 * Math.ceil(first / 4096) * 4 + 16;
    const mount = new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", `size=${kib}k`, "tmpfs", dir],
    });
    assert.equal((await mount.output()).code, 0, "mount a tmpfs");
    try {
      const writer = new ResultsWriter(`${dir}/run`);
      writer.write(firstTree());
      writer.write(firstTree()); // replacing needs room for both, once
      const whole = demoResults();
      whole.status = "running";
      assert.throws(
        () => writer.write(whole),
        (e) =>
          e instanceof WriteFailed && e.code === "ENOSPC" &&
          e.message ===
            `Cannot write ${writer.path}: ENOSPC: No space left on device (os error 28); it keeps the last results written, marked failed`,
      );
      const kept = JSON.parse(await Deno.readTextFile(writer.path));
      assertResultsSchema(kept);
      assert.equal(kept.status, "failed");
      assert.match(kept.error, /^Cannot write .*results\.json: ENOSPC: /);
      assert.equal(kept.trees.length, 1, "the last results written");
      assert.equal(typeof kept.finishedUs, "number");
      assert.deepEqual(
        [...Deno.readDirSync(writer.dir)].map((e) => e.name),
        ["results.json"],
        "no temp file left",
      );
      // Writing stops there: the run's last save cannot undo the mark.
      assert.throws(() => writer.write(firstTree()), WriteFailed);
      const again = JSON.parse(await Deno.readTextFile(writer.path));
      assert.equal(again.status, "failed");
    } finally {
      await new Deno.Command("umount", { args: [dir] }).output();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
