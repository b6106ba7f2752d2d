/**
 * The report's view of the thesis comparison: the summary across roots and
 * runs (per tree kind, from `core/summary.ts`), the LEMON all-to-all
 * phases with their delay matrices, and a line per rebuild round.
 *
 * @module
 */
import {
  type AllToAllResult,
  leafDelays,
  type Results,
  type TreeResult,
} from "../core/results.ts";
import { summarize, SUMMARY_HEAD, summaryCells } from "../core/summary.ts";
import { esc, fmtS, kindTable, table, td } from "./html.ts";

const HEAD_LABELS: Record<(typeof SUMMARY_HEAD)[number], string> = {
  kind: "tree kind",
  n: "samples",
  silent: "silent",
  p90_us: "worst leaf p90 µs",
  p50_us: "p50 µs",
  mean_us: "mean µs",
  vs_random: "vs RANDOM",
  vs_worst: "vs WORST",
  probe_packets: "probe packets",
  probe_s: "probing s",
};

/** The summary across roots and runs, as the report's first section. */
export function kindsSection(results: Results): string {
  const s = results.summary ?? summarize(results);
  if (s.rows.length === 0) return "";
  const samples = new Set(s.rows.map((r) => r.n));
  return `<section id="kinds"><h2>Across roots and runs</h2>
<p class="note">Per tree kind, the worst leaf's one-way delay over every root and evaluation run: mean ± the half width of its 95 % confidence interval (Student t)${
    samples.size === 1 ? `, ${[...samples][0]} samples each` : ""
  }; the relative difference of the p90 against ${
    esc(s.random ?? "RANDOM (none in this run)")
  } and ${
    esc(s.worst ?? "WORST (none in this run)")
  }, only where the intervals tell the kinds apart ("not apart" where they overlap or a kind has fewer than 2 samples); and what building one tree of the kind cost in probing (datagrams sent, time), averaged over roots.</p>
${
    kindTable(
      "kinds",
      SUMMARY_HEAD,
      HEAD_LABELS,
      s.rows.map((r) => ({ kind: r.kind, cells: summaryCells(r, s) })),
    )
  }
${(results.allToAll ?? []).map(allToAllBlock).join("\n")}
</section>`;
}

/** One LEMON all-to-all phase: its cost and its delay matrix. */
function allToAllBlock(p: AllToAllResult): string {
  const errors = Object.keys(p.errors ?? {}).length;
  const head = [
    { label: "received by \\ from" },
    ...p.addrs.map((_, j) => ({ label: String(j), num: true })),
  ];
  const rows = p.delaysUs.map((row, i) =>
    `<tr>${td(`${i}: ${esc(p.addrs[i]!)}`, "addr")}${
      row.map((d) => td(d === null ? "-" : d.toFixed(0), "num")).join("")
    }</tr>`
  );
  return `<details class="alltoall"><summary>LEMON all-to-all from root <span class="addr">${
    esc(p.root)
  }</span>: ${p.addrs.length} workers, ${p.rounds} rounds of at most ${p.limit} peers, ${p.packets} packets in ${
    fmtS((p.finishedUs - p.startedUs) / 1e6)
  } s${errors ? `, ${errors} pairs did not report` : ""}</summary>
<p class="note">Median one-way delay, µs, of the stream from the column's worker as received by the row's.</p>
${table("matrix", head, rows)}</details>`;
}

/** One line per rebuild round of a tree (empty when it had none). */
export function rebuildLines(t: TreeResult): string {
  const lines = (t.rebuilds ?? []).map((b) => {
    const evals = t.evaluations.filter((e) => (e.round ?? 0) === b.round);
    const before = t.evaluations.filter((e) => (e.round ?? 0) === b.round - 1);
    const p90 = (es: typeof evals) => {
      if (es.some((e) => e.worstLeaf?.silent !== undefined)) return "silent";
      const w = es.map((e) => leafDelays(e.worstLeaf)?.p90Us).filter((x) =>
        x !== undefined
      );
      return w.length ? `${Math.max(...w).toFixed(1)} µs` : "-";
    };
    const out = b.before.filter((a) => !b.after.includes(a));
    const changed = out.length === 0
      ? "kept its children"
      : `replaced ${out.map(esc).join(", ")} by ${
        b.after.filter((a) => !b.before.includes(a)).map(esc).join(", ")
      }`;
    return `<li data-round="${b.round}">Rebuild ${b.round}: worst leaf ${
      esc(b.worstLeaf)
    }; its parent <span class="addr">${
      esc(b.parent)
    }</span> ${changed}; worst-leaf p90 ${p90(before)} → ${p90(evals)}</li>`;
  });
  return lines.length ? `<ul class="rebuilds">${lines.join("")}</ul>` : "";
}
