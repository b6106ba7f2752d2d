/**
 * Scoring probed candidates and choosing which a parent keeps.
 *
 * A candidate's score is the weighted sum of its probe statistics, as its
 * {@link Strategy} says (e.g. WEIGHTED = 0.3 × p90 + 0.7 × iqr_excess,
 * the IQR above 1.5 × the median IQR of the candidates probed with it; the
 * thesis's WEIGHTED-THESIS = 0.3 × p90 + 0.7 × stddev; see
 * `STRATEGY_WEIGHTS` in `defaults.ts`). Lower is better: BEST keeps the
 * lowest scores, WORST the highest. (RANDOM trees are drawn from the pool
 * without probing, `roots.ts`: they never select.)
 *
 * Loss counts in every percentile (and so in P90, P50 and WEIGHTED): a
 * percentile is taken over every message sent, a lost one counting as
 * infinitely late ({@link percentileOverSent}). A candidate that lost 2 %
 * has its p90 read at the 91.8th percentile of what it received; one that
 * lost more than the share a percentile it is scored on can hide (10 % for
 * p90) scores `Infinity` there and is "lossy": it ranks after every
 * candidate that is not, the lossy ones among themselves by the share they
 * lost (fewer first). mean, stddev and `lost` itself are over the
 * received messages.
 *
 * A candidate that failed (no statistics, or nothing received) is never
 * kept, by BEST or by WORST: a worst tree is built from the slowest
 * workers that work, not from broken ones. A candidate whose probe stopped
 * before its stream ended (partial statistics) ranks after every complete
 * one ({@link partialLast}).
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

/** The statistics that are a field of {@link ProbeStats} (not the IQRs). */
type Field = Exclude<Stat, "iqr" | "iqr_excess">;

