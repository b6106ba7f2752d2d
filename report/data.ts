/**
 * What the report shows, derived from a results document: pure functions,
 * no rendering. Delays are microseconds throughout (the recorded
 * histograms hold nanoseconds and are converted here).
 *
 * @module
 */
import * as hdr from "hdr-histogram-js";
import {
  type EvalNode,
  type EvaluationResult,
  leafDelays,
  type Results,
  type TreeResult,
} from "../core/results.ts";

/** A tree as the report names it: `data-tree` attributes and chart legends. */
export interface TreeView {
  /** Unique within the report: the tree's name, plus its root when reused. */
  label: string;
  tree: TreeResult;
  /** The evaluation the drawing and charts show (the last one with data). */
  shown?: EvaluationResult;
  /** Workers of the tree that emulate a slow VM. */
  slow: Set<string>;
}

/** One point of a cumulative distribution. */
export interface CdfPoint {
  us: number;
  /** Share of packets with a delay of at most `us`, 0..1. */
  fraction: number;
}

/** One leaf's delay distribution in one tree. */
export interface LeafCurve {
  tree: string;
  leaf: string;
  worst: boolean;
  slow: boolean;
  points: CdfPoint[];
}

/** The percentiles a curve is sampled at: fine steps, finer in the tail. */
export const CDF_PERCENTILES: readonly number[] = (() => {
  const ps: number[] = [];
  for (let p = 0; p <= 99; p += 0.5) ps.push(p);
  for (let p = 99.1; p < 99.95; p += 0.1) ps.push(Math.round(p * 10) / 10);
  ps.push(99.95, 99.99, 100);
  return ps;
})();

/**
 * The CDF of a recorded histogram (HdrHistogram, compressed base64, values
 * in nanoseconds), in microseconds, sampled at {@link CDF_PERCENTILES}.
 * Each value is the highest of its bucket, as the probes report percentiles,
 * so a curve crosses 0.9 at the node's reported p90. Empty when the
 * histogram is empty or cannot be decoded.
 */
export function cdfPoints(histogram: string): CdfPoint[] {
  return mergedCdfPoints([histogram], 0);
}

/**
 * The CDF of histograms added together, as {@link cdfPoints}, over their
 * values and `above` more (lost messages, which rank above every value):
 * the curve tops out at the share that has a value. Histograms that cannot
 * be decoded are left out.
 */
export function mergedCdfPoints(
  histograms: readonly string[],
  above: number,
): CdfPoint[] {
  let sum: hdr.Histogram | undefined;
  try {
    for (const b64 of histograms) {
      let h: hdr.Histogram;
      try {
        h = hdr.decodeFromCompressedBase64(b64, 32, false);
      } catch {
        continue;
      }
      if (!sum) sum = h;
      else sum.add(h), h.destroy();
    }
    if (!sum || sum.totalCount === 0) return [];
    const share = sum.totalCount / (sum.totalCount + above);
    const out: CdfPoint[] = [];
    for (const p of CDF_PERCENTILES) {
      const us = sum.getValueAtPercentile(p) / 1000;
      const last = out[out.length - 1];
      // Drop repeats of a value: the step's top point carries it.
      if (last && last.us === us) last.fraction = share * p / 100;
      else out.push({ us, fraction: share * p / 100 });
    }
    return out;
  } finally {
    sum?.destroy();
  }
}

/** The evaluation a tree's drawing and charts show: the last with node data. */
export function shownEvaluation(
  t: TreeResult,
): EvaluationResult | undefined {
  for (let i = t.evaluations.length - 1; i >= 0; i--) {
    const e = t.evaluations[i]!;
    if (e.nodes.some((n) => n.stats)) return e;
  }
  return t.evaluations[t.evaluations.length - 1];
}

/** Every tree with a unique label, its shown evaluation and its stragglers. */
export function treeViews(results: Results): TreeView[] {
  const count = new Map<string, number>();
  for (const t of results.trees) {
    count.set(t.name, (count.get(t.name) ?? 0) + 1);
  }
  const emulating = new Set(
    results.workers.filter((w) => w.hello?.emulate).map((w) => w.addr),
  );
  return results.trees.map((tree) => {
    const shown = shownEvaluation(tree);
    const slow = new Set(tree.stragglers);
    for (const e of tree.evaluations) {
      for (const n of e.nodes) if (n.emulate) slow.add(n.addr);
    }
    for (const n of tree.nodes) if (n && emulating.has(n)) slow.add(n);
    return {
      label: count.get(tree.name)! > 1
        ? `${tree.name}@${tree.root}`
        : tree.name,
      tree,
      ...(shown ? { shown } : {}),
      slow,
    };
  });
}

