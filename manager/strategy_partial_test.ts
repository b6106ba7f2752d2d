import assert from "node:assert/strict";
import { STRATEGY_WEIGHTS } from "./defaults.ts";
import type { Strategy } from "./script_types.ts";
import { type Candidate, select } from "./strategy.ts";

const P90: Strategy = { name: "P90", weights: { ...STRATEGY_WEIGHTS.P90 } };

/** A candidate with the given p90; `partial`: its probe stopped early. */
function cand(addr: string, p90Us: number, partial = false): Candidate {
  return {
    addr,
    stats: {
      received: 1000,
      lost: 0,
      duplicates: 0,
      reordered: 0,
      malformed: 0,
      warmup: 0,
      negative: 0,
      hops: 1,
      endSeen: !partial,
      minUs: 10,
      p25Us: 20,
      p50Us: 30,
      p75Us: 40,
      p90Us,
      p99Us: p90Us,
      p999Us: p90Us,
      maxUs: p90Us,
      meanUs: 30,
      stddevUs: 5,
      series: [],
      histogram: "",
      timestamps: "USER",
      partial,
    },
  };
}

Deno.test("a candidate with partial statistics ranks after every complete one, for BEST and WORST", () => {
  // b's partial stream scores best for BEST (and worst for WORST): not kept
  // while complete candidates are enough.
  const cs = [cand("a", 300), cand("b", 100, true), cand("c", 200)];
  const best = select(cs, { keep: 2, type: "BEST", strategy: P90 });
  assert.deepEqual(best.kept, ["c", "a"]);
  assert.equal(best.scores.b, 100); // its score is still recorded
  const worst = select(
    [cand("a", 300), cand("b", 900, true), cand("c", 200)],
    { keep: 2, type: "WORST", strategy: P90 },
  );
  assert.deepEqual(worst.kept, ["a", "c"]);
});

Deno.test("a partial candidate is kept, last, only when too few complete ones are left", () => {
  const cs = [cand("a", 300), cand("b", 100, true), cand("c", 50, true)];
  const best = select(cs, { keep: 2, type: "BEST", strategy: P90 });
  assert.deepEqual(best.kept, ["a", "c"]);
});
