/**
 * Scoring probed candidates and choosing which a parent keeps.
 *
 * A candidate's score is the weighted sum of its probe statistics, as its
 * {@link Strategy} says (e.g. WEIGHTED = 0.3 × p90 + 0.7 × stddev, see
 * `STRATEGY_WEIGHTS` in `defaults.ts`). Lower is better: BEST keeps the
 * lowest scores, WORST the highest. (RANDOM trees are drawn from the pool
 * without probing, `roots.ts`: they never select.)
 *
 * A candidate that failed (no statistics, or nothing received) scores
 * `Infinity` and is never kept, by BEST or by WORST: a worst tree is built
 * from the slowest workers that work, not from broken ones. A candidate
 * whose probe stopped before its stream ended (partial statistics) ranks
 * after every complete one ({@link partialLast}).
 *
 * With `clocks: correct` a candidate's delays are scored minus the clock
 * offset its parent measured to it ({@link corrected}), so a child
 * whose clock lags its parent's does not look faster than it is.
 *
 * @module
 */
import type { ProbeStats } from "../proto/codec.ts";
import {
  type OffsetPolicy,
  type Stat,
  STATS,
  type Strategy,
} from "./script_types.ts";

/** The tree kinds that select among probed candidates. */
export type SelectType = "BEST" | "WORST";

/** The numeric fields of {@link ProbeStats}. */
export type NumericStatsField = {
  [K in keyof ProbeStats]-?: ProbeStats[K] extends number ? K : never;
}[keyof ProbeStats];

/** The {@link ProbeStats} field each statistic of a strategy reads. */
export const STAT_FIELDS: Readonly<Record<Stat, NumericStatsField>> = {
  min: "minUs",
  p25: "p25Us",
  p50: "p50Us",
  p75: "p75Us",
  p90: "p90Us",
  p99: "p99Us",
  p999: "p999Us",
  max: "maxUs",
  mean: "meanUs",
  stddev: "stddevUs",
  lost: "lost",
};

/** A probed candidate: its address and, unless its probe failed, statistics. */
export interface Candidate {
  addr: string;
  stats?: ProbeStats;
}

/** Options of {@link select}. */
export interface SelectOptions {
  /** How many candidates to keep (the fanout). */
  keep: number;
  type: SelectType;
  strategy: Strategy;
  /** Score the delays as measured (default) or corrected by each pair's offset. */
  offsets?: OffsetPolicy;
}

/** What {@link select} chose. */
export interface Selection {
  /** The kept addresses, best first for BEST, worst first for WORST. */
  kept: string[];
  /** Every candidate's score (`Infinity` for a failed one). */
  scores: Record<string, number>;
}

/**
 * The weighted sum of the statistics `strategy` names, in microseconds for
 * delays and packets for `lost`. `Infinity` when the candidate failed: no
 * statistics, nothing received, or a statistic that is not a number.
 */
export function score(
  measured: ProbeStats | undefined,
  strategy: Strategy,
  offsets: OffsetPolicy = "trust",
): number {
  if (measured === undefined || !(measured.received > 0)) return Infinity;
  const stats = corrected(measured, offsets);
  let sum = 0;
  for (const stat of STATS) {
    const w = strategy.weights[stat] ?? 0;
    if (w !== 0) sum += w * stats[STAT_FIELDS[stat]];
  }
  return Number.isNaN(sum) ? Infinity : sum;
}

/**
 * Chooses the `keep` candidates a parent keeps as children. BEST keeps the
 * lowest scores and WORST the highest, both among the candidates that did
 * not fail, ties broken by address. Throws if there are fewer usable
 * candidates than `keep` or if addresses repeat.
 */
