/**
 * Machine-readable exports beside results.json: `leaves.csv`, one row per
 * tree, evaluation run and leaf, for spreadsheets and notebooks. Delays are
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
  const slash = resultsPath.lastIndexOf("/");
  return slash < 0 ? "leaves.csv" : `${resultsPath.slice(0, slash)}/leaves.csv`;
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
