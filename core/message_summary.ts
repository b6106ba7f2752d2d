/**
 * The per-message summary across roots and runs (issue #19, pure): per tree
 * kind (and rebuild round, as `summary.ts` groups them), over the
 * evaluations that carry per-message figures (`EvaluationResult.messages`),
 * the worst receiver's p50/p99/p99.9 (the multicast latency), the delivery
 * window's p99, the hold for 99 % fair, the fair share under the adaptive
 * deadline and the lost share, each as mean ± the half width of the 95 %
 * Student t interval over roots x runs.
 *
 * A figure that is null in an evaluation (a quantile among lost messages, an
 * adaptive share with no deadline) is not averaged: it is counted apart
 * (`nulls`). Two kinds are ranked by the worst receiver's p99 only where
 * their intervals tell them apart (`apartness`, issue #22); the differences
 * against RANDOM and WORST are given only there.
 *
 * @module
 */
import type { MessageFigures } from "./message_figures.ts";
import type { Estimate, Results, TreeType } from "./results.ts";
import {
  apartness,
  estimate,
  estimateText,
  kindGroups,
  NOT_APART,
  pctText,
  type Sampled,
} from "./summary.ts";

/** The figures summarized, and how each is read from an evaluation's. */
const READ = {
  latencyP50Us: (m: MessageFigures) => m.latency.p50Us,
  latencyP99Us: (m: MessageFigures) => m.latency.p99Us,
  latencyP999Us: (m: MessageFigures) => m.latency.p999Us,
  windowP99Us: (m: MessageFigures) => m.window.p99Us,
  hold99Us: (m: MessageFigures) => m.fairness.hold99Us,
  adaptiveFairShare: (m: MessageFigures) =>
    m.fairness.adaptive.judged > 0 ? m.fairness.adaptive.fairShare : null,
  lostShare: (m: MessageFigures) => m.lostShare,
} as const;

/** A figure of the summary. */
export type FigureName = keyof typeof READ;

/** The figure kinds are ranked by: the worst receiver's p99. */
export const RANKED_BY: FigureName = "latencyP99Us";

/** One tree kind's per-message figures over roots x runs. */
export interface MessageRow {
  kind: string;
  type: TreeType;
  round: number;
  /** Evaluations with per-message figures. */
  n: number;
  figures: Record<FigureName, Sampled>;
  /** The fair share at each hold, over the evaluations that give it. */
  holds: { holdUs: number; fairShare: Estimate }[];
  /** Relative difference of the worst receiver's p99 mean, %, where told apart. */
  vsRandomPct?: number;
  vsWorstPct?: number;
}

/** Two kinds as this run tells them apart by the worst receiver's p99. */
export interface KindPair {
  /** The kind with the lower mean first (by name order when equal or unknown). */
  lower: string;
  higher: string;
  apart: boolean;
  /** Why not, when not told apart. */
  why?: string;
}

/** The per-message summary of a results document. */
export interface MessageSummary {
  /** The baselines (round 0 of RANDOM and WORST), when they have figures. */
  random?: string;
  worst?: string;
  rows: MessageRow[];
  pairs: KindPair[];
}

/** Samples of one figure: numbers averaged, nulls counted apart. */
function sampled(xs: readonly (number | null)[]): Sampled {
  const nums = xs.filter((x): x is number => x !== null);
  return {
    ...(nums.length > 0 ? { estimate: estimate(nums) } : {}),
    nulls: xs.length - nums.length,
  };
}

