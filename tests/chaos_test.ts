/** The chaos check's short form: two rounds of random kills, no hang, valid results. */
import assert from "node:assert/strict";
import { chaosRound } from "./chaos.ts";

Deno.test({
  name:
    "chaos: workers killed at random while building and evaluating; no hang, valid results",
  fn: async () => {
    for (const round of [1, 2]) {
      const r = await chaosRound(round, { kills: 3, seed: 7 });
      console.log(JSON.stringify(r));
      assert.ok(!r.error?.startsWith("HANG"), String(r.error));
      assert.ok(
        r.status === "complete" || (r.status === "failed" && r.error),
        JSON.stringify(r),
      );
      assert.ok(r.kills > 0);
    }
  },
});
