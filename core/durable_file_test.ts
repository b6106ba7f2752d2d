import assert from "node:assert/strict";
import { WriteFailed, writeFileDurably } from "./durable_file.ts";
import { rootMissing } from "../tests/helpers/root.ts";

const noRoot = rootMissing("core/durable_file_test", "a small tmpfs");

function names(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

Deno.test("writeFileDurably replaces a file whole: an open reader keeps the old content", async () => {
  const dir = await Deno.makeTempDir({ prefix: "treecast-durable-" });
  try {
    const path = `${dir}/results.json`;
    writeFileDurably(path, "old content\n");
    const reader = await Deno.open(path, { read: true });
    try {
      writeFileDurably(path, "new");
      // A rename, not a rewrite in place: the old file is whole for whoever
      // had it open, and the path names the new one only.
      const buf = new Uint8Array(64);
      const n = await reader.read(buf);
      assert.equal(
        new TextDecoder().decode(buf.subarray(0, n!)),
        "old content\n",
      );
    } finally {
      reader.close();
    }
    assert.equal(await Deno.readTextFile(path), "new");
    assert.deepEqual(names(dir), ["results.json"], "no temp file left");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeFileDurably removes its temp file when the rename fails", async () => {
  const dir = await Deno.makeTempDir({ prefix: "treecast-durable-" });
  try {
    // A folder where the file should go: the temp is written, the rename fails.
    await Deno.mkdir(`${dir}/leaves.csv`);
    await Deno.writeTextFile(`${dir}/leaves.csv/keep`, "x");
    assert.throws(
      () => writeFileDurably(`${dir}/leaves.csv`, "a,b\n"),
      (e) =>
        e instanceof WriteFailed && e.path === `${dir}/leaves.csv` &&
        e.message.startsWith(`Cannot write ${dir}/leaves.csv: `),
    );
    assert.deepEqual(names(dir), ["leaves.csv"], "no temp file left");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "writeFileDurably on a full disk: ENOSPC named, the old file kept, no temp file left",
  ignore: noRoot !== undefined,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "treecast-durable-" });
    const mount = new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir],
    });
    assert.equal((await mount.output()).code, 0, "mount a 64 KiB tmpfs");
    try {
      const path = `${dir}/report.html`;
      writeFileDurably(path, "old");
      assert.throws(
        () => writeFileDurably(path, "x".repeat(100 * 1024)),
        (e) =>
          e instanceof WriteFailed && e.code === "ENOSPC" &&
          e.message.startsWith(`Cannot write ${path}: ENOSPC: `),
      );
      assert.equal(await Deno.readTextFile(path), "old");
      assert.deepEqual(names(dir), ["report.html"], "no temp file left");
    } finally {
      await new Deno.Command("umount", { args: [dir] }).output();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
