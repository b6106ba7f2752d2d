import assert from "node:assert/strict";
import { runTreecast } from "../tests/helpers/run.ts";

Deno.test("treecast demo --no-stragglers with --stragglers, or with --virtual, exits 2 with one error line", async () => {
  for (
    const [args, why] of [
      [
        ["--no-stragglers", "--stragglers", "2"],
        /"--no-stragglers" does not go with "--stragglers"/,
      ],
      [
        ["--virtual", "40", "--no-stragglers"],
        /"--no-stragglers" does not go with "--virtual"/,
      ],
    ] as const
  ) {
    const r = await runTreecast(["demo", ...args]);
    assert.equal(r.code, 2, r.stderr);
    const errors = r.stderr.split("\n").filter((l) => l.startsWith("error:"));
    assert.equal(errors.length, 1, r.stderr);
    assert.match(errors[0]!, why);
  }
});
