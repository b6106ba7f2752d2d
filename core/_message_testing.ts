/**
 * Test helpers of the per-message figures: a seeded generator and the
 * brute-force reference every accumulated figure is compared with.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { MessageFigures } from "./message_figures.ts";
import { nearestRank } from "./message_parts.ts";

/** A seeded uniform generator in [0, 1) (mulberry32). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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

/** The figures by their definitions, over every delay (histograms left out). */
export function bruteFigures(b: BruteInput) {
  const R = b.delays.length;
  const n = b.delays[0]!.length;
  const clip = (x: number) => Math.max(0, x);
  const worst: number[] = [], best: number[] = [], win: number[] = [];
  let lost = 0, never = 0, negative = 0;
  const fairAt = b.holdsUs.map(() => 0);
  // Per window: the largest receiver's percentile of its delays in it.
  const windowMax = new Map<number, number>();
  for (const d of b.delays) {
    const by = new Map<number, number[]>();
    d.forEach((x, i) => {
      if (x === null) return;
      const w = Math.floor((b.firstSeq + i) / b.window);
      by.set(w, [...(by.get(w) ?? []), x]);
    });
    for (const [w, xs] of by) {
      xs.sort((p, q) => p - q);
      const v = xs[nearestRank(b.percentile, xs.length) - 1]!;
      windowMax.set(w, Math.max(windowMax.get(w) ?? -Infinity, v));
    }
  }
  let judged = 0, adaptiveFair = 0;
  for (let i = 0; i < n; i++) {
    const got = b.delays.map((d) => d[i]!).filter((x) => x !== null);
    const w = Math.floor((b.firstSeq + i) / b.window);
    let deadline: number | undefined;
    for (let v = w - 1; v >= 0; v--) {
      if (windowMax.has(v)) {
        deadline = clip(windowMax.get(v)!) + b.marginUs * 1000;
        break;
      }
    }
    if (deadline !== undefined) judged++;
    if (got.length > 0 && Math.min(...got) < 0) negative++;
    if (got.length < R) {
      lost++;
      if (got.length === 0) never++;
      continue;
    }
    const hi = clip(Math.max(...got)), lo = clip(Math.min(...got));
    worst.push(hi);
    best.push(lo);
    win.push(hi - lo);
    b.holdsUs.forEach((h, k) => hi <= h * 1000 && fairAt[k]!++);
    if (deadline !== undefined && hi <= deadline) adaptiveFair++;
  }
  const dist = (xs: number[]) => {
    const all = [...xs.sort((p, q) => p - q), ...Array(lost).fill(Infinity)];
    const q = (p: number) => {
      const v = all[nearestRank(p, all.length) - 1]!;
      return v === Infinity ? null : v / 1000;
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
export function assertFigures(got: MessageFigures, want: ReturnType<typeof bruteFigures>): void {
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
