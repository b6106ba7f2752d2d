/**
 * The page shell: one self-contained HTML document (inline CSS, inline
 * SVG, no script, no font or image from anywhere), and small helpers to
 * write its markup safely.
 *
 * @module
 */

/** Escapes text for HTML element content and double-quoted attributes. */
export function esc(s: string | number): string {
  return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;")
    .replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

/** A delay or other measure in µs, one decimal; "-" when unknown. */
export function fmtUs(n: number | undefined): string {
  return n === undefined || !Number.isFinite(n) ? "-" : n.toFixed(1);
}

/** Seconds with one decimal; "-" when unknown. */
export function fmtS(n: number | undefined): string {
  return n === undefined || !Number.isFinite(n) ? "-" : n.toFixed(1);
}

/** A time in µs since the epoch as `YYYY-MM-DD HH:MM:SS UTC`. */
export function fmtTime(us: number): string {
  return new Date(us / 1000).toISOString().replace("T", " ").replace(
    /\.\d+Z$/,
    " UTC",
  );
}

/** A badge marking an emulated straggler. */
export const SLOW_BADGE =
  `<span class="slow" title="emulates a slow VM">slow</span>`;

/** An anchor id for the n-th tree (0-based). */
export function treeAnchor(n: number): string {
  return `tree-${n + 1}`;
}

/**
 * Forbids every fetch: the page is meant to open offline, and a browser
 * that honours this cannot load anything from the network even if some
 * markup asked it to.
 */
const CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src 'none'";

const CSS = `
:root { color-scheme: light; --ink: #1b1f23; --muted: #5f6b76; --line: #d8dee4;
  --slow: #d00000; --kept: #e6f4ea; --best: #1e7e34; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px 48px; color: var(--ink); background: #fff;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 32px 0 8px; padding-top: 12px; border-top: 2px solid var(--line); }
h2 small { font-weight: normal; color: var(--muted); font-size: 14px; margin-left: 8px; }
h3 { font-size: 15px; margin: 20px 0 6px; }
p { margin: 4px 0 8px; }
.meta, .note, figcaption { color: var(--muted); }
.note { font-size: 13px; }
nav { margin: 8px 0; font-size: 13px; }
nav a { margin-right: 12px; }
a { color: #0b5cad; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0 10px; }
th, td { padding: 4px 7px; border-bottom: 1px solid var(--line); text-align: left;
  vertical-align: top; }
th { background: #f3f5f7; font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.addr { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
  font-size: 12px; white-space: nowrap; }
tr.best td { background: #f0f8f2; }
tr.best td:first-child { box-shadow: inset 4px 0 0 var(--best); }
tr.has-slow td:first-child { box-shadow: inset 4px 0 0 var(--slow); }
tr.stage th { background: #eef2f6; text-align: left; font-weight: 600; }
tr.kept td { background: var(--kept); }
.err { color: var(--slow); }
.slow { display: inline-block; margin-left: 4px; padding: 0 5px; border-radius: 3px;
  background: var(--slow); color: #fff; font: 600 11px/16px system-ui, sans-serif;
  text-transform: uppercase; letter-spacing: .03em; vertical-align: 1px; }
.none { color: var(--muted); }
.tag { display: inline-block; padding: 0 6px; border-radius: 3px; background: #eef2f6;
  font-size: 12px; }
.tag.BEST { background: #e3f0fb; } .tag.WORST { background: #fbe6e3; }
.tag.RANDOM { background: #f2f2f2; }
ul.pairs { font-size: 13px; margin: 4px 0 10px; padding-left: 20px; }
ul.pairs li.overlap { color: var(--muted); }
.row { display: flex; flex-wrap: wrap; gap: 16px 28px; align-items: flex-start; }
.pair { display: grid; grid-template-columns: minmax(280px, 1fr) minmax(0, max-content);
  gap: 16px 28px; align-items: start; }
@media (max-width: 900px) { .pair { grid-template-columns: 1fr; } }
.scroll { overflow-x: auto; }
.nowrap { white-space: nowrap; }
figure { margin: 8px 0; }
figure svg { max-width: 100%; height: auto; display: block; }
figure.drawing svg { margin: 0 auto; }
figcaption { font-size: 12px; margin-top: 6px; }
.swatch { display: inline-block; width: 38px; height: 12px; vertical-align: -1px;
  border: 1px solid #bbb; }
.legend span.key { margin-right: 8px; white-space: nowrap; }
pre { background: #f6f8fa; padding: 10px; overflow-x: auto; font-size: 12px; }
details { margin: 8px 0; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
@media print { body { padding: 0; } h2 { break-before: auto; } section.tree { break-inside: avoid-page; } }
`;

/** Options of {@link page}. */
export interface PageOptions {
  title: string;
  /** The body's markup (already escaped). */
  body: string;
}

/** The whole document. */
export function page(opts: PageOptions): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="treecast report">
<title>${esc(opts.title)}</title>
<style>${CSS}</style>
</head>
<body>
${opts.body}
</body>
</html>
`;
}

/** A table from a header and rows of ready-made cells (`<td>` markup). */
export function table(
  cls: string,
  head: readonly { label: string; num?: boolean; title?: string }[],
  rows: readonly string[],
): string {
  const ths = head.map((h) =>
    `<th${h.num ? ' class="num"' : ""}${
      h.title ? ` title="${esc(h.title)}"` : ""
    }>${esc(h.label)}</th>`
  ).join("");
  return `<div class="scroll"><table class="${cls}"><thead><tr>${ths}</tr></thead><tbody>\n${
    rows.join("\n")
  }\n</tbody></table></div>`;
}

/**
 * A table of a row per tree kind (`data-kind`): the kind's name, then
 * numbers, under the heads `heads` labelled by `labels`.
 */
export function kindTable<H extends string>(
  cls: string,
  heads: readonly H[],
  labels: Record<H, string>,
  rows: readonly { kind: string; cells: readonly string[] }[],
): string {
  const head = heads.map((h) => ({ label: labels[h], num: h !== "kind" }));
  return table(
    cls,
    head,
    rows.map((r) =>
      `<tr data-kind="${esc(r.kind)}">${
        r.cells.map((c, i) => td(esc(c), i === 0 ? "text" : "num")).join("")
      }</tr>`
    ),
  );
}

/** One `<td>`: numbers right-aligned, addresses monospaced. */
export function td(
  content: string,
  kind: "num" | "addr" | "text" | "err" = "text",
  attrs = "",
): string {
  const cls = kind === "text" ? "" : ` class="${kind}"`;
  return `<td${cls}${attrs ? " " + attrs : ""}>${content}</td>`;
}