/** The per-message summary; kinds without figures have no row. */
export function summarizeMessages(results: Results): MessageSummary {
  const rows: MessageRow[] = [];
  for (const g of kindGroups(results)) {
    const figs = g.members.flatMap((m) =>
      m.evaluations.flatMap((e) => e.messages ? [e.messages] : [])
    );
    if (figs.length === 0) continue;
    const figures = Object.fromEntries(
      Object.entries(READ).map(([k, read]) => [k, sampled(figs.map(read))]),
    ) as Record<FigureName, Sampled>;
    const byHold = new Map<number, number[]>();
    for (const f of figs) {
      for (const h of f.fairness.holds) {
        byHold.set(h.holdUs, [...byHold.get(h.holdUs) ?? [], h.fairShare]);
      }
    }
    const holds = [...byHold].sort((a, b) => a[0] - b[0]).map((
      [holdUs, xs],
    ) => ({ holdUs, fairShare: estimate(xs) }));
    rows.push({
      kind: g.kind,
      type: g.type,
      round: g.round,
      n: figs.length,
      figures,
      holds,
    });
  }
  const baseline = (type: TreeType) =>
    rows.find((r) => r.type === type && r.round === 0);
  const random = baseline("RANDOM"), worst = baseline("WORST");
  const ranked = (r: MessageRow) => r.figures[RANKED_BY];
  const pct = (r: MessageRow, b: MessageRow | undefined) => {
    const x = ranked(r).estimate, y = b && ranked(b).estimate;
    if (!b || b === r || !x || !y || y.mean <= 0) return undefined;
    if (!apartness(ranked(r), ranked(b)).apart) return undefined;
    return 100 * (x.mean - y.mean) / y.mean;
  };
  for (const r of rows) {
    const vsRandom = pct(r, random), vsWorst = pct(r, worst);
    if (vsRandom !== undefined) r.vsRandomPct = vsRandom;
    if (vsWorst !== undefined) r.vsWorstPct = vsWorst;
  }
  const pairs: KindPair[] = [];
  for (let i = 0; i < rows.length; i++) {
    for (let j = i + 1; j < rows.length; j++) {
      const a = rows[i]!, b = rows[j]!;
      const ma = ranked(a).estimate?.mean ?? Infinity;
      const mb = ranked(b).estimate?.mean ?? Infinity;
      const [lo, hi] = mb < ma ? [b, a] : [a, b];
      const v = apartness(ranked(lo), ranked(hi));
      pairs.push({
        lower: lo.kind,
        higher: hi.kind,
        apart: v.apart,
        ...(v.apart ? {} : { why: v.why }),
      });
    }
  }
  return {
    ...(random ? { random: random.kind } : {}),
    ...(worst ? { worst: worst.kind } : {}),
    rows,
    pairs,
  };
}

/** Column heads of {@link messageCells}. */
export const MESSAGE_HEAD = [
  "kind",
  "n",
  "latency_p50_us",
  "latency_p99_us",
  "latency_p999_us",
  "window_p99_us",
  "hold99_us",
  "adaptive_fair",
  "lost_share",
  "vs_random",
  "vs_worst",
] as const;

/** A figure as text: `mean ± ci`, then `(k null)` when k samples had none. */
export function figureText(f: Sampled, share = false): string {
  const est = share
    ? estimateText(f.estimate, 2, 100) + (f.estimate ? " %" : "")
    : estimateText(f.estimate);
  return f.nulls > 0 ? `${est} (${f.nulls} null)` : est;
}

/**
 * One row as text cells (the terminal and the report share them); the
 * differences against RANDOM and WORST read `not apart` where this run
 * does not tell the kinds apart.
 */
export function messageCells(r: MessageRow, s: MessageSummary): string[] {
  const vs = (x: number | undefined, base: string | undefined) => {
    const b = s.rows.find((y) => y.kind === base);
    if (x !== undefined) return pctText(x);
    if (!b || b === r) return "-";
    // Told apart from a baseline without a figure: below it, by no number.
    return apartness(r.figures[RANKED_BY], b.figures[RANKED_BY]).apart
      ? "below"
      : NOT_APART;
  };
  const f = r.figures;
  return [
    r.kind,
    String(r.n),
    figureText(f.latencyP50Us),
    figureText(f.latencyP99Us),
    figureText(f.latencyP999Us),
    figureText(f.windowP99Us),
    figureText(f.hold99Us),
    figureText(f.adaptiveFairShare, true),
    figureText(f.lostShare, true),
    vs(r.vsRandomPct, s.random),
    vs(r.vsWorstPct, s.worst),
  ];
}

/**
 * A line per pair of kinds told apart (ranked); the pairs not told apart, a
 * line per kind and reason naming every kind it is not told from (12 kinds
 * make 66 pairs: a line each would bury the few that are ranked).
 */
export function pairLines(s: MessageSummary): string[] {
  const lines: string[] = [];
  const groups: {
    lower: string;
    why: string | undefined;
    at: number;
    others: string[];
  }[] = [];
  for (const p of s.pairs) {
    if (p.apart) {
      lines.push(
        `${p.lower} below ${p.higher} (worst-receiver p99 intervals apart)`,
      );
      continue;
    }
    const g = groups.find((x) => x.lower === p.lower && x.why === p.why);
    if (g) g.others.push(p.higher);
    else {
      const others = [p.higher];
      groups.push({ lower: p.lower, why: p.why, at: lines.length, others });
      lines.push(""); // its line, where its first pair came
    }
  }
  for (const g of groups) {
    lines[g.at] = `${g.lower} vs ${
      g.others.join(", ")
    }: not told apart by this run (${g.why})`;
  }
  return lines;
}
