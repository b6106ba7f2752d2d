import assert from "node:assert/strict";
import type { ProbeStats } from "../proto/codec.ts";
import { STRATEGY_WEIGHTS } from "./defaults.ts";
import type { Strategy } from "./script_types.ts";
import { type Candidate, score, select, STAT_FIELDS } from "./strategy.ts";

/** Probe statistics with every field set; `over` replaces some. */
function stats(over: Partial<ProbeStats> = {}): ProbeStats {
  return {
    received: 1000,
    lost: 0,
    duplicates: 0,
    reordered: 0,
    malformed: 0,
    warmup: 0,
    negative: 0,
    hops: 1,
    endSeen: true,
    minUs: 100,
    p25Us: 150,
    p50Us: 200,
    p75Us: 250,
    p90Us: 300,
    p99Us: 400,
    p999Us: 500,
    maxUs: 600,
    meanUs: 210,
    stddevUs: 50,
    series: [],
    histogram: "",
    timestamps: "USER",
    ...over,
  };
}

const P90: Strategy = { name: "P90", weights: { ...STRATEGY_WEIGHTS.P90 } };
const WEIGHTED: Strategy = {
  name: "WEIGHTED",
  weights: { ...STRATEGY_WEIGHTS.WEIGHTED },
};

/** Candidates `a`..: each with the given p90 (undefined: failed, no stats). */
function byP90(...p90s: (number | undefined)[]): Candidate[] {
  return p90s.map((p90, i) => {
    const addr = String.fromCharCode(97 + i);
    return p90 === undefined
      ? { addr }
      : { addr, stats: stats({ p90Us: p90 }) };
  });
}

Deno.test("WEIGHTED is 0.3 × p90 + 0.7 × stddev, exactly", () => {
  assert.deepEqual(WEIGHTED.weights, { p90: 0.3, stddev: 0.7 });
  assert.equal(score(stats({ p90Us: 1000, stddevUs: 200 }), WEIGHTED), 440);
  assert.equal(score(stats({ p90Us: 2000, stddevUs: 100 }), WEIGHTED), 670);
  const s = stats({ p90Us: 1234.5, stddevUs: 87.25 });
  assert.equal(score(s, WEIGHTED), 0.3 * 1234.5 + 0.7 * 87.25);
  // Other statistics do not count.
  assert.equal(
    score(stats({ p90Us: 1000, stddevUs: 200, p50Us: 9e9, lost: 7 }), WEIGHTED),
    440,
  );
});

Deno.test("presets and custom weights read the right fields", () => {
  const s = stats();
  assert.equal(score(s, P90), 300);
  assert.equal(
    score(s, { name: "P50", weights: { ...STRATEGY_WEIGHTS.P50 } }),
    200,
  );
  const custom = (weights: Strategy["weights"]): Strategy => ({
    name: "CUSTOM",
    weights,
  });
  assert.equal(score(s, custom({ min: 1 })), 100);
  assert.equal(score(s, custom({ mean: 1 })), 210);
  assert.equal(score(s, custom({ p999: 1 })), 500);
  assert.equal(score(s, custom({ max: 1, p25: 0 })), 600);
  assert.equal(score(stats({ lost: 12 }), custom({ lost: 1 })), 12);
  assert.equal(score(stats({ lost: 3 }), custom({ p50: 1, lost: 100 })), 500);
  assert.equal(score(s, custom({ p75: 2, p99: 0.5 })), 700);
  // Every statistic maps to a distinct field.
  assert.equal(new Set(Object.values(STAT_FIELDS)).size, 11);
});

Deno.test("a failed candidate scores Infinity", () => {
  assert.equal(score(undefined, P90), Infinity);
  assert.equal(score(stats({ received: 0 }), P90), Infinity);
  assert.equal(score(stats({ p90Us: NaN }), P90), Infinity);
});

Deno.test("BEST keeps the lowest scores, best first", () => {
  const got = select(byP90(500, 100, 300, 200, 400), {
    keep: 2,
    type: "BEST",
    strategy: P90,
  });
  assert.deepEqual(got.kept, ["b", "d"]);
  assert.deepEqual(got.scores, { a: 500, b: 100, c: 300, d: 200, e: 400 });
});

Deno.test("WORST keeps the highest scores, worst first", () => {
  const got = select(byP90(500, 100, 300, 200, 400), {
    keep: 3,
    type: "WORST",
    strategy: P90,
  });
  assert.deepEqual(got.kept, ["a", "e", "c"]);
});

