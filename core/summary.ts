/**
 * The summary across roots and evaluation runs (pure): per tree kind, the
 * worst leaf's p90, p50 and mean as mean +- a 95 % confidence interval
 * (Student t) over every evaluation of every root, the number of samples,
 * the relative difference against the RANDOM and WORST kinds, and what the
 * kind's probing cost (packets sent, probing time), as in the thesis's
 * table.
 *
 * A kind is a tree name; a tree rebuilt N rounds adds one kind per round
 * (`BEST-P90 rebuild 1`), whose samples are that round's evaluations
 * (`kindGroups`, shared with the per-message summary). Two kinds are told
 * apart only where their intervals do not overlap (`apartness`, issue
 * #22): the text cells give the differences against RANDOM and WORST only
 * there, `not apart` elsewhere.
 *
 * @module
 */
import {
  type Estimate,
  type EvaluationResult,
  leafDelays,
  type Results,
  type StageResult,
  type Summary,
  type SummaryRow,
  type TreeResult,
  type TreeType,
} from "./results.ts";

/** Two-sided 95 % Student t quantiles (t_0.975) for 1 to 30 degrees of freedom. */
const T975 = [
  12.706,
  4.303,
  3.182,
  2.776,
  2.571,
  2.447,
  2.365,
  2.306,
  2.262,
  2.228,
  2.201,
  2.179,
  2.16,
  2.145,
  2.131,
  2.12,
  2.11,
  2.101,
  2.093,
  2.086,
  2.08,
  2.074,
  2.069,
  2.064,
  2.06,
  2.056,
  2.052,
  2.048,
  2.045,
  2.042,
];

/** t_0.975 for `df` degrees of freedom (a Cornish–Fisher expansion beyond 30). */
export function tQuantile975(df: number): number {
  if (df < 1) throw new RangeError(`degrees of freedom: ${df}`);
  if (df <= 30) return T975[Math.round(df) - 1]!;
  const z = 1.959964;
  return z + (z ** 3 + z) / (4 * df) +
    (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2);
}

/** Mean and 95 % confidence half width of samples (Student t). */
export function estimate(xs: readonly number[]): Estimate {
  const n = xs.length;
  if (n === 0) return { mean: NaN, ci: null };
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  if (n < 2) return { mean, ci: null };
  const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1);
  return { mean, ci: tQuantile975(n - 1) * Math.sqrt(variance / n) };
}

/** The length of the union of time intervals, ms. */
function spanMs(
  intervals: { startedUs: number; finishedUs: number }[],
): number {
  const sorted = [...intervals].sort((a, b) => a.startedUs - b.startedUs);
  let total = 0, end = -Infinity;
  for (const { startedUs, finishedUs } of sorted) {
    if (finishedUs <= end) continue;
    total += finishedUs - Math.max(startedUs, end);
    end = finishedUs;
  }
  return total / 1000;
}

/** Datagrams the stages' parents sent (to all their children). */
function stagePackets(stages: readonly StageResult[]): number {
  return stages.reduce(
    (s, st) => s + (st.sender ? st.sender.sent * st.sender.children : 0),
    0,
  );
}

/** What building `t` up to rebuild round `round` cost in probing. */
export function probingCost(
  results: Results,
  t: TreeResult,
  round: number,
): { packets: number; ms: number } {
  const stages = t.stages.filter((s) => (s.round ?? 0) <= round);
  let packets = stagePackets(stages), ms = spanMs(stages);
  if (t.type === "LEMON") {
    const phase = (results.allToAll ?? []).find((p) =>
      p.rootIndex === t.rootIndex
    );
    if (phase) {
      packets += phase.packets;
      ms += (phase.finishedUs - phase.startedUs) / 1000;
    }
  }
  return { packets, ms };
}

/** One tree kind: a tree name at one rebuild round, over every root. */
export interface KindGroup {
  kind: string;
  tree: string;
  type: TreeType;
  round: number;
  /** Per root's tree of the kind, its evaluations of the round. */
  members: { tree: TreeResult; evaluations: EvaluationResult[] }[];
}

/** The tree kinds of a results document, in the script's order. */
export function kindGroups(results: Results): KindGroup[] {
  const kinds = new Map<string, KindGroup>();
  for (const t of results.trees) {
    const rounds = new Set(t.evaluations.map((e) => e.round ?? 0));
    for (const round of [...rounds].sort((a, b) => a - b)) {
      const kind = round === 0 ? t.name : `${t.name} rebuild ${round}`;
      let g = kinds.get(kind);
      if (!g) {
        g = { kind, tree: t.name, type: t.type, round, members: [] };
        kinds.set(kind, g);
      }
      g.members.push({
        tree: t,
        evaluations: t.evaluations.filter((e) => (e.round ?? 0) === round),
      });
    }
  }
  return [...kinds.values()];
}

/**
 * Samples of one figure over roots x runs: the estimate over those with a
 * number, and how many had none (`nulls`: a silent worst leaf, a quantile
 * among lost messages), which rank above every number.
 */
export interface Sampled {
  estimate?: Estimate;
  nulls: number;
}

/**
 * Whether this run tells two kinds apart by a figure (issue #22): both
 * have a 95 % interval (2 samples or more), the intervals do not overlap,
 * and the lower kind had no sample without a number; or one kind had no
 * number in 2 samples or more (each above every number) and the other has
 * an interval and no sample without a number. Otherwise why not.
 */
