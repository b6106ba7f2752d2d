/**
 * The report's tables: the summary (one row per tree and evaluation), the
 * stages of a tree (each parent's candidates, statistics, scores and which
 * were kept) and the workers of the run.
 *
 * @module
 */
import { fmtOffset } from "./clocks.ts";
import type { Results, StageResult } from "../core/results.ts";
import type { SummaryRow, TreeView } from "./data.ts";
import { esc, fmtS, fmtUs, SLOW_BADGE, table, td } from "./html.ts";

/** Options of {@link summaryTable}. */
export interface SummaryOptions {
  /** Show the stragglers column (some worker emulated a slow VM). */
  emulated: boolean;
  /** The anchor id of each tree's section, by label. */
  anchors: ReadonlyMap<string, string>;
  /** Leave the root column out (every tree has the same root). */
  sameRoot?: boolean;
}

/**
 * The summary: per tree and evaluation run, the worst leaf and its
 * statistics, build time, and (when emulated) the stragglers in the tree.
 * The row with the lowest worst-leaf p90 is marked best.
 */
export function summaryTable(
  rows: readonly SummaryRow[],
  opts: SummaryOptions,
): string {
  const p90s = rows.flatMap((r) => r.p90Us === undefined ? [] : [r.p90Us]);
  const bestP90 = p90s.length > 1 ? Math.min(...p90s) : undefined;
  const head = [
    { label: "tree" },
    { label: "type" },
    { label: "strategy" },
    ...(opts.sameRoot ? [] : [{ label: "root" }]),
    { label: "run", num: true },
    { label: "worst leaf", title: "the leaf with the highest p90 delay" },
    { label: "p90 µs", num: true },
    { label: "p50 µs", num: true },
    { label: "mean µs", num: true },
    { label: "stddev µs", num: true },
    { label: "build s", num: true },
    ...(opts.emulated
      ? [{ label: "stragglers in tree", title: "workers emulating a slow VM" }]
      : []),
    { label: "status" },
  ];
  const body = rows.map((r) => {
    const cls = [
      r.p90Us !== undefined && r.p90Us === bestP90 ? "best" : "",
      opts.emulated && r.stragglers.length > 0 ? "has-slow" : "",
    ].filter(Boolean).join(" ");
    const anchor = opts.anchors.get(r.tree);
    const name = anchor
      ? `<a href="#${esc(anchor)}">${esc(r.tree)}</a>`
      : esc(r.tree);
    const cells = [
      td(name, "text", 'class="nowrap"'),
      td(`<span class="tag ${esc(r.type)}">${esc(r.type)}</span>`),
      td(esc(r.strategy)),
      ...(opts.sameRoot ? [] : [td(esc(r.root), "addr")]),
      td(r.run === undefined ? "-" : String(r.run), "num"),
      td(
        r.worstLeaf === undefined
          ? '<span class="none">none reported</span>'
          : esc(r.worstLeaf) + (r.worstSlow ? SLOW_BADGE : "") +
            (r.silent !== undefined
              ? ` <span class="err silent" title="${esc(r.silent)}">silent: ${
                esc(r.silent)
              }</span>`
              : ""),
        "addr",
      ),
      td(fmtUs(r.p90Us), "num"),
      td(fmtUs(r.p50Us), "num"),
      td(fmtUs(r.meanUs), "num"),
      td(fmtUs(r.stddevUs), "num"),
      td(fmtS(r.buildS), "num"),
      ...(opts.emulated
        ? [td(
          r.stragglers.length === 0
            ? '<span class="none">none</span>'
            : r.stragglers.map((s) => esc(s) + SLOW_BADGE).join("<br>"),
          "addr",
          `data-stragglers="${r.stragglers.length}"`,
        )]
        : []),
      td(
        esc(r.status) + (r.error ? `<br><small>${esc(r.error)}</small>` : ""),
        r.error ? "err" : "text",
      ),
    ];
    return `<tr data-tree="${esc(r.tree)}"${cls ? ` class="${cls}"` : ""}>${
      cells.join("")
    }</tr>`;
  });
  return table("summary", head, body);
}

/**
 * A tree's stages: per parent, its candidates sorted by score, with their
 * statistics, and which were kept. `slow` names every worker that emulates
 * a slow VM (candidates included, not only the tree's nodes).
 */
