import assert from "node:assert/strict";
import type { EvaluationResult, SummaryRow } from "./results.ts";
import { evaluation, results, stage, tree } from "./_summary_testing.ts";
import { estimate, summarize, summaryCells, tQuantile975 } from "./summary.ts";

Deno.test("summary: Student t quantiles and the interval of known samples", () => {
  assert.equal(tQuantile975(1), 12.706);
  assert.equal(tQuantile975(3), 3.182);
  assert.ok(Math.abs(tQuantile975(60) - 2.0003) < 1e-3);
  assert.ok(Math.abs(tQuantile975(1e9) - 1.96) < 1e-3);
  // 1, 2, 3, 4: mean 2.5, s = 1.291, ci = 3.182 * 1.291 / 2 = 2.054
  const e = estimate([1, 2, 3, 4]);
  assert.equal(e.mean, 2.5);
  assert.ok(Math.abs(e.ci! - 2.054) < 1e-3, `${e.ci}`);
  assert.deepEqual(estimate([7]), { mean: 7, ci: null });
});

Deno.test("summary: per kind over roots x runs, against RANDOM and WORST, with probing cost", () => {
  const r = results([
    tree("BEST-P90", "BEST", 0, [evaluation(1, 300), evaluation(2, 320)], [
      stage(0, 1000, 100),
      stage(500, 1500, 100), // overlap: 1.5 s of probing
      stage(2000, 2500, 50, 1), // the rebuild round
    ]),
    tree("RANDOM", "RANDOM", 0, [evaluation(1, 400), evaluation(2, 400)]),
    tree("WORST-P90", "WORST", 0, [evaluation(1, 500), evaluation(2, 500)]),
    tree("LEMON", "LEMON", 0, [evaluation(1, 350)]),
    tree("BEST-P90", "BEST", 1, [evaluation(1, 340), evaluation(2, 360)], [
      stage(0, 500, 100),
    ]),
    tree("RANDOM", "RANDOM", 1, [evaluation(1, 400), evaluation(2, 400)]),
    tree("WORST-P90", "WORST", 1, [evaluation(1, 500), evaluation(2, 500)]),
    tree("LEMON", "LEMON", 1, [evaluation(1, 330)]),
  ]);
  r.trees[0]!.evaluations.push(evaluation(1, 200, 1));
  const s = summarize(r);
  assert.equal(s.random, "RANDOM");
  assert.equal(s.worst, "WORST-P90");
  assert.deepEqual(s.rows.map((x) => [x.kind, x.n]), [
    ["BEST-P90", 4],
    ["BEST-P90 rebuild 1", 1],
    ["RANDOM", 4],
    ["WORST-P90", 4],
    ["LEMON", 2],
  ]);
  const best = s.rows[0]!;
  assert.equal(best.p90Us!.mean, 330);
  assert.equal(best.p50Us!.mean, 165);
  assert.ok(Math.abs(best.vsRandomPct! - -17.5) < 1e-9);
  assert.ok(Math.abs(best.vsWorstPct! - -34) < 1e-9);
  // 300, 320, 340, 360: s = 25.82, ci = 3.182 * 25.82 / 2
  assert.ok(Math.abs(best.p90Us!.ci! - 3.182 * 25.8199 / 2) < 1e-2);
  // root 0: 2 stages of 100 x 4, 1.5 s; root 1: 400 packets, 0.5 s
  assert.deepEqual(best.probing, { packets: 600, ms: 1000 });
  // the rebuild round adds its stage to root 0's build
  assert.deepEqual(s.rows[1]!.probing, { packets: 1000, ms: 2000 });
  assert.equal(s.rows[2]!.vsRandomPct, 0);
  assert.deepEqual(s.rows[2]!.probing, { packets: 0, ms: 0 });
  // LEMON: the root's all-to-all phase (1000, 2000 packets; 2 s each)
  assert.deepEqual(s.rows[4]!.probing, { packets: 1500, ms: 2000 });
  assert.equal(s.rows[4]!.p90Us!.mean, 340);
});

Deno.test("summary: without a RANDOM or WORST tree there is no relative difference", () => {
  const s = summarize(
    results([tree("BEST-P90", "BEST", 0, [evaluation(1, 300)])]),
  );
  assert.equal(s.random, undefined);
  assert.equal(s.rows[0]!.vsRandomPct, undefined);
  assert.equal(s.rows[0]!.p90Us!.ci, null);
});

Deno.test("summary: a silent worst leaf is counted apart; its kind keeps the delays of the other runs, and a kind that was only silent has none", () => {
  const silent = (run: number): EvaluationResult => ({
    ...evaluation(run, 0),
    worstLeaf: { addr: "x", silent: "nothing arrived" },
  });
  const s = summarize(results([
    tree("BEST-P90", "BEST", 0, [evaluation(1, 300), silent(2)]),
    tree("RANDOM", "RANDOM", 0, [evaluation(1, 400), evaluation(2, 400)]),
    tree("WORST-P90", "WORST", 0, [silent(1), silent(2)]),
  ]));
  assert.deepEqual(s.rows.map((r) => [r.kind, r.n, r.silent]), [
    ["BEST-P90", 1, 1],
    ["RANDOM", 2, 0],
    ["WORST-P90", 0, 2],
  ]);
  const [best, , worst] = s.rows as [SummaryRow, SummaryRow, SummaryRow];
  assert.equal(best.p90Us!.mean, 300);
  assert.equal(best.vsRandomPct, -25);
  // Nothing to compare against: no relative difference, and no NaN.
  assert.equal(best.vsWorstPct, undefined);
  assert.equal(worst.p90Us, undefined);
  assert.equal(worst.vsRandomPct, undefined);
  const numbers: unknown[] = [];
  JSON.stringify(s, (_k, v) => (typeof v === "number" && numbers.push(v), v));
  assert.ok(numbers.every(Number.isFinite), JSON.stringify(s));
  assert.deepEqual(summaryCells(worst, s).slice(1, 5), ["0", "2", "-", "-"]);
});

Deno.test("summary cells: the difference against RANDOM only where the p90 intervals tell the kinds apart", () => {
  const s = summarize(results([
    tree("BEST-P90", "BEST", 0, [
      evaluation(1, 300),
      evaluation(2, 310),
      evaluation(3, 320),
    ]),
    tree("RANDOM", "RANDOM", 0, [evaluation(1, 400), evaluation(2, 402)]),
    // 350 ± 445: overlaps RANDOM's 401 ± 12.7
    tree("LEMON", "LEMON", 0, [evaluation(1, 315), evaluation(2, 385)]),
    tree("WORST-P90", "WORST", 0, [evaluation(1, 500)]),
  ]));
  const cells = Object.fromEntries(
    s.rows.map((r) => [r.kind, summaryCells(r, s)]),
  );
  // BEST: 310 ± 24.8, apart from RANDOM; WORST has one sample: no interval.
  assert.deepEqual(cells["BEST-P90"]!.slice(6, 8), ["-22.7 %", "not apart"]);
  assert.deepEqual(cells["LEMON"]!.slice(6, 8), ["not apart", "not apart"]);
  assert.deepEqual(cells["RANDOM"]!.slice(6, 7), ["0.0 %"]);
  // The persisted differences stay what they were.
  assert.ok(Math.abs(s.rows[2]!.vsRandomPct! - (350 - 401) / 4.01) < 1e-9);
});