export function apartness(
  a: Sampled,
  b: Sampled,
): { apart: true } | { apart: false; why: string } {
  const ea = a.estimate, eb = b.estimate;
  if (!ea || !eb) {
    // Every sample of a kind without a figure ranks above every number.
    const some = ea ? a : b, none = ea ? b : a;
    return some.estimate && some.estimate.ci !== null && some.nulls === 0 &&
        none.nulls >= 2
      ? { apart: true }
      : { apart: false, why: "no figure in some kind" };
  }
  if (ea.ci === null || eb.ci === null) {
    return { apart: false, why: "fewer than 2 samples" };
  }
  if (
    ea.mean - ea.ci <= eb.mean + eb.ci && eb.mean - eb.ci <= ea.mean + ea.ci
  ) {
    return { apart: false, why: "intervals overlap" };
  }
  const lower = ea.mean < eb.mean ? a : b;
  if (lower.nulls > 0) {
    return { apart: false, why: "the lower kind has samples without a figure" };
  }
  return { apart: true };
}

/** The summary table of a results document, kinds in the script's order. */
export function summarize(results: Results): Summary {
  const rows: SummaryRow[] = [];
  for (const g of kindGroups(results)) {
    const p90: number[] = [], p50: number[] = [], mean: number[] = [];
    let silent = 0;
    for (const { evaluations } of g.members) {
      for (const e of evaluations) {
        if (!e.worstLeaf) continue;
        const d = leafDelays(e.worstLeaf);
        if (!d) {
          silent++;
          continue;
        }
        p90.push(d.p90Us);
        p50.push(d.p50Us);
        mean.push(d.meanUs);
      }
    }
    // A kind no evaluation has reported yet has no row.
    if (p90.length + silent === 0) continue;
    const costs = g.members.map((m) => probingCost(results, m.tree, g.round));
    rows.push({
      kind: g.kind,
      tree: g.tree,
      type: g.type,
      round: g.round,
      n: p90.length,
      silent,
      ...(p90.length > 0
        ? {
          p90Us: estimate(p90),
          p50Us: estimate(p50),
          meanUs: estimate(mean),
        }
        : {}),
      probing: {
        packets: estimate(costs.map((c) => c.packets)).mean,
        ms: estimate(costs.map((c) => c.ms)).mean,
      },
    });
  }
  const baseline = (type: TreeType) =>
    rows.find((r) => r.type === type && r.round === 0);
  const random = baseline("RANDOM"), worst = baseline("WORST");
  const pct = (r: SummaryRow, b: SummaryRow | undefined) =>
    r.p90Us && b?.p90Us && b.p90Us.mean > 0
      ? 100 * (r.p90Us.mean - b.p90Us.mean) / b.p90Us.mean
      : undefined;
  for (const r of rows) {
    const vsRandom = pct(r, random), vsWorst = pct(r, worst);
    if (vsRandom !== undefined) r.vsRandomPct = vsRandom;
    if (vsWorst !== undefined) r.vsWorstPct = vsWorst;
  }
  return {
    confidence: 0.95,
    ...(random ? { random: random.kind } : {}),
    ...(worst ? { worst: worst.kind } : {}),
    rows,
  };
}

/** Column heads of {@link summaryCells}. */
export const SUMMARY_HEAD = [
  "kind",
  "n",
  "silent",
  "p90_us",
  "p50_us",
  "mean_us",
  "vs_random",
  "vs_worst",
  "probe_packets",
  "probe_s",
] as const;

/** An estimate as text: `mean ± ci` (`mean` alone with one sample). */
export function estimateText(
  e: Estimate | undefined,
  digits = 1,
  scale = 1,
): string {
  return e === undefined
    ? "-"
    : e.ci === null
    ? (e.mean * scale).toFixed(digits)
    : `${(e.mean * scale).toFixed(digits)} ± ${(e.ci * scale).toFixed(digits)}`;
}

/** A relative difference as text (`+12.5 %`), "-" when there is none. */
export function pctText(x: number | undefined): string {
  return x === undefined ? "-" : `${x > 0 ? "+" : ""}${x.toFixed(1)} %`;
}

/** What the summary says where two kinds are not told apart. */
export const NOT_APART = "not apart";

/**
 * One row of the summary as text cells (the terminal and the report share
 * them). The differences against RANDOM and WORST are given only where the
 * p90 intervals tell the kinds apart ({@link apartness}); `not apart`
 * otherwise.
 */
export function summaryCells(r: SummaryRow, s: Summary): string[] {
  const fig = (x: SummaryRow): Sampled => ({
    ...(x.p90Us ? { estimate: x.p90Us } : {}),
    nulls: x.silent,
  });
  const vs = (x: number | undefined, base: string | undefined) => {
    const b = s.rows.find((y) => y.kind === base);
    if (x === undefined || !b || b === r) return pctText(x);
    return apartness(fig(r), fig(b)).apart ? pctText(x) : NOT_APART;
  };
  return [
    r.kind,
    String(r.n),
    String(r.silent),
    estimateText(r.p90Us),
    estimateText(r.p50Us),
    estimateText(r.meanUs),
    vs(r.vsRandomPct, s.random),
    vs(r.vsWorstPct, s.worst),
    String(Math.round(r.probing.packets)),
    (r.probing.ms / 1000).toFixed(1),
  ];
}