Deno.test("WEIGHTED can rank differently from P90", () => {
  const cands: Candidate[] = [
    { addr: "steady", stats: stats({ p90Us: 400, stddevUs: 10 }) },
    { addr: "jittery", stats: stats({ p90Us: 300, stddevUs: 200 }) },
  ];
  const best = (strategy: Strategy) =>
    select(cands, { keep: 1, type: "BEST", strategy }).kept;
  assert.deepEqual(best(P90), ["jittery"]);
  assert.deepEqual(best(WEIGHTED), ["steady"]); // 127 < 230
});

Deno.test("failed candidates are kept by neither BEST nor WORST", () => {
  const cands = byP90(300, undefined, 100, 200);
  cands.push({ addr: "e", stats: stats({ received: 0, p90Us: 9e9 }) });
  const best = select(cands, { keep: 3, type: "BEST", strategy: P90 });
  assert.deepEqual(best.kept, ["c", "d", "a"]);
  assert.equal(best.scores["b"], Infinity);
  assert.equal(best.scores["e"], Infinity);
  const worst = select(cands, { keep: 3, type: "WORST", strategy: P90 });
  assert.deepEqual(worst.kept, ["a", "d", "c"]);
});

Deno.test("ties are broken by address, whatever the input order", () => {
  const tied = (order: string[]): Candidate[] =>
    order.map((addr) => ({
      addr,
      stats: stats({ p90Us: addr === "m" ? 1 : 5 }),
    }));
  for (const order of [["z", "b", "m", "k"], ["k", "m", "z", "b"]]) {
    const best = select(tied(order), { keep: 3, type: "BEST", strategy: P90 });
    assert.deepEqual(best.kept, ["m", "b", "k"]);
    const worst = select(tied(order), {
      keep: 2,
      type: "WORST",
      strategy: P90,
    });
    assert.deepEqual(worst.kept, ["b", "k"]);
  }
});

Deno.test("too few usable candidates is a clear error", () => {
  const cands = byP90(100, undefined, 200, undefined);
  for (const type of ["BEST", "WORST"] as const) {
    assert.throws(
      () => select(cands, { keep: 3, type, strategy: P90 }),
      {
        message: `Cannot select 3 children for a ${type} tree: only 2 of 4 ` +
          `candidates are usable (failed: "b", "d")`,
      },
    );
  }
  assert.deepEqual(
    select(cands, { keep: 2, type: "BEST", strategy: P90 }).kept,
    [
      "a",
      "c",
    ],
  );
});

Deno.test("bad options are refused", () => {
  const cands = byP90(1, 2);
  assert.throws(
    () => select(cands, { keep: -1, type: "BEST", strategy: P90 }),
    RangeError,
  );
  assert.throws(
    () =>
      select([...cands, ...byP90(3)], { keep: 1, type: "BEST", strategy: P90 }),
    /"a" is listed twice/,
  );
  assert.deepEqual(
    select(cands, { keep: 0, type: "BEST", strategy: P90 }).kept,
    [],
  );
});

Deno.test("clocks: correct scores the delays minus the pair's offset; trust as measured", () => {
  // A child whose clock runs 300 us ahead of its parent's looks 300 us slower.
  const skewed = stats({
    p90Us: 350,
    stddevUs: 40,
    offsetUs: 300,
    offsetBoundUs: 10,
    offsetSamples: 50,
  });
  const honest = stats({ p90Us: 200, stddevUs: 40 });
  const cands = [{ addr: "a", stats: skewed }, { addr: "b", stats: honest }];
  const trust = select(cands, { keep: 1, type: "BEST", strategy: P90 });
  assert.deepEqual(trust.kept, ["b"]);
  assert.equal(trust.scores.a, 350);
  const fixed = select(cands, {
    keep: 1,
    type: "BEST",
    strategy: P90,
    offsets: "correct",
  });
  assert.deepEqual(fixed.kept, ["a"]);
  assert.equal(fixed.scores.a, 50);
  // WEIGHTED: 0.3 x (p90 - offset) + 0.7 x stddev; the spread is not shifted.
  assert.ok(
    Math.abs(score(skewed, WEIGHTED, "correct") - (0.3 * 50 + 0.7 * 40)) <
      1e-9,
  );
  // No echo came back: nothing to correct by.
  assert.equal(score(stats({ p90Us: 350 }), P90, "correct"), 350);
});
