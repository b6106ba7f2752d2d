import assert from "node:assert/strict";
import type { ProbeStats } from "../proto/codec.ts";
import { STRATEGY_WEIGHTS } from "./defaults.ts";
import type { Strategy } from "./script_types.ts";
import {
  type Candidate,
  INSTRUMENT_IQR_FACTOR,
  percentileOverSent,
  score,
  select,
  STAT_FIELDS,
} from "./strategy.ts";

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
const THESIS: Strategy = {
  name: "WEIGHTED-THESIS",
  weights: { ...STRATEGY_WEIGHTS["WEIGHTED-THESIS"] },
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

Deno.test("WEIGHTED-THESIS is 0.3 × p90 + 0.7 × stddev, exactly", () => {
  assert.deepEqual(THESIS.weights, { p90: 0.3, stddev: 0.7 });
  assert.equal(score(stats({ p90Us: 1000, stddevUs: 200 }), THESIS), 440);
  assert.equal(score(stats({ p90Us: 2000, stddevUs: 100 }), THESIS), 670);
  const s = stats({ p90Us: 1234.5, stddevUs: 87.25 });
  assert.equal(score(s, THESIS), 0.3 * 1234.5 + 0.7 * 87.25);
  // Other statistics do not count.
  assert.equal(
    score(stats({ p90Us: 1000, stddevUs: 200, p50Us: 9e9 }), THESIS),
    440,
  );
});

Deno.test("WEIGHTED is 0.3 × p90 + 0.7 × the IQR above 1.5 × the candidates' median IQR", () => {
  assert.deepEqual(WEIGHTED.weights, { p90: 0.3, iqr_excess: 0.7 });
  assert.equal(INSTRUMENT_IQR_FACTOR, 1.5);
  const iqr = (addr: string, p90: number, iqrUs: number, stddevUs = 50) => ({
    addr,
    stats: stats({
      p25Us: 150,
      p75Us: 150 + iqrUs,
      p90Us: 400 + p90,
      stddevUs,
    }),
  });
  // Median IQR 100: 150 is the threshold; "wide" (IQR 250) pays 0.7 x 100.
  const cands = [
    iqr("a", 0, 90),
    iqr("b", 0, 100),
    iqr("c", 0, 100),
    iqr("wide", 0, 250),
  ];
  const got = select(cands, { keep: 4, type: "BEST", strategy: WEIGHTED });
  assert.deepEqual(got.scores, { a: 120, b: 120, c: 120, wide: 190 });
  assert.deepEqual(got.kept, ["a", "b", "c", "wide"]);
  // Alone, a candidate is its own reference: no excess.
  assert.equal(score(iqr("x", 0, 250).stats, WEIGHTED), 120);
  // The stddev, the instrument's spread as much as the VM's, does not count.
  const calm = select([iqr("s", 0, 100, 500), iqr("t", 5, 100, 10)], {
    keep: 1,
    type: "BEST",
    strategy: WEIGHTED,
  });
  assert.deepEqual(calm.kept, ["s"]);
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
  assert.equal(score(stats({ lost: 3 }), custom({ mean: 1, lost: 100 })), 510);
  assert.equal(score(s, custom({ iqr: 1 })), 100);
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

Deno.test("WEIGHTED and WEIGHTED-THESIS can rank differently from P90", () => {
  const cands: Candidate[] = [
    { addr: "steady", stats: stats({ p90Us: 400, stddevUs: 10 }) },
    {
      addr: "jittery",
      stats: stats({ p25Us: 100, p75Us: 500, p90Us: 300, stddevUs: 200 }),
    },
    { addr: "steady2", stats: stats({ p90Us: 410, stddevUs: 10 }) },
  ];
  const best = (strategy: Strategy) =>
    select(cands, { keep: 1, type: "BEST", strategy }).kept;
  assert.deepEqual(best(P90), ["jittery"]);
  assert.deepEqual(best(THESIS), ["steady"]); // 127 < 230
  // Median IQR 100: jittery's 400 is 250 in excess, 0.3 x 300 + 175 > 120.
  assert.deepEqual(best(WEIGHTED), ["steady"]);
});

/** Seeded uniform draws in [0, 1) (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * One parent's stage as a loaded local testbed measures it (BENCHMARKS.md,
 * "Stragglers 15 µs slower"): 5 candidates, 2 of them stragglers whose
 * every delay is 15 µs ± 5 later; every candidate's spread mostly the
 * instrument's (stddev 40-200 µs, IQR 45 ± 8 µs), its quantiles a few µs
 * apart.
 */
function stragglerStage(seed: number): Candidate[] {
  const r = rng(seed);
  return ["n1", "n2", "n3", "s1", "s2"].map((addr) => {
    const shift = addr.startsWith("s") ? 10 + 10 * r() : 0;
    const p50 = 35 + shift + 4 * r(), iqr = 37 + 16 * r();
    return {
      addr,
      stats: stats({
        minUs: 20 + shift,
        p25Us: p50 - iqr / 2,
        p50Us: p50,
        p75Us: p50 + iqr / 2,
        p90Us: 110 + shift + 6 * r(),
        p99Us: 400 + shift + 100 * r(),
        p999Us: 900 + shift,
        maxUs: 1500 + shift,
        meanUs: 60 + shift,
        stddevUs: 40 + 160 * r(),
      }),
    };
  });
}

Deno.test("stragglers 15 µs slower, the instrument's spread in the stddev: WEIGHTED keeps them out, WEIGHTED-THESIS does not", () => {
  const keptStragglers = (strategy: Strategy, seed: number) =>
    select(stragglerStage(seed), { keep: 2, type: "BEST", strategy }).kept
      .filter((a) => a.startsWith("s")).length;
  const seeds = [1, 2, 3, 4, 5, 6, 7, 8];
  for (const seed of seeds) {
    assert.equal(keptStragglers(WEIGHTED, seed), 0, `WEIGHTED, seed ${seed}`);
    assert.equal(keptStragglers(P90, seed), 0, `P90, seed ${seed}`);
  }
  const thesisIn = seeds.filter((seed) => keptStragglers(THESIS, seed) > 0);
  assert.ok(thesisIn.length >= 3, `WEIGHTED-THESIS kept some in ${thesisIn}`);
});

Deno.test("a percentile is over every message sent, a lost one infinitely late", () => {
  const s = stats();
  for (const [q, v] of [[0, 100], [0.5, 200], [0.9, 300], [1, 600]]) {
    assert.equal(percentileOverSent(s, q!), v);
  }
  // 2 % lost (20 of 1,020 sent): p90 is read at 91.8 % of the received,
  // between p90 (300) and p99 (400).
  const lossy = stats({ lost: 20, received: 1000 });
  assert.ok(Math.abs(percentileOverSent(lossy, 0.9) - 320) < 1e-9);
  assert.ok(Math.abs(score(lossy, P90) - 320) < 1e-9);
  // 15 % lost: beyond what a p90 can hide, but not a p50.
  const many = stats({ lost: 150, received: 850 });
  assert.equal(score(many, P90), Infinity);
  // 80 % lost: beyond even the IQR's p75; lossy still, not failed.
  const most = stats({ lost: 800, received: 200 });
  assert.equal(score(most, { name: "CUSTOM", weights: { iqr: 1 } }), Infinity);
  const kept = select([{ addr: "m", stats: most }, ...byP90(100)], {
    keep: 2,
    type: "BEST",
    strategy: WEIGHTED,
  });
  assert.deepEqual(kept.kept, ["a", "m"]);
  assert.ok(
    Math.abs(percentileOverSent(many, 0.5) - (200 + 50 * 0.0882 / 0.25)) < 0.1,
  );
});

Deno.test("loss counts in every preset: a lossy candidate ranks after every other for BEST, first for WORST", () => {
  const cands: Candidate[] = [
    // Fast, but lost 20 % (more than a p90 hides), or 12 %.
    { addr: "a", stats: stats({ p90Us: 50, p50Us: 40, lost: 250 }) },
    { addr: "b", stats: stats({ p90Us: 60, lost: 136 }) },
    { addr: "c", stats: stats({ p90Us: 300 }) },
    { addr: "d", stats: stats({ p90Us: 350 }) },
  ];
  for (const strategy of [P90, WEIGHTED, THESIS]) {
    const best = select(cands, { keep: 4, type: "BEST", strategy });
    assert.deepEqual(best.kept, ["c", "d", "b", "a"], strategy.name);
    assert.equal(best.scores.a, Infinity);
    const worst = select(cands, { keep: 2, type: "WORST", strategy });
    assert.deepEqual(worst.kept, ["a", "b"], strategy.name);
  }
  // P50 hides up to half: 20 % lost reads its p50 at 62.5 % of the received.
  const p50: Strategy = { name: "P50", weights: { ...STRATEGY_WEIGHTS.P50 } };
  const lost = stats({ p50Us: 200, lost: 250 });
  assert.equal(score(lost, p50), 200 + 50 * 0.125 / 0.25);
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
  // WEIGHTED-THESIS: 0.3 x (p90 - offset) + 0.7 x stddev; the spread is
  // not shifted, nor is the IQR.
  assert.ok(
    Math.abs(score(skewed, THESIS, "correct") - (0.3 * 50 + 0.7 * 40)) <
      1e-9,
  );
  assert.equal(
    score(skewed, { name: "CUSTOM", weights: { iqr: 1 } }, "correct"),
    100,
  );
  // No echo came back: nothing to correct by.
  assert.equal(score(stats({ p90Us: 350 }), P90, "correct"), 350);
});
