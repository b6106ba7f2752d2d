/**
 * The summary across roots and evaluation runs (pure): per tree kind, the
 * worst leaf's p90, p50 and mean as mean +- a 95 % confidence interval
 * (Student t) over every evaluation of every root, the number of samples,
 * the relative difference against the RANDOM and WORST kinds, and what the
 * kind's probing cost (packets sent, probing time), as in the thesis's
 * table.
 *
 * A kind is a tree name; a tree rebuilt N rounds adds one kind per round
 * (`BEST-P90 rebuild 1`), whose samples are that round's evaluations.
 *
 * @module
 */
import {
  type Estimate,
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

/** The summary table of a results document, kinds in the script's order. */
export function summarize(results: Results): Summary {
  interface Acc {
    tree: string;
    type: TreeType;
    round: number;
    p90: number[];
    p50: number[];
    mean: number[];
    silent: number;
    costs: { packets: number; ms: number }[];
  }
  const kinds = new Map<string, Acc>();
  for (const t of results.trees) {
    const rounds = new Set(t.evaluations.map((e) => e.round ?? 0));
    for (const round of [...rounds].sort((a, b) => a - b)) {
      const kind = round === 0 ? t.name : `${t.name} rebuild ${round}`;
      let acc = kinds.get(kind);
      if (!acc) {
        acc = {
          tree: t.name,
          type: t.type,
          round,
          p90: [],
          p50: [],
          mean: [],
          silent: 0,
          costs: [],
        };
        kinds.set(kind, acc);
      }
      for (const e of t.evaluations) {
        if ((e.round ?? 0) !== round || !e.worstLeaf) continue;
        const d = leafDelays(e.worstLeaf);
        if (!d) {
          acc.silent++;
          continue;
        }
        acc.p90.push(d.p90Us);
        acc.p50.push(d.p50Us);
        acc.mean.push(d.meanUs);
      }
      acc.costs.push(probingCost(results, t, round));
    }
  }
  // A kind no evaluation has reported yet has no row.
  const rows: SummaryRow[] = [...kinds].filter(([, a]) =>
    a.p90.length + a.silent > 0
  ).map(
    (
      [kind, a],
    ) => ({
      kind,
      tree: a.tree,
      type: a.type,
      round: a.round,
      n: a.p90.length,
      silent: a.silent,
      ...(a.p90.length > 0
        ? {
          p90Us: estimate(a.p90),
          p50Us: estimate(a.p50),
          meanUs: estimate(a.mean),
        }
        : {}),
      probing: {
        packets: estimate(a.costs.map((c) => c.packets)).mean,
        ms: estimate(a.costs.map((c) => c.ms)).mean,
      },
    }),
  );
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

/** One row of the summary as text cells (the terminal and the report share them). */
export function summaryCells(r: SummaryRow): string[] {
  const est = (e: Estimate | undefined) =>
    e === undefined
      ? "-"
      : e.ci === null
      ? e.mean.toFixed(1)
      : `${e.mean.toFixed(1)} ± ${e.ci.toFixed(1)}`;
  const pct = (x: number | undefined) =>
    x === undefined ? "-" : `${x > 0 ? "+" : ""}${x.toFixed(1)} %`;
  return [
    r.kind,
    String(r.n),
    String(r.silent),
    est(r.p90Us),
    est(r.p50Us),
    est(r.meanUs),
    pct(r.vsRandomPct),
    pct(r.vsWorstPct),
    String(Math.round(r.probing.packets)),
    (r.probing.ms / 1000).toFixed(1),
  ];
}
