import assert from "node:assert/strict";
import type { MessageFigures } from "./message_figures.ts";
import {
  messageCells,
  pairLines,
  summarizeMessages,
} from "./message_summary.ts";
import type { EvaluationResult } from "./results.ts";
import { evaluation, results, tree } from "./_summary_testing.ts";
import { figuresOf } from "../tests/fixtures/message_figures.ts";

/**
 * Figures whose worst receiver's p99 (and the hold for 99 %) is `p99`
 * (null: among lost messages), the window's p99 half of it, a fifth lost.
 */
function figs(p99: number | null, lostShare = 0.01): MessageFigures {
  const f = figuresOf([100], [50]);
  f.latency.p50Us = p99 === null ? 80 : p99 / 2;
  f.latency.p99Us = f.fairness.hold99Us = p99;
  f.latency.p999Us = null;
  f.window.p99Us = p99 === null ? null : p99 / 2;
  f.lostShare = lostShare;
  f.fairness.adaptive.judged = 10;
  f.fairness.adaptive.fairShare = 0.9;
  return f;
}

/** Run `run` of a tree, with per-message figures of p99 `p99`. */
function run(run: number, p99: number | null, round = 0): EvaluationResult {
  return { ...evaluation(run, 300, round), messages: figs(p99) };
}

Deno.test("per-message summary: per kind over roots x runs, mean ± 95 % interval of each figure, RANDOM and WORST differences where told apart", () => {
  const r = results([
    tree("BEST-P90", "BEST", 0, [run(1, 100), run(2, 110)]),
    tree("RANDOM", "RANDOM", 0, [run(1, 200), run(2, 200)]),
    tree("WORST-P90", "WORST", 0, [run(1, 400), run(2, 400)]),
    tree("BEST-P90", "BEST", 1, [run(1, 120), run(2, 130)]),
    tree("RANDOM", "RANDOM", 1, [run(1, 210), run(2, 210)]),
    tree("WORST-P90", "WORST", 1, [run(1, 400), run(2, 420)]),
  ]);
  const s = summarizeMessages(r);
  assert.equal(s.random, "RANDOM");
  assert.equal(s.worst, "WORST-P90");
  assert.deepEqual(s.rows.map((x) => [x.kind, x.n]), [
    ["BEST-P90", 4],
    ["RANDOM", 4],
    ["WORST-P90", 4],
  ]);
  const best = s.rows[0]!.figures;
  // 100, 110, 120, 130: mean 115, s = 12.91, ci = 3.182 * 12.91 / 2
  assert.equal(best.latencyP99Us.estimate!.mean, 115);
  assert.ok(Math.abs(best.latencyP99Us.estimate!.ci! - 20.54) < 1e-2);
  assert.equal(best.latencyP50Us.estimate!.mean, 57.5);
  assert.equal(best.windowP99Us.estimate!.mean, 57.5);
  assert.equal(best.hold99Us.estimate!.mean, 115);
  assert.deepEqual(best.lostShare, {
    estimate: { mean: 0.01, ci: 0 },
    nulls: 0,
  });
  assert.equal(best.adaptiveFairShare.estimate!.mean, 0.9);
  // p999 was null (among the lost) in every run: counted, never averaged.
  assert.deepEqual(best.latencyP999Us, { nulls: 4 });
  assert.ok(Math.abs(s.rows[0]!.vsRandomPct! - 100 * (115 - 205) / 205) < 1e-9);
  assert.ok(Math.abs(s.rows[0]!.vsWorstPct! - 100 * (115 - 405) / 405) < 1e-9);
  assert.deepEqual(messageCells(s.rows[0]!, s), [
    "BEST-P90",
    "4",
    "57.5 ± 10.3",
    "115.0 ± 20.5",
    "- (4 null)",
    "57.5 ± 10.3",
    "115.0 ± 20.5",
    "90.00 ± 0.00 %",
    "1.00 ± 0.00 %",
    "-43.9 %",
    "-71.6 %",
  ]);
  // Each baseline has no difference against itself.
  assert.deepEqual(messageCells(s.rows[1]!, s).slice(9), ["-", "-49.4 %"]);
  // Apart everywhere: every pair ranked, the lower first.
  assert.deepEqual(pairLines(s), [
    "BEST-P90 below RANDOM (worst-receiver p99 intervals apart)",
    "BEST-P90 below WORST-P90 (worst-receiver p99 intervals apart)",
    "RANDOM below WORST-P90 (worst-receiver p99 intervals apart)",
  ]);
});