export function stagesTable(
  v: TreeView,
  slow: ReadonlySet<string>,
): string {
  const stages = v.tree.stages;
  if (stages.length === 0) {
    return `<p class="note">${
      v.tree.type === "RANDOM"
        ? "RANDOM draws each node's children without probing: no stages."
        : "No stage finished."
    }</p>`;
  }
  const head = [
    { label: "candidate" },
    { label: "p50 µs", num: true },
    { label: "p90 µs", num: true },
    { label: "mean µs", num: true },
    { label: "stddev µs", num: true },
    { label: "received", num: true },
    { label: "lost", num: true },
    {
      label: "negative",
      num: true,
      title: "delays that came out below zero (recorded as 0)",
    },
    {
      label: "offset µs",
      num: true,
      title: "the candidate's clock minus its parent's, from its echoes, " +
        "± the bound; with clocks: correct the score uses the delays minus it",
    },
    {
      label: "score",
      num: true,
      title: "the strategy's score: BEST keeps the lowest, WORST the highest",
    },
    { label: "kept" },
  ];
  const rows = stages.flatMap((s, i) => [
    _stageHeader(s, i, head.length),
    ..._candidateRows(s, slow),
  ]);
  return table("stages", head, rows);
}

function _stageHeader(s: StageResult, i: number, span: number): string {
  const secs = (s.finishedUs - s.startedUs) / 1e6;
  const kept = s.candidates.filter((c) => c.kept).length;
  return `<tr class="stage"><th colspan="${span}">Stage ${i + 1} · batch ${
    esc(s.batch)
  } · depth ${esc(s.depth)} · parent <span class="addr">${
    esc(s.parent)
  }</span> · ${s.candidates.length} candidates, ${kept} kept · ${fmtS(secs)} s${
    s.error ? ` · <span class="err">${esc(s.error)}</span>` : ""
  }${
    s.offsetDoubt
      ? ` · <span class="err">clocks: ${esc(s.offsetDoubt)}</span>`
      : ""
  }</th></tr>`;
}

function _candidateRows(
  s: StageResult,
  slow: ReadonlySet<string>,
): string[] {
  const sorted = [...s.candidates].sort((a, b) =>
    (a.score ?? Infinity) - (b.score ?? Infinity)
  );
  return sorted.map((c) => {
    const st = c.stats;
    const name = esc(c.addr) + (slow.has(c.addr) ? SLOW_BADGE : "");
    const cells = st
      ? [
        td(fmtUs(st.p50Us), "num"),
        td(fmtUs(st.p90Us), "num"),
        td(fmtUs(st.meanUs), "num"),
        td(fmtUs(st.stddevUs), "num"),
        td(String(st.received), "num"),
        td(String(st.lost), "num"),
        td(String(st.negative), "num"),
        td(esc(fmtOffset(st)), "num"),
      ]
      : [td(c.error ? esc(c.error) : "no statistics", "err", 'colspan="8"')];
    return `<tr${c.kept ? ' class="kept"' : ""}>${td(name, "addr")}${
      cells.join("")
    }${td(c.score === undefined ? "-" : c.score.toFixed(1), "num")}${
      td(c.kept ? "✓ kept" : "")
    }</tr>`;
  });
}

/** The workers of the run: CONNECT answers, emulation, and any lost later. */
export function workersTable(results: Results): string {
  const head = [
    { label: "worker" },
    { label: "status" },
    { label: "rtt µs", num: true },
    { label: "clock offset µs", num: true },
    { label: "± µs", num: true },
    { label: "emulates" },
    { label: "note" },
  ];
  const rows = results.workers.map((w) =>
    `<tr>${td(esc(w.addr), "addr")}${td(esc(w.status))}${
      td(fmtUs(w.rttUs), "num")
    }${td(fmtUs(w.offsetUs), "num")}${td(fmtUs(w.offsetBoundUs), "num")}${
      td(w.hello?.emulate ? esc(w.hello.emulate) + SLOW_BADGE : "")
    }${td(w.error ? esc(w.error) : "", w.error ? "err" : "text")}</tr>`
  );
  return table("workers", head, rows);
}

/** A worker lost during the run (results files that record them). */
export interface LostEntry {
  addr: string;
  atUs: number;
  during: string;
  tree?: string;
  detail: string;
  readmittedUs?: number;
}

/** The workers lost during the run; empty text when none was. */
export function lostTable(lost: readonly LostEntry[]): string {
  if (lost.length === 0) return "";
  const head = [
    { label: "worker" },
    { label: "during" },
    { label: "tree" },
    { label: "what happened" },
    { label: "came back" },
  ];
  const rows = lost.map((l) =>
    `<tr>${td(esc(l.addr), "addr")}${td(esc(l.during))}${
      td(esc(l.tree ?? "-"))
    }${td(esc(l.detail), "err")}${
      td(l.readmittedUs !== undefined ? "yes" : "no")
    }</tr>`
  );
  return table("lost", head, rows);
}
