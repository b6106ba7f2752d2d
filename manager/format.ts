/**
 * Plain-text tables for the terminal.
 *
 * @module
 */
import { kernelClockProblem, kernelClockText } from "./clock_checks.ts";
import { CLOCK_WARN_US } from "../core/defaults.ts";
import { describeMode } from "./iomode.ts";
import { type ConnectResult, leafDelays } from "../core/results.ts";
import type { Results } from "./results.ts";
import { summarize, SUMMARY_HEAD, summaryCells } from "../core/summary.ts";
import {
  MESSAGE_HEAD,
  messageCells,
  pairLines,
  summarizeMessages,
} from "../core/message_summary.ts";

/** Formats rows as an aligned table; numbers right-aligned. */
export function table(head: string[], rows: (string | number)[][]): string {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const widths = head.map((_, i) =>
    Math.max(...cells.map((r) => (r[i] ?? "").length))
  );
  const numeric = head.map((_, i) =>
    rows.length > 0 &&
    rows.every((r) => typeof r[i] === "number" || r[i] === "-")
  );
  return cells.map((r) =>
    r.map((c, i) => numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))
      .join("  ").trimEnd()
  ).join("\n") + "\n";
}

const _f1 = (n: number | undefined) =>
  n === undefined ? "-" : Math.round(n * 10) / 10;

/** The CONNECT table: address, status, round trip, clock offset, version. */
export function connectTable(results: readonly ConnectResult[]): string {
  return table(
    [
      "address",
      "status",
      "rtt_us",
      "offset_us",
      "+-us",
      "kernel_clock",
      "version",
      "note",
    ],
    results.map((r) => [
      r.addr,
      r.status,
      _f1(r.rttUs),
      _f1(r.offsetUs),
      _f1(r.offsetBoundUs),
      kernelClockText(r),
      r.hello ? `${r.hello.program}/p${r.hello.protocol}` : "-",
      r.status === "ok"
        ? (r.hello?.emulate ? `emulates ${r.hello.emulate}` : "")
        : r.error ?? "",
    ]),
  );
}

/**
 * Warnings for workers whose clock offset exceeds what the probes measure,
 * and for those whose kernel says their clock is unsynchronised or its
 * estimated error above `maxErrorUs`.
 */
export function clockWarnings(
  results: readonly ConnectResult[],
  limitUs = CLOCK_WARN_US,
  maxErrorUs = Infinity,
): string[] {
  // Workers with the same problem (all of a testbed on one host) share a line.
  const byWhy = new Map<string, string[]>();
  for (const r of results) {
    const why = kernelClockProblem(r, maxErrorUs);
    if (why) byWhy.set(why, [...byWhy.get(why) ?? [], r.addr]);
  }
  const kernel = [...byWhy].map(([why, addrs]) =>
    addrs.length === 1
      ? `warning: Worker "${addrs[0]}": ${why}`
      : `warning: ${addrs.length} workers (${_names(addrs)}): ${why}`
  );
  return kernel.concat(_offsetWarnings(results, limitUs));
}

/** Up to three quoted names, then how many more. */
function _names(addrs: readonly string[]): string {
  const shown = addrs.slice(0, 3).map((a) => `"${a}"`).join(", ");
  return addrs.length > 3 ? `${shown} and ${addrs.length - 3} more` : shown;
}

function _offsetWarnings(
  results: readonly ConnectResult[],
  limitUs: number,
): string[] {
  return results.filter((r) =>
    r.offsetUs !== undefined &&
    Math.abs(r.offsetUs) - (r.offsetBoundUs ?? 0) > limitUs
  ).map((r) =>
    `warning: Clock of "${r.addr}" is ${_f1(r.offsetUs! / 1000)} ms off ` +
    `(+- ${
      _f1(r.offsetBoundUs! / 1000)
    } ms): one-way delays through it are off by as ` +
    `much; synchronise the clocks (chrony or PTP, see README)`
  );
}

/** The end-of-run table: per tree and evaluation, the worst leaf and build time. */
export function summaryTable(results: Results): string {
  const rows: (string | number)[][] = [];
  for (const t of results.trees) {
    const evals = t.evaluations.length > 0 ? t.evaluations : [undefined];
    for (const e of evals) {
      const w = e?.worstLeaf, d = leafDelays(w);
      rows.push([
        t.name,
        t.root,
        e ? (e.round ? `${e.run} rebuild ${e.round}` : e.run) : "-",
        w ? w.addr + (w.silent !== undefined ? " (silent)" : "") : "-",
        _f1(d?.p90Us),
        _f1(d?.p50Us),
        _f1(d?.meanUs),
        _f1(d?.stddevUs),
        _f1(t.buildMs / 1000),
        t.stragglers.length,
        t.status,
      ]);
    }
  }
  return table(
    [
      "tree",
      "root",
      "run",
      "worst_leaf",
      "p90_us",
      "p50_us",
      "mean_us",
      "stddev_us",
      "build_s",
      "stragglers",
      "status",
    ],
    rows,
  );
}

/**
 * The comparison across roots and runs: per tree kind, the worst leaf's
 * p90/p50/mean as mean ± 95 % interval, samples, the relative difference
 * against RANDOM and WORST (where told apart), and the probing cost; then,
 * when evaluations carry per-message figures, their table and a line per
 * pair of kinds: ranked where the worst receiver's p99 intervals tell them
 * apart, "not told apart" where not.
 */
export function kindsTable(results: Results): string {
  const s = results.summary ?? summarize(results);
  const out = table([...SUMMARY_HEAD], s.rows.map((r) => summaryCells(r, s)));
  const m = summarizeMessages(results);
  if (m.rows.length === 0) return out;
  return out +
    "\nPer message (the worst receiver of each message; mean ± 95 % interval; " +
    "(k null): k samples without the figure, e.g. a quantile among lost messages, counted apart):\n" +
    table([...MESSAGE_HEAD], m.rows.map((r) => messageCells(r, m))) +
    pairLines(m).map((l) => l + "\n").join("");
}

/** The run's probe I/O mode, one line, or undefined before CONNECT chose it. */
export function modeLine(results: Results): string | undefined {
  if (!results.io || !results.timestamps) return undefined;
  return `probes: ${
    describeMode({ io: results.io, timestamps: results.timestamps })
  }\n`;
}

/** One warning per receiver whose timestamps did not match the run's. */
export function mismatchWarnings(results: Results): string[] {
  return (results.mismatches ?? []).map((m) =>
    `warning: ${m.tree} ${m.during}: "${m.addr}": ${m.detail} (${
      m.during === "stage"
        ? "not selected"
        : "not comparable with the other receivers"
    })`
  );
}

/** One warning per stage whose choice was closer than its clock offsets are known. */
export function offsetWarnings(results: Results): string[] {
  return results.trees.flatMap((t) =>
    t.stages.filter((s) => s.offsetDoubt).map((s) =>
      `warning: ${t.name} stage of "${s.parent}": ${s.offsetDoubt}`
    )
  );
}
