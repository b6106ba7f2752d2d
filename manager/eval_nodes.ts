/**
 * Turns the report of a multicast evaluation (the root's job with its
 * dependencies nested below it) into per-node results, and chooses its
 * worst leaf.
 *
 * The worst leaf counts loss: a leaf that lost 5 % is not a good leaf. A
 * leaf's score ({@link leafScore}) is its p90 over every message sent to it
 * (received + lost), the lost ones counted as infinitely late: the
 * ⌈0.9 · sent⌉-th smallest delay, infinite when over 10 % were lost (the
 * loss a p90 can hide). A leaf that lost nothing scores its p90; one that
 * lost 5 % scores its received delays' ~p94.7. Infinite scores rank by
 * their loss share. A silent leaf (nothing received) is worse than any.
 *
 * The per-leaf figures are as measured: end to end from the root's send
 * time, each hop's clock offset included, a negative delay counted as 0 at
 * the leaf (`negative`); nothing here corrects them. The corrected view of
 * an evaluation is its per-message figures (`messages.ts`: corrected first,
 * clipped after).
 *
 * @module
 */
import * as hdr from "hdr-histogram-js";
import { histogramPercentiles, nearestRank } from "../core/quantile.ts";
import type { Job, ProbeStats } from "../proto/codec.ts";
import type {
  EvalNode,
  EvaluationResult,
  SilentLeaf,
  WorstLeaf,
} from "./results.ts";

/** Options of {@link evaluationFromReport}. */
export interface EvaluationOptions {
  run: number;
  root: string;
  /** Every address of the tree (to find the ones that did not report). */
  treeNodes: readonly string[];
  startedUs: number;
  finishedUs: number;
}

/** Flattens the root's report: one node per job, depth-first from the root. */
export function evaluationFromReport(
  root: Job | undefined,
  o: EvaluationOptions,
): EvaluationResult {
  const nodes: EvalNode[] = [];
  const visit = (j: Job, depth: number, owner: string) => {
    const role = depth === 0
      ? "root"
      : j.deps.length > 0 || j.flag === "PROXY"
      ? "proxy"
      : "leaf";
    nodes.push({
      addr: owner,
      role,
      depth,
      emulate: j.emulate,
      ...(j.stats ? { stats: j.stats } : {}),
      ...(j.forward ? { forward: j.forward } : {}),
      ...(j.sender ? { sender: j.sender } : {}),
      ...(j.error ? { error: j.error } : {}),
    });
    j.deps.forEach((d) => visit(d, depth + 1, d.owner));
  };
  if (root) visit(root, 0, o.root);
  const reported = new Set(
    nodes.filter((n) => n.role === "root" ? n.sender : n.stats).map((n) =>
      n.addr
    ),
  );
  const leaves = nodes.filter((n) => n.role === "leaf" && n.stats);
  const silent: SilentLeaf[] = leaves.filter((n) => n.stats!.received === 0)
    .map((n) => ({ addr: n.addr, reason: _silence(n) }));
  const scored = leaves.filter((n) => n.stats!.received > 0).map((n) => ({
    n,
    score: leafScore(n.stats!),
    loss: lossShare(n.stats!),
  }));
  const worst = scored.reduce<typeof scored[number] | undefined>(
    (w, x) =>
      !w || x.score > w.score || (x.score === w.score && x.loss > w.loss)
        ? x
        : w,
    undefined,
  );
  const worstLeaf: WorstLeaf | undefined = silent[0]
    ? { addr: silent[0].addr, silent: silent[0].reason }
    : worst && {
      addr: worst.n.addr,
      p90Us: worst.n.stats!.p90Us,
      p50Us: worst.n.stats!.p50Us,
      meanUs: worst.n.stats!.meanUs,
      stddevUs: worst.n.stats!.stddevUs,
      lossShare: worst.loss,
      p90SentUs: Number.isFinite(worst.score) ? worst.score : null,
      ...(worst.n.stats!.negative > 0
        ? { negative: worst.n.stats!.negative }
        : {}),
    };
  return {
    run: o.run,
    startedUs: o.startedUs,
    finishedUs: o.finishedUs,
    nodes,
    missing: o.treeNodes.filter((a) => !reported.has(a)),
    silent,
    ...(worstLeaf ? { worstLeaf } : {}),
  };
}

/** Lost over sent (received + lost); 0 when nothing was sent. */
export function lossShare(s: ProbeStats): number {
  const sent = s.received + s.lost;
  return sent === 0 ? 0 : s.lost / sent;
}

/**
 * A leaf's score for the worst-leaf choice, µs: its p90 over every message
 * sent (received + lost), the lost ones infinitely late; `Infinity` when the
 * rank ⌈0.9 · sent⌉ falls among the lost (over 10 % lost). It is the
 * received delays' quantile at that rank: from the leaf's histogram when it
 * has one, else the smallest of its p90, p99, p99.9, max at or above it (an
 * upper bound). Without loss it is the p90.
 */
export function leafScore(s: ProbeStats): number {
  const sent = s.received + s.lost;
  const rank = nearestRank(90, sent);
  if (s.received === 0 || rank > s.received) return Infinity;
  if (s.lost === 0) return s.p90Us;
  const fromHistogram = _rankUs(s.histogram, rank, s.received);
  if (fromHistogram !== undefined) return Math.min(fromHistogram, s.maxUs);
  const q = rank / s.received;
  if (q <= 0.9) return s.p90Us;
  if (q <= 0.99) return s.p99Us;
  if (q <= 0.999) return s.p999Us;
  return s.maxUs;
}

/**
 * The `rank`-th smallest of the `n` delays of an encoded HdrHistogram of ns
 * (nearest rank, as the probe gives its percentiles), µs.
 */
function _rankUs(
  histogram: string,
  rank: number,
  n: number,
): number | undefined {
  if (histogram === "") return undefined;
  let h: hdr.Histogram;
  try {
    h = hdr.decodeFromCompressedBase64(histogram, 32, false);
  } catch {
    return undefined;
  }
  try {
    if (h.totalCount === 0) return undefined;
    // Half a rank below it, so that rounding cannot reach the next one.
    const [ns] = histogramPercentiles(h as hdr.JsHistogram, [
      100 * (rank - 0.5) / n,
    ]);
    return ns! / 1000;
  } finally {
    h.destroy();
  }
}

/** Why a leaf that reported received nothing, as far as its report says. */
function _silence(n: EvalNode): string {
  const s = n.stats!;
  const end = s.endSeen ? "" : ", nor the stream's END";
  const lost = s.lost > 0 ? ` (${s.lost} counted lost)` : "";
  const why = n.error ? `: ${n.error}` : "";
  return `received no packets${lost}${end}${why}`;
}