export function select(
  candidates: readonly Candidate[],
  opts: SelectOptions,
): Selection {
  const { keep, type, strategy, offsets = "trust" } = opts;
  if (!Number.isSafeInteger(keep) || keep < 0) {
    throw new RangeError(
      `Cannot select ${keep} candidates: keep must be a whole number`,
    );
  }
  const addrs = new Set<string>();
  for (const c of candidates) {
    if (addrs.has(c.addr)) {
      throw new Error(`Cannot select candidates: "${c.addr}" is listed twice`);
    }
    addrs.add(c.addr);
  }
  const scores: Record<string, number> = {};
  for (const c of candidates) {
    scores[c.addr] = score(c.stats, strategy, offsets);
  }
  const usable = candidates.filter((c) => scores[c.addr]! < Infinity);
  const failed = candidates.filter((c) => !(scores[c.addr]! < Infinity));
  _enough(keep, usable.length, {
    type,
    of: candidates.length,
    failed: failed.map((c) => c.addr),
  });
  const sign = type === "BEST" ? 1 : -1;
  const ranked = usable.map((c) => ({
    addr: c.addr,
    s: scores[c.addr]!,
    partial: c.stats?.partial === true,
  }))
    .sort((a, b) =>
      a.s !== b.s
        ? sign * (a.s - b.s)
        : a.addr < b.addr
        ? -1
        : a.addr > b.addr
        ? 1
        : 0
    );
  return {
    kept: partialLast(ranked).slice(0, keep).map((c) => c.addr),
    scores,
  };
}

/**
 * `ranked` with the candidates whose statistics are partial (their probe
 * stopped before its stream ended, `ProbeStats.partial`) after every
 * complete one, each group in its order: part of a stream is never scored
 * as if it were all of it, so it is kept only when too few complete
 * candidates are left.
 */
export function partialLast<T extends { partial: boolean }>(
  ranked: readonly T[],
): T[] {
  return [
    ...ranked.filter((c) => !c.partial),
    ...ranked.filter((c) => c.partial),
  ];
}

function _enough(
  keep: number,
  usable: number,
  at: { type: SelectType; of: number; failed: string[] },
): void {
  if (usable >= keep) return;
  const failed = at.failed.length === 0
    ? ""
    : ` (failed: ${at.failed.map((a) => `"${a}"`).join(", ")})`;
  throw new Error(
    `Cannot select ${keep} children for a ${at.type} tree: only ${usable} of ` +
      `${at.of} candidates are usable${failed}`,
  );
}

/** The statistics a clock offset shifts: the delays (not stddev, a spread, nor lost). */
export const SHIFTED_STATS: readonly Stat[] = STATS.filter((s) =>
  s !== "stddev" && s !== "lost"
);

/** Whether `offsets` corrects these statistics: `correct`, and an offset measured. */
export function isCorrected(stats: ProbeStats, offsets: OffsetPolicy): boolean {
  return offsets === "correct" && stats.offsetUs !== undefined &&
    !!stats.offsetSamples;
}

/**
 * Delays counted as 0 at the receiver (they came out negative) before a
 * correction shifted them (undefined: none, or not corrected). The probe
 * clips when it records, so the corrected low percentiles of such a
 * receiver are its offset, not a delay: its score is flagged, not fixed
 * (the per-message figures correct first and clip after).
 */
export function clippedBeforeCorrection(
  stats: ProbeStats | undefined,
  offsets: OffsetPolicy,
): number | undefined {
  return stats && stats.negative > 0 && isCorrected(stats, offsets)
    ? stats.negative
    : undefined;
}

/**
 * The statistics as `offsets` says to score them: with `correct` and an
 * offset measured for the pair, every delay figure minus the offset (the
 * receiver's clock minus its sender's), the spread unchanged; else as
 * measured.
 */
export function corrected(
  stats: ProbeStats,
  offsets: OffsetPolicy,
): ProbeStats {
  const off = stats.offsetUs;
  if (!isCorrected(stats, offsets) || off === undefined) return stats;
  const out = { ...stats };
  for (const s of SHIFTED_STATS) {
    const k = STAT_FIELDS[s];
    out[k] = stats[k] - off;
  }
  return out;
}
