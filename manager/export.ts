/**
 * Machine-readable exports beside results.json: `leaves.csv`, one row per
 * tree, evaluation run and leaf, and `messages.csv`, one row per tree and
 * evaluation run with its per-message figures (issue #19), for spreadsheets
 * and notebooks. Delays are
 * microseconds, as in the results file; fields are quoted as RFC 4180 asks
 * (a field holding a comma, quote or line break is double-quoted, its
 * quotes doubled). A text field beginning with `=`, `+`, `-`, `@`, a tab or
 * a carriage return (a tree name or an error text a spreadsheet would run
 * as a formula) gets a leading `'`, as OWASP's CSV-injection advice asks;
 * numbers, negative delays too, stay numbers. Lines end with `\n`.
 *
 * @module
 */
import { writeFileDurably } from "../core/durable_file.ts";
import type {
  MessageDistribution,
  MessageFigures,
} from "../core/message_figures.ts";
import type { ProbeStats } from "../proto/codec.ts";
import type { Results } from "./results.ts";

/** The columns of {@link leafCsv}, in order. */
export const LEAF_COLUMNS = [
  "tree",
  "type",
  "strategy",
  "root",
  "run",
  "leaf",
  "depth",
  "emulated",
  "worst",
  "received",
  "lost",
  "min_us",
  "p25_us",
  "p50_us",
  "p75_us",
  "p90_us",
  "p99_us",
  "p999_us",
  "max_us",
  "mean_us",
  "stddev_us",
  "hops",
  "error",
] as const;

const STAT_FIELDS: readonly (keyof ProbeStats)[] = [
  "received",
  "lost",
  "minUs",
  "p25Us",
  "p50Us",
  "p75Us",
  "p90Us",
  "p99Us",
  "p999Us",
  "maxUs",
  "meanUs",
  "stddevUs",
  "hops",
];

/**
 * One CSV field: text that a spreadsheet would take for a formula defused
 * with a leading `'` (never a number), then quoted when it must be.
 */