Deno.test("per-message summary: kinds whose p99 intervals overlap are not told apart, not ranked", () => {
  const s = summarizeMessages(results([
    tree("BEST-P90", "BEST", 0, [run(1, 190), run(2, 200), run(3, 210)]),
    tree("RANDOM", "RANDOM", 0, [run(1, 200), run(2, 210)]),
    tree("WORST-P90", "WORST", 0, [run(1, 400), run(2, 402)]),
  ]));
  const best = s.rows[0]!;
  assert.equal(best.vsRandomPct, undefined);
  assert.ok(best.vsWorstPct! < 0);
  assert.deepEqual(messageCells(best, s).slice(9), ["not apart", "-50.1 %"]);
  assert.deepEqual(pairLines(s), [
    "BEST-P90 vs RANDOM: not told apart by this run (intervals overlap)",
    "BEST-P90 below WORST-P90 (worst-receiver p99 intervals apart)",
    "RANDOM below WORST-P90 (worst-receiver p99 intervals apart)",
  ]);
});

Deno.test("per-message summary: a null p99 is counted apart, never averaged; a kind with one sample has no interval and is not told apart", () => {
  const s = summarizeMessages(results([
    tree("BEST-P90", "BEST", 0, [run(1, 100), run(2, 104), run(3, null)]),
    tree("RANDOM", "RANDOM", 0, [run(1, 300), run(2, 302)]),
    tree("LEMON", "LEMON", 0, [run(1, null), run(2, null)]),
    tree("WORST-P90", "WORST", 0, [run(1, 500)]),
  ]));
  const [best, , lemon] = s.rows;
  assert.deepEqual(best!.figures.latencyP99Us, {
    estimate: { mean: 102, ci: 12.706 * 2 },
    nulls: 1,
  });
  assert.equal(messageCells(best!, s)[3], "102.0 ± 25.4 (1 null)");
  assert.deepEqual(lemon!.figures.latencyP99Us, { nulls: 2 });
  assert.equal(messageCells(lemon!, s)[3], "- (2 null)");
  // The kind below had runs past its p99 in lost messages: not told apart.
  const lines = pairLines(s);
  assert.ok(
    lines.includes(
      "BEST-P90 vs RANDOM: not told apart by this run (the lower kind has samples without a figure)",
    ),
    lines.join("\n"),
  );
  assert.ok(lines.includes(
    "BEST-P90 vs LEMON: not told apart by this run (no figure in some kind)",
  ));
  assert.ok(lines.includes(
    "RANDOM vs WORST-P90: not told apart by this run (fewer than 2 samples)",
  ));
  const numbers: unknown[] = [];
  JSON.stringify(s, (_k, v) => (typeof v === "number" && numbers.push(v), v));
  assert.ok(numbers.every(Number.isFinite), JSON.stringify(s));
});

Deno.test("per-message summary: evaluations without figures (older results) give no row; a rebuild round is a kind", () => {
  assert.deepEqual(
    summarizeMessages(
      results([tree("BEST-P90", "BEST", 0, [evaluation(1, 300)])]),
    ),
    { rows: [], pairs: [] },
  );
  const s = summarizeMessages(results([
    tree("BEST-P90", "BEST", 0, [run(1, 100), run(2, 110), run(1, 90, 1)]),
  ]));
  assert.deepEqual(s.rows.map((r) => [r.kind, r.n]), [
    ["BEST-P90", 2],
    ["BEST-P90 rebuild 1", 1],
  ]);
});

Deno.test("per-message summary: the fair share at each hold, averaged over runs", () => {
  const fast = figuresOf([4, 4, 8, 8], [1, 1, 1, 1]);
  const slow = figuresOf([4, 8, 30, 30], [1, 1, 1, 1]);
  const s = summarizeMessages(results([
    tree("BEST-P90", "BEST", 0, [
      { ...evaluation(1, 1), messages: fast },
      { ...evaluation(2, 1), messages: slow },
    ]),
  ]));
  const at = (h: number) =>
    s.rows[0]!.holds.find((x) => x.holdUs === h)!.fairShare.mean;
  // At 5 µs: half of fast's, a quarter of slow's; at 10: all, half; at 50: all.
  assert.equal(at(5), (0.5 + 0.25) / 2);
  assert.equal(at(10), (1 + 0.5) / 2);
  assert.equal(at(50), 1);
});

Deno.test("per-message summary: a kind whose p99 was among lost messages in every run ranks above a kind with an interval and no null", () => {
  const s = summarizeMessages(results([
    tree("BEST-P90", "BEST", 0, [run(1, 100), run(2, 110)]),
    tree("WORST-P90", "WORST", 0, [run(1, null), run(2, null)]),
    tree("LEMON", "LEMON", 0, [run(1, 100), run(2, null)]),
  ]));
  assert.deepEqual(pairLines(s), [
    "BEST-P90 below WORST-P90 (worst-receiver p99 intervals apart)",
    "LEMON vs BEST-P90: not told apart by this run (fewer than 2 samples)",
    "LEMON vs WORST-P90: not told apart by this run (no figure in some kind)",
  ]);
  assert.equal(messageCells(s.rows[0]!, s)[10], "below");
  assert.equal(messageCells(s.rows[2]!, s)[10], "not apart");
});
