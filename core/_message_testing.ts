/**
 * Test helpers of the per-message figures: a seeded generator and the
 * brute-force reference every accumulated figure is compared with.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { MessageFigures } from "./message_figures.ts";
import { nearestRank } from "./quantile.ts";
import { mulberry32 } from "./prng.ts";

/** A seeded uniform generator in [0, 1) (mulberry32). */
export const seeded: (seed: number) => () => number = mulberry32;

/** What the brute force judges. */
export interface BruteInput {
  /** Per receiver, per message from `firstSeq`: its delay in the root's clock (ns), null if lost. */
  delays: (number | null)[][];
  firstSeq: number;
  window: number;
  percentile: number;
  marginUs: number;
  holdsUs: readonly number[];
}

/** Per message and per window, what the receivers' delays reduce to. */
export interface Reduced {
  firstSeq: number;
  /** Per message: the largest and smallest delay, and how many got it. */
  worst: number[];
  best: number[];
  count: number[];
  /** Per window index: the largest receiver's percentile in it. */
  windowMax: Map<number, number>;
  /** The seqs judged (default: all). */
  judged?: (seq: number) => boolean;
}

/** Reduces every receiver's delays by the definitions. */
export function bruteReduce(b: BruteInput): Reduced {
  const n = b.delays[0]!.length;
  const r: Reduced = {
    firstSeq: b.firstSeq,
    worst: [],
    best: [],
    count: [],
    windowMax: new Map(),
  };
  for (let i = 0; i < n; i++) {
    const got = b.delays.map((d) => d[i]!).filter((x) => x !== null);
    r.worst.push(got.length ? Math.max(...got) : NaN);
    r.best.push(got.length ? Math.min(...got) : NaN);
    r.count.push(got.length);
  }
  for (const d of b.delays) {
    const by = new Map<number, number[]>();
    d.forEach((x, i) => {
      if (x === null) return;
      const w = Math.floor((b.firstSeq + i) / b.window);
      by.set(w, [...(by.get(w) ?? []), x]);
    });
    for (const [w, xs] of by) {
      const v = percentileOf(xs, b.percentile);
      r.windowMax.set(w, Math.max(r.windowMax.get(w) ?? -Infinity, v));
    }
  }
  return r;
}

/** The p-th percentile of `xs` by nearest rank (sorts `xs`). */
export function percentileOf(xs: number[], p: number): number {
  xs.sort((a, b) => a - b);
  return xs[nearestRank(p, xs.length) - 1]!;
}

/** The figures by their definitions, over every delay (histograms left out). */
export function bruteFigures(b: BruteInput) {
  return bruteFromReduced(bruteReduce(b), b.delays.length, b);
}

/** The figures by their definitions from per-message reductions. */
export function bruteFromReduced(
  r: Reduced,
  R: number,
  b: Omit<BruteInput, "delays" | "firstSeq">,
) {
  const clip = (x: number) => Math.max(0, x);
  const worst: number[] = [], best: number[] = [], win: number[] = [];
  let lost = 0, never = 0, negative = 0;
  const fairAt = b.holdsUs.map(() => 0);
  let judged = 0, adaptiveFair = 0;
  let n = 0;
  for (let i = 0; i < r.worst.length; i++) {
    if (r.judged && !r.judged(r.firstSeq + i)) continue;
    n++;
    const w = Math.floor((r.firstSeq + i) / b.window);
    let deadline: number | undefined;
    for (let v = w - 1; v >= 0; v--) {
      if (r.windowMax.has(v)) {
        deadline = clip(r.windowMax.get(v)!) + b.marginUs * 1000;
        break;
      }
    }
    if (deadline !== undefined) judged++;
    if (r.count[i]! > 0 && r.best[i]! < 0) negative++;
    if (r.count[i]! < R) {
      lost++;
      if (r.count[i] === 0) never++;
      continue;
    }
    const hi = clip(r.worst[i]!), lo = clip(r.best[i]!);
    worst.push(hi);
    best.push(lo);
    win.push(hi - lo);
    b.holdsUs.forEach((h, k) => hi <= h * 1000 && fairAt[k]!++);
    if (deadline !== undefined && hi <= deadline) adaptiveFair++;
  }
  const dist = (xs: number[]) => {
    xs.sort((p, q) => p - q);
    const q = (p: number) => {
      const rank = nearestRank(p, xs.length + lost);
      return rank > xs.length ? null : xs[rank - 1]! / 1000;
    };
    return {
      p50Us: q(50),
      p90Us: q(90),
      p99Us: q(99),
      p999Us: q(99.9),
      maxUs: lost > 0 || xs.length === 0 ? null : xs[xs.length - 1]! / 1000,
    };
  };
  const latency = dist(worst);
  return {
    messages: n,
    lost,
    neverReceived: never,
    negative,
    latency,
    best: dist(best),
    window: dist(win),
    holds: b.holdsUs.map((holdUs, k) => ({
      holdUs,
      fairShare: fairAt[k]! / n,
    })),
    hold99Us: latency.p99Us,
    hold999Us: latency.p999Us,
    adaptive: { judged, fairShare: judged ? adaptiveFair / judged : 0 },
  };
}

/**
 * Asserts `got` equals the brute force: counts and shares exactly,
 * quantiles to the histogram's resolution (the highest value of the exact
 * value's bucket: never below it, at most 0.1 % above; exact under 2 µs).
 */
export function assertFigures(
  got: MessageFigures,
  want: ReturnType<typeof bruteFigures>,
): void {
  assert.equal(got.messages, want.messages);
  assert.equal(got.lost, want.lost);
  assert.equal(got.neverReceived, want.neverReceived);
  assert.equal(got.negative, want.negative);
  for (const k of ["latency", "best", "window"] as const) {
    for (const q of ["p50Us", "p90Us", "p99Us", "p999Us", "maxUs"] as const) {
      _near(got[k][q], want[k][q], `${k}.${q}`);
    }
  }
  assert.deepEqual(got.fairness.holds, want.holds);
  _near(got.fairness.hold99Us, want.hold99Us, "hold99Us");
  _near(got.fairness.hold999Us, want.hold999Us, "hold999Us");
  assert.equal(got.fairness.adaptive.judged, want.adaptive.judged);
  assert.equal(got.fairness.adaptive.fairShare, want.adaptive.fairShare);
}

function _near(got: number | null, want: number | null, what: string): void {
  if (want === null || got === null) return assert.equal(got, want, what);
  assert.ok(
    got >= want && got <= want * 1.001 + 1e-9,
    `${what}: ${got} µs, exact ${want} µs`,
  );
}