export function csvField(v: string | number | boolean | undefined): string {
  if (v === undefined) return "";
  const s = typeof v === "string" && /^[=+\-@\t\r]/.test(v)
    ? `'${v}`
    : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Per-leaf statistics of every tree and evaluation run, as CSV with a
 * header line. `emulated` is the leaf's emulation ("" when none), `worst`
 * whether it is the run's worst leaf; a leaf that reported no statistics
 * has empty statistics and its error.
 */
export function leafCsv(results: Results): string {
  const lines = [LEAF_COLUMNS.join(",")];
  for (const t of results.trees) {
    for (const e of t.evaluations) {
      for (const n of e.nodes) {
        if (n.role !== "leaf") continue;
        const s = n.stats;
        const row: (string | number | boolean | undefined)[] = [
          t.name,
          t.type,
          t.strategy?.name ?? "",
          t.root,
          e.run,
          n.addr,
          n.depth,
          n.emulate,
          n.addr === e.worstLeaf?.addr,
          ...STAT_FIELDS.map((f) => s?.[f] as number | undefined),
          n.error ?? (s ? "" : "no statistics"),
        ];
        lines.push(row.map(csvField).join(","));
      }
    }
  }
  return lines.join("\n") + "\n";
}

/** The CSV file for a results file: `leaves.csv` in the same folder. */
export function leafCsvPathFor(resultsPath: string): string {
  return _beside(resultsPath, "leaves.csv");
}

/**
 * Writes {@link leafCsv} beside `resultsPath` (`core/durable_file.ts`) and
 * returns the CSV's path.
 */
export function writeLeafCsv(
  results: Results,
  resultsPath: string,
): string {
  const path = leafCsvPathFor(resultsPath);
  writeFileDurably(path, leafCsv(results));
  return path;
}

/** The distributions of {@link messageCsv}, and their quantile columns. */
const DISTRIBUTIONS = ["latency", "best", "window"] as const;
const QUANTILES: readonly [string, keyof MessageDistribution][] = [
  ["p50", "p50Us"],
  ["p90", "p90Us"],
  ["p99", "p99Us"],
  ["p999", "p999Us"],
  ["max", "maxUs"],
];

/** The fixed columns of {@link messageCsv}, in order (then one per hold). */
export const MESSAGE_COLUMNS = [
  "tree",
  "type",
  "strategy",
  "root",
  "run",
  "round",
  "messages",
  "receivers",
  "lost",
  "lost_share",
  "never_received",
  "negative",
  "corrected",
  "bound_us",
  ...DISTRIBUTIONS.flatMap((d) => QUANTILES.map(([q]) => `${d}_${q}_us`)),
  "hold99_us",
  "hold999_us",
  "adaptive_window",
  "adaptive_percentile",
  "adaptive_margin_us",
  "adaptive_judged",
  "adaptive_fair_share",
  "missing_workers",
  "uncorrected_workers",
  "failed_parts",
] as const;

/** The figures' cells, in {@link MESSAGE_COLUMNS}' order after `round`. */
function _figureCells(m: MessageFigures): (number | boolean | undefined)[] {
  // A quantile among lost messages (null) is an empty cell.
  const num = (x: number | null) => x ?? undefined;
  const a = m.fairness.adaptive;
  return [
    m.messages,
    m.receivers,
    m.lost,
    m.lostShare,
    m.neverReceived,
    m.negative,
    m.corrected,
    m.boundUs,
    ...DISTRIBUTIONS.flatMap((d) =>
      QUANTILES.map(([, k]) => num(m[d][k] as number | null))
    ),
    num(m.fairness.hold99Us),
    num(m.fairness.hold999Us),
    a.windowMessages,
    a.percentile,
    a.marginUs,
    a.judged,
    a.judged > 0 ? a.fairShare : undefined,
    m.missing.length,
    m.uncorrected.length,
    m.failedParts.length,
  ];
}

/**
 * Per-message figures of every tree and evaluation run, as CSV with a
 * header line: the fixed {@link MESSAGE_COLUMNS}, one `fair_<H>us` column
 * per hold any evaluation gives (the share of messages every receiver had
 * by send + H), then `error`. A quantile that fell among lost messages is
 * an empty cell (`lost` says why), as is every figure of an evaluation
 * without them (`error` says so).
 */
export function messageCsv(results: Results): string {
  const holds = [
    ...new Set(
      results.trees.flatMap((t) =>
        t.evaluations.flatMap((e) =>
          e.messages?.fairness.holds.map((h) => h.holdUs) ?? []
        )
      ),
    ),
  ].sort((a, b) => a - b);
  const head = [
    ...MESSAGE_COLUMNS,
    ...holds.map((h) => `fair_${h}us`),
    "error",
  ];
  const lines = [head.join(",")];
  const blank = MESSAGE_COLUMNS.length - 6;
  for (const t of results.trees) {
    for (const e of t.evaluations) {
      const m = e.messages;
      const row: (string | number | boolean | undefined)[] = [
        t.name,
        t.type,
        t.strategy?.name ?? "",
        t.root,
        e.run,
        e.round ?? 0,
        ...(m ? _figureCells(m) : new Array(blank).fill(undefined)),
        ...holds.map((h) =>
          m?.fairness.holds.find((x) => x.holdUs === h)?.fairShare
        ),
        e.error ?? (m ? "" : "no per-message figures"),
      ];
      lines.push(row.map(csvField).join(","));
    }
  }
  return lines.join("\n") + "\n";
}

/** A file beside a results file. */
function _beside(resultsPath: string, name: string): string {
  const slash = resultsPath.lastIndexOf("/");
  return slash < 0 ? name : `${resultsPath.slice(0, slash)}/${name}`;
}

/**
 * Writes {@link messageCsv} as `messages.csv` beside `resultsPath`
 * (`core/durable_file.ts`) and returns its path.
 */
export function writeMessageCsv(
  results: Results,
  resultsPath: string,
): string {
  const path = _beside(resultsPath, "messages.csv");
  writeFileDurably(path, messageCsv(results));
  return path;
}
