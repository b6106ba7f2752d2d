import assert from "node:assert/strict";
import { makeRunFolder } from "./run_folder.ts";

Deno.test("two runs of one name started in the same second get two folders", async () => {
  const out = await Deno.makeTempDir();
  try {
    const at = new Date("2026-12-06T22:30:00.120Z");
    const same = new Date("2026-12-06T22:30:00.870Z");
    const first = makeRunFolder(`${out}/runs`, "DEMO", at);
    const second = makeRunFolder(`${out}/runs`, "DEMO", same);
    const third = makeRunFolder(`${out}/runs`, "DEMO", same);
    assert.equal(first, `${out}/runs/DEMO-20261206T223000Z`);
    assert.equal(second, `${first}-2`);
    assert.equal(third, `${first}-3`);
    for (const d of [first, second, third]) {
      assert.ok(Deno.statSync(d).isDirectory, d);
    }
    // A run writing into the first folder leaves the second one empty.
    Deno.writeTextFileSync(`${first}/results.json`, "{}");
    assert.deepEqual([...Deno.readDirSync(second)], []);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
