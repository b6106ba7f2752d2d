/**
 * The chaos check's short form: two rounds of random kills and restarts; each
 * completes or fails only because too few workers are left.
 */
import assert from "node:assert/strict";
import { chaosRound, EXPECTED_FAILURE, roundOk } from "./chaos.ts";

Deno.test({
  name:
    "chaos: workers killed at random while building and evaluating; each round completes, or fails for too few workers (naming the pool), never otherwise",
  fn: async () => {
    for (const round of [1, 2]) {
      const r = await chaosRound(round, { kills: 3, seed: 7 });
      console.log(JSON.stringify(r));
      assert.ok(roundOk(r), JSON.stringify(r));
      assert.ok(r.kills > 0);
    }
  },
});

Deno.test("chaos: only 'too few workers' with the tree and the lost pool named is an expected failure", () => {
  const ok = "BEST-P90: the pool has 1 live workers left, too few to finish " +
    'the tree (lost: "127.0.0.1:4001", "127.0.0.1:4002")';
  assert.match(ok, EXPECTED_FAILURE);
  for (
    const bad of [
      'Worker "127.0.0.1:4001" answered with an error: No job "j1" on this worker',
      "HANG: round 1 ran over 180000 ms",
      "BEST-P90: a PARENT stage did not complete within its timeout",
      "BEST-P90: the pool has 1 live workers left, too few to finish the tree (lost: none)",
    ]
  ) assert.doesNotMatch(bad, EXPECTED_FAILURE);
  const round = {
    round: 1,
    kills: 1,
    restarts: 0,
    trees: 3,
    completeTrees: 2,
    lost: 1,
    detectionMs: [],
    seconds: 1,
  };
  assert.ok(
    roundOk({ ...round, status: "failed", error: ok, treeErrors: [ok] }),
  );
  assert.ok(
    !roundOk({ ...round, status: "failed", error: "No job", treeErrors: [] }),
  );
  assert.ok(
    !roundOk({ ...round, status: "complete", treeErrors: ["The root lost"] }),
  );
});