/** The {@link ProbeStats} field each statistic of a strategy reads (`iqr` is p75 - p25). */
export const STAT_FIELDS: Readonly<Record<Field, NumericStatsField>> = {
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

/** The share of the messages below each percentile statistic. */
const SHARE: Readonly<Partial<Record<Stat, number>>> = {
  min: 0,
  p25: 0.25,
  p50: 0.5,
  p75: 0.75,
  p90: 0.9,
  p99: 0.99,
  p999: 0.999,
  max: 1,
};

/** The percentiles a probe reports: share, then field, in order. */
const PERCENTILES = Object.entries(SHARE).map(([stat, q]) =>
  [q, STAT_FIELDS[stat as keyof typeof STAT_FIELDS]] as const
);

/** The share of its messages a candidate lost, of those sent (0 to 1). */
export function lossShare(stats: ProbeStats): number {
  const sent = stats.received + stats.lost;
  return sent > 0 && stats.lost > 0 ? stats.lost / sent : 0;
}

/**
 * The `q` percentile (a share, 0 to 1) of every message sent, a lost one
 * counting as infinitely late: the `q × sent / received` percentile of the
 * received messages, linearly between the percentiles the probe reports;
 * `Infinity` when that lies in the lost tail (beyond what was received).
 * With nothing lost, exactly the reported percentile.
 */
export function percentileOverSent(stats: ProbeStats, q: number): number {
  const r = stats.lost > 0
    ? q * (stats.received + stats.lost) / stats.received
    : q;
  if (r > 1) return Infinity;
  for (let i = 1; i < PERCENTILES.length; i++) {
    const [q1, f1] = PERCENTILES[i]!;
    if (r > q1) continue;
    const [q0, f0] = PERCENTILES[i - 1]!;
    const v0 = stats[f0], v1 = stats[f1];
    return r === q1 ? v1 : v0 + (v1 - v0) * (r - q0) / (q1 - q0);
  }
  return stats.maxUs;
}

/** A candidate's interquartile range (p75 - p25), over every message sent. */
export function iqrOverSent(stats: ProbeStats): number {
  const p75 = percentileOverSent(stats, 0.75);
  // Lost beyond a quarter: infinitely wide (not Infinity - Infinity).
  return p75 === Infinity ? p75 : p75 - percentileOverSent(stats, 0.25);
}

/**
 * How far above the median IQR of the candidates probed with it a
 * candidate's IQR must lie before `iqr_excess` counts it: the instrument's
 * own spread (the probes, the parent's sending, the hosts' scheduling) is
 * shared by the candidates one parent probes at once, and 1.5 x its median
 * leaves it out (measured: BENCHMARKS.md, "Stragglers 15 µs slower").
 */
export const INSTRUMENT_IQR_FACTOR = 1.5;

/**
 * The median IQR (over every message sent) of candidates probed together:
 * the reference of `iqr_excess`. NaN with no usable candidate.
 */
export function medianIqr(stats: readonly ProbeStats[]): number {
  const v = stats.filter((s) => s.received > 0).map(iqrOverSent)
    .filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

/**
 * One statistic of a candidate, as {@link score} weighs it. `iqr_excess`
 * is its IQR above {@link INSTRUMENT_IQR_FACTOR} x `medianIqrUs` (the
 * candidates' probed with it; without, its own: 0), never below 0.
 */
export function statValue(
  stats: ProbeStats,
  stat: Stat,
  medianIqrUs?: number,
): number {
  if (stat === "iqr") return iqrOverSent(stats);
  if (stat === "iqr_excess") {
    const iqr = iqrOverSent(stats);
    const ref = medianIqrUs !== undefined && Number.isFinite(medianIqrUs)
      ? medianIqrUs
      : iqr;
    return iqr === Infinity
      ? iqr
      : Math.max(0, iqr - INSTRUMENT_IQR_FACTOR * ref);
  }
  const q = SHARE[stat];
  return q === undefined
    ? stats[STAT_FIELDS[stat]]
    : percentileOverSent(stats, q);
}

/**
 * The weighted sum of the statistics `strategy` names, in microseconds for
 * delays and packets for `lost`. `Infinity` when the candidate failed (no
 * statistics, nothing received, a statistic that is not a number) or is
 * lossy: it lost more than a percentile it is scored on can hide.
 * `medianIqrUs`: the reference of `iqr_excess` ({@link medianIqr}).
 */
export function score(
  measured: ProbeStats | undefined,
  strategy: Strategy,
  offsets: OffsetPolicy = "trust",
  medianIqrUs?: number,
): number {
  if (measured === undefined || !(measured.received > 0)) return Infinity;
  const stats = corrected(measured, offsets);
  let sum = 0;
  for (const stat of STATS) {
    const w = strategy.weights[stat] ?? 0;
    if (w !== 0) sum += w * statValue(stats, stat, medianIqrUs);
  }
  return Number.isNaN(sum) ? Infinity : sum;
}

/** Whether a candidate failed: no statistics, nothing received, or a statistic that is not a number. */
function failed(c: Candidate, strategy: Strategy): boolean {
  const s = c.stats;
  if (s === undefined || !(s.received > 0)) return true;
  return STATS.some((stat) =>
    (strategy.weights[stat] ?? 0) !== 0 && Number.isNaN(statValue(s, stat))
  );
}

/**
 * Chooses the `keep` candidates a parent keeps as children. BEST keeps the
 * lowest scores and WORST the highest, both among the candidates that did
 * not fail, ties broken by address; a lossy candidate (score `Infinity`)
 * ranks after every other for BEST, before for WORST, the lossy ones by
 * the share they lost. Throws if there are fewer usable candidates than
 * `keep` or if addresses repeat.
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
  const ref = medianIqr(candidates.flatMap((c) => c.stats ? [c.stats] : []));
  const scores: Record<string, number> = {};
  for (const c of candidates) {
    scores[c.addr] = score(c.stats, strategy, offsets, ref);
  }
  const usable = candidates.filter((c) => !failed(c, strategy));
  _enough(keep, usable.length, {
    type,
    of: candidates.length,
    failed: candidates.filter((c) => failed(c, strategy)).map((c) => c.addr),
  });
  const sign = type === "BEST" ? 1 : -1;
  // Lossy candidates (Infinity) compare by the share they lost.
  const key = (c: Candidate) => {
    const s = scores[c.addr]!;
    return s < Infinity ? [0, s] : [1, lossShare(c.stats!)];
  };
  const ranked = usable.map((c) => ({
    addr: c.addr,
    k: key(c),
    partial: c.stats?.partial === true,
  }))
    .sort((a, b) =>
      a.k[0] !== b.k[0]
        ? sign * (a.k[0]! - b.k[0]!)
        : a.k[1] !== b.k[1]
        ? sign * (a.k[1]! - b.k[1]!)
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

/** The statistics a clock offset shifts: the delays (not the spreads, nor lost). */
export const SHIFTED_STATS: readonly Field[] = STATS.filter((s): s is Field =>
  s in STAT_FIELDS && s !== "stddev" && s !== "lost"
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
