/**
 * One-way-delay statistics in bounded memory, however long the stream:
 * a latency histogram (HdrHistogram, values in nanoseconds, 3 significant
 * digits), running sums for min, max, mean and standard deviation, and a
 * per-second series capped at {@link SERIES_CAP} entries. Nothing is kept
 * per packet.
 *
 * ## Percentiles: nearest rank
 * The p-th percentile of n samples is the sample of rank
 * `k = max(1, ceil(p / 100 * n))` in ascending order (no interpolation).
 * For the samples 1..10: p25 = 3, p50 = 5, p75 = 8, p90 = 9, p99 = p99.9 = 10.
 * From the histogram, the sample of rank k is known to its bucket (within
 * 0.1%); the value reported is the bucket's highest value (as
 * HdrHistogram's `getValueAtPercentile` does, so figures recomputed from the
 * encoded histogram agree), clamped to the exact min and max seen.
 *
 * Mean and standard deviation (population, divided by n) are exact, from
 * Welford's running sums; min and max are exact.
 *
 * @module
 */
import * as hdr from "hdr-histogram-js";
import { histogramPercentiles, nearestRank } from "../core/quantile.ts";
import { HISTOGRAM_DIGITS, HISTOGRAM_MAX_NS, SERIES_CAP } from "./defaults.ts";

export { histogramPercentiles, nearestRank };

/** Delay percentiles and moments, µs; all null when nothing was recorded. */
export interface LatencySummary {
  min: number | null;
  p25: number | null;
  p50: number | null;
  p75: number | null;
  p90: number | null;
  p99: number | null;
  p999: number | null;
  max: number | null;
  mean: number | null;
  stddev: number | null;
}

/** One second of the stream (`t` = seconds since the first recorded packet). */
export interface SeriesPoint {
  t: number;
  count: number;
  p50_us: number;
  p90_us: number;
  stddev_us: number;
}

/** The p-th percentile of ascending `sorted` values by nearest rank (reference for tests). */
export function percentileOf(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new RangeError("No values");
  return sorted[nearestRank(p, sorted.length) - 1]!;
}

/** A new latency histogram as every probe records it (ns, 3 digits, up to 60 s). */
export function newHistogram(): hdr.JsHistogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HISTOGRAM_MAX_NS,
    numberOfSignificantValueDigits: HISTOGRAM_DIGITS,
    autoResize: false,
    useWebAssembly: false,
  }) as hdr.JsHistogram;
}

/** Running count, mean and sum of squared deviations (Welford). */
class _Moments {
  n = 0;
  mean = 0;
  m2 = 0;
  min = Infinity;
  max = -Infinity;
  add(x: number): void {
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
    this.n++;
    const d = x - this.mean;
    this.mean += d / this.n;
    this.m2 += d * (x - this.mean);
  }
  get stddev(): number {
    return this.n > 0 ? Math.sqrt(this.m2 / this.n) : 0;
  }
  /** Clamps a histogram value (quantized) into the exact range seen. */
  clamp(v: number): number {
    return v < this.min ? this.min : v > this.max ? this.max : v;
  }
  reset(): void {
    this.min = Infinity;
    this.max = -Infinity;
    this.n = 0;
    this.mean = 0;
    this.m2 = 0;
  }
}

const SUMMARY_PS = [25, 50, 75, 90, 99, 99.9] as const;

/** Delay statistics of one receiver; see the module doc. */
export class LatencyStats {
  #all = newHistogram();
  #sec = newHistogram();
  #moments = new _Moments();
  #secMoments = new _Moments();
  #t = -1;
  #series: SeriesPoint[] = [];
  #seriesDropped = 0;
  #negative = 0;

  /**
   * Records one delay in ns, observed in second `t` of the stream. A
   * negative delay (clock offset between hosts) is recorded as 0 and counted.
   */
  record(delayNs: number, t: number): void {
    let x = delayNs;
    if (x < 0) {
      x = 0;
      this.#negative++;
    }
    if (t !== this.#t) this.#rollTo(t);
    const v = Math.round(x < HISTOGRAM_MAX_NS ? x : HISTOGRAM_MAX_NS);
    this.#all.recordValue(v);
    this.#sec.recordValue(v);
    this.#moments.add(x);
    this.#secMoments.add(x);
  }

  /** Samples recorded. */
  get count(): number {
    return this.#moments.n;
  }

  /** Delays that were negative (recorded as 0). */
  get negative(): number {
    return this.#negative;
  }

  /** Seconds not kept in the series because it reached its cap. */
  get seriesDropped(): number {
    return this.#seriesDropped;
  }

  /** The summary in µs (percentiles by nearest rank, see the module doc). */
  summary(): LatencySummary {
    if (this.count === 0) {
      return {
        min: null,
        p25: null,
        p50: null,
        p75: null,
        p90: null,
        p99: null,
        p999: null,
        max: null,
        mean: null,
        stddev: null,
      };
    }
    const m = this.#moments;
    const [p25, p50, p75, p90, p99, p999] = histogramPercentiles(
      this.#all,
      SUMMARY_PS,
    ).map(
      (v) => _us(m.clamp(v)),
    );
    return {
      min: _us(m.min),
      p25: p25!,
      p50: p50!,
      p75: p75!,
      p90: p90!,
      p99: p99!,
      p999: p999!,
      max: _us(m.max),
      mean: _us(m.mean),
      stddev: _us(m.stddev),
    };
  }

  /** The per-second series, including the current (last, maybe partial) second. */
  series(): SeriesPoint[] {
    const out = this.#series.slice();
    const current = this.#point();
    if (current && out.length < SERIES_CAP) out.push(current);
    return out;
  }

  /** The histogram (ns), as HdrHistogram's compressed base64. */
  encodedHistogram(): string {
    return hdr.encodeIntoCompressedBase64(this.#all);
  }

  #point(): SeriesPoint | null {
    const m = this.#secMoments;
    if (m.n === 0) return null;
    const [p50, p90] = histogramPercentiles(this.#sec, [50, 90]);
    return {
      t: this.#t,
      count: m.n,
      p50_us: _us(m.clamp(p50!)),
      p90_us: _us(m.clamp(p90!)),
      stddev_us: _us(m.stddev),
    };
  }

  #rollTo(t: number): void {
    const done = this.#point();
    if (done) {
      if (this.#series.length < SERIES_CAP) this.#series.push(done);
      else this.#seriesDropped++;
    }
    this.#sec.reset();
    this.#secMoments.reset();
    this.#t = t;
  }
}

/** ns -> µs, to the nanosecond. */
function _us(ns: number): number {
  return Math.round(ns) / 1000;
}