/** Whether any worker of the run emulated a slow VM. */
export function anyEmulation(results: Results): boolean {
  return results.workers.some((w) => w.hello?.emulate) ||
    results.trees.some((t) =>
      t.stragglers.length > 0 ||
      t.evaluations.some((e) => e.nodes.some((n) => n.emulate))
    );
}

/** The leaves of an evaluation that reported statistics. */
export function leavesWithStats(e: EvaluationResult | undefined): EvalNode[] {
  return (e?.nodes ?? []).filter((n) => n.role === "leaf" && n.stats);
}

/** The CDF of every leaf of a tree's shown evaluation. */
export function leafCurves(v: TreeView): LeafCurve[] {
  const worst = v.shown?.worstLeaf?.addr;
  return leavesWithStats(v.shown).map((n) => ({
    tree: v.label,
    leaf: n.addr,
    worst: n.addr === worst,
    slow: v.slow.has(n.addr),
    points: cdfPoints(n.stats!.histogram),
  }));
}

/** One row of a per-second series: a leaf's second `t`. */
export interface SeriesRow {
  leaf: string;
  worst: boolean;
  t: number;
  p90Us: number;
  stddevUs: number;
  count: number;
}

/** The per-second p90 and stddev of every leaf of a tree's shown evaluation. */
export function seriesRows(v: TreeView): SeriesRow[] {
  const worst = v.shown?.worstLeaf?.addr;
  return leavesWithStats(v.shown).flatMap((n) =>
    (n.stats!.series ?? []).map((s) => ({
      leaf: n.addr,
      worst: n.addr === worst,
      t: s.t,
      p90Us: s.p90Us,
      stddevUs: s.stddevUs,
      count: s.count,
    }))
  );
}

/** One row of the summary table: a tree and one of its evaluations. */
export interface SummaryRow {
  tree: string;
  type: string;
  strategy: string;
  root: string;
  run?: number;
  worstLeaf?: string;
  /** Why the worst leaf received nothing, when it is a silent leaf. */
  silent?: string;
  p90Us?: number;
  p50Us?: number;
  meanUs?: number;
  stddevUs?: number;
  buildS: number;
  /** The tree's stragglers, in tree order. */
  stragglers: string[];
  /** Whether the worst leaf is itself a straggler. */
  worstSlow: boolean;
  status: string;
  error?: string;
}

/** Summary rows: one per tree and evaluation (one per tree without any). */
export function summaryRows(views: readonly TreeView[]): SummaryRow[] {
  return views.flatMap((v) => {
    const t = v.tree;
    const order = t.nodes.filter((n): n is string => n !== null);
    const stragglers = [...v.slow].sort((a, b) =>
      order.indexOf(a) - order.indexOf(b)
    );
    const base = {
      tree: v.label,
      type: t.type,
      strategy: t.strategy?.name ?? "-",
      root: t.root,
      buildS: t.buildMs / 1000,
      stragglers,
      status: t.status,
    };
    const evals = t.evaluations.length > 0 ? t.evaluations : [undefined];
    return evals.map((e): SummaryRow => {
      const w = e?.worstLeaf, d = leafDelays(w);
      const error = e?.error ?? t.error;
      return {
        ...base,
        ...(e ? { run: e.run } : {}),
        ...(w ? { worstLeaf: w.addr } : {}),
        ...(w?.silent !== undefined ? { silent: w.silent } : {}),
        ...(d
          ? {
            p90Us: d.p90Us,
            p50Us: d.p50Us,
            meanUs: d.meanUs,
            stddevUs: d.stddevUs,
          }
          : {}),
        worstSlow: w !== undefined && v.slow.has(w.addr),
        ...(error ? { error } : {}),
      };
    });
  });
}

/** The p90 of every node of every tree's shown evaluation (for a shared scale). */
export function allNodeP90s(views: readonly TreeView[]): number[] {
  return views.flatMap((v) =>
    (v.shown?.nodes ?? []).flatMap((n) =>
      n.stats && n.stats.received > 0 ? [n.stats.p90Us] : []
    )
  );
}
