/**
 * Nearest-rank percentiles, the one definition every figure of treecast uses:
 * a probe's statistics (`probes/stats.ts`), the per-message parts and figures
 * (`core/message_parts.ts`, `core/message_figures.ts`) and the manager's
 * worst-leaf score (`manager/eval_nodes.ts`). Pure.
 *
 * @module
 */
import type * as hdr from "hdr-histogram-js";

/** The nearest rank (1-based) of the p-th percentile among n samples. */
export function nearestRank(p: number, n: number): number {
  // p * n / 100 in this order keeps whole results exact (e.g. 29 * 100 / 100);
  // the epsilon absorbs a last-bit error such as 99.9 * 1000 = 99900.00000000001.
  return Math.min(n, Math.max(1, Math.ceil((p * n) / 100 - 1e-9)));
}

/**
 * Values at several nearest-rank percentiles of `h` in one pass, as the
 * highest value of the ranked sample's bucket.
 */
export function histogramPercentiles(
  h: hdr.JsHistogram,
  ps: readonly number[],
): number[] {
  const n = h.totalCount;
  const out = ps.map(() => 0);
  if (n === 0) return out;
  const ranks = ps.map((p) => nearestRank(p, n));
  let seen = 0;
  for (let i = 0; i < h.countsArrayLength; i++) {
    const c = h.getCountAtIndex(i);
    if (c === 0) continue;
    seen += c;
    for (let j = 0; j < ranks.length; j++) {
      if (ranks[j]! <= seen && ranks[j]! > seen - c) {
        out[j] = h.highestEquivalentValue(h.valueFromIndex(i));
      }
    }
    if (seen >= n) break;
  }
  return out;
}
