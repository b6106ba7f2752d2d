/**
 * The experiment report: one self-contained HTML page from a results
 * document. The summary across roots and runs, the per-message figures per
 * kind (`messages.ts`), a summary table, a comparison of the trees' worst
 * leaves, and per tree its drawing, its leaves' delay CDFs, their
 * per-second series and its stages. Charts are Vega-Lite specs rendered to inline SVG, drawings
 * Graphviz layouts; the page has no script and fetches nothing.
 *
 * @module
 */
import { writeFileDurably } from "../core/durable_file.ts";
import type { Results } from "../core/results.ts";
import {
  leafCdfSpec,
  renderSvg,
  seriesSpec,
  worstBarSpec,
  worstCdfSpec,
} from "./charts.ts";
import {
  allNodeP90s,
  anyEmulation,
  leafCurves,
  seriesRows,
  summaryRows,
  type TreeView,
  treeViews,
} from "./data.ts";
import { edgeClocksTable } from "./clocks.ts";
import { kindsSection, rebuildLines } from "./kinds.ts";
import { messagesSection } from "./messages.ts";
import { type DelayScale, delayScale, renderDot, treeDot } from "./draw.ts";
import { esc, fmtS, fmtTime, page, SLOW_BADGE, treeAnchor } from "./html.ts";
import {
  type LostEntry,
  lostTable,
  stagesTable,
  summaryTable,
  workersTable,
} from "./tables.ts";

/** Renders the report of `results` as one HTML document. */
export async function renderReport(results: Results): Promise<string> {
  const views = treeViews(results);
  const rows = summaryRows(views);
  const emulated = anyEmulation(results);
  const anchors = new Map(views.map((v, i) => [v.label, treeAnchor(i)]));
  const roots = new Set(views.map((v) => v.tree.root));
  const sameRoot = views.length > 1 && roots.size === 1;
  const scale = delayScale(allNodeP90s(views));
  const slow = new Set(views.flatMap((v) => [...v.slow]));
  for (const w of results.workers) if (w.hello?.emulate) slow.add(w.addr);

  const sections = await Promise.all(
    views.map((v, i) => _treeSection(v, i, { scale, slow })),
  );
  const body = [
    _header(results, views, emulated),
    kindsSection(results),
    await messagesSection(results),
    `<section id="summary"><h2>Summary</h2>`,
    `<p class="note">Per tree and evaluation run, the leaf with the highest p90 one-way delay. Lower is better; the best tree's row is marked green${
      emulated
        ? ", and trees holding an emulated straggler are marked red on the left"
        : ""
    }.${
      sameRoot
        ? ` Every tree grows from the root <span class="addr">${
          esc([...roots][0]!)
        }</span>.`
        : ""
    }</p>`,
    summaryTable(rows, { emulated, anchors, sameRoot }),
    _modeNote(results),
    `</section>`,
    await _comparison(views, rows),
    ...sections,
    _runSection(results),
    `<footer>treecast report · results format ${
      esc(results.versions.results)
    }, written by treecast ${esc(results.versions.program)}</footer>`,
  ].join("\n");
  return page({ title: `treecast report: ${results.name}`, body });
}

/** Renders the report of `results` to `path` (`core/durable_file.ts`). */
export async function writeReport(
  results: Results,
  path: string,
): Promise<void> {
  writeFileDurably(path, await renderReport(results));
}

function _header(
  r: Results,
  views: readonly TreeView[],
  emulated: boolean,
): string {
  const ok = r.workers.filter((w) => w.status === "ok").length;
  const emulating = r.workers.filter((w) => w.hello?.emulate).length;
  const facts = [
    `status <b>${esc(r.status)}</b>`,
    `started ${esc(fmtTime(r.startedUs))}`,
    ...(r.finishedUs !== undefined
      ? [`took ${fmtS((r.finishedUs - r.startedUs) / 1e6)} s`]
      : []),
    `${ok} of ${r.workers.length} workers answered`,
    ...(emulated ? [`${emulating} emulate a slow VM`] : []),
    `${views.length} tree${views.length === 1 ? "" : "s"}`,
    `seed ${esc(r.script.seed)}`,
  ];
  const trouble = r.status !== "complete"
    ? `<p class="err"><b>The run is ${esc(r.status)}${
      r.error ? `: ${esc(r.error)}` : ""
    }.</b> The report shows what was measured.</p>`
    : "";
  const nav = views.map((v, i) =>
    `<a href="#${treeAnchor(i)}">${esc(v.label)}</a>`
  );
  return `<header><h1>treecast report: ${esc(r.name)}</h1>
<p class="meta">${facts.join(" · ")}</p>${trouble}
<nav><a href="#kinds">Across roots and runs</a><a href="#messages">Per message</a><a href="#summary">Summary</a><a href="#comparison">Across trees</a>${
    nav.join("")
  }<a href="#run">Workers and script</a></nav></header>`;
}

async function _comparison(
  views: readonly TreeView[],
  rows: Parameters<typeof worstBarSpec>[0],
): Promise<string> {
  const worst = views.flatMap((v) => leafCurves(v).filter((c) => c.worst))
    .filter((c) => c.points.length > 0);
  const out = [`<section id="comparison"><h2>Across trees</h2>`];
  if (worst.length === 0) {
    out.push(`<p class="note">No evaluation reported a leaf.</p>`);
  } else {
    const [cdf, bars] = await Promise.all([
      renderSvg(worstCdfSpec(worst)),
      renderSvg(worstBarSpec(rows)),
    ]);
    out.push(
      `<div class="row"><figure class="chart worst-cdf">${cdf}</figure>`,
      `<figure class="chart worst-bars">${bars}</figure></div>`,
    );
  }
  out.push(`</section>`);
  return out.join("\n");
}

interface SectionContext {
  scale: DelayScale;
  slow: ReadonlySet<string>;
}

async function _treeSection(
  v: TreeView,
  i: number,
  ctx: SectionContext,
): Promise<string> {
  const t = v.tree;
  const anchor = treeAnchor(i);
  const curves = leafCurves(v).filter((c) => c.points.length > 0);
  const series = seriesRows(v);
  const runText = v.shown
    ? `evaluation run ${v.shown.run} of ${t.evaluations.length}`
    : "no evaluation";
  const [drawing, cdf, perSecond] = await Promise.all([
    renderDot(treeDot(v, ctx.scale), anchor),
    curves.length > 0
      ? renderSvg(leafCdfSpec(curves, {
        title: "Delay CDF of every leaf",
        subtitle: `${runText}; worst leaf bold, emulated stragglers dashed`,
      }))
      : undefined,
    series.length > 0
      ? renderSvg(seriesSpec(series, { slow: v.slow }))
      : undefined,
  ]);
  const strategy = t.strategy
    ? ` · strategy ${esc(t.strategy.name)} (${
      Object.entries(t.strategy.weights).map(([k, w]) => `${esc(k)} ${esc(w)}`)
        .join(", ")
    })`
    : "";
  const stragglers = v.slow.size === 0
    ? "none"
    : [...v.slow].map((s) => `<span class="addr">${esc(s)}</span>${SLOW_BADGE}`)
      .join(", ");
  const missing = v.shown?.missing ?? [];
  const silent = v.shown?.silent ?? [];
  return `<section class="tree" id="${anchor}" data-tree="${esc(v.label)}">
<h2>${esc(v.label)} <small><span class="tag ${esc(t.type)}">${
    esc(t.type)
  }</span>${strategy} · root <span class="addr">${
    esc(t.root)
  }</span></small></h2>
<p>Depth ${t.depth}, fanout ${t.fanout}${
    t.parallel ? ", built in parallel" : ""
  } · built in ${fmtS(t.buildMs / 1000)} s over ${t.stages.length} stage${
    t.stages.length === 1 ? "" : "s"
  } · ${esc(runText)} · status ${esc(t.status)}${
    t.error ? ` (<span class="err">${esc(t.error)}</span>)` : ""
  }</p>
<p>Stragglers in this tree: ${stragglers}${
    missing.length
      ? ` · did not report: ${missing.map((m) => esc(m)).join(", ")}`
      : ""
  }${
    silent.length
      ? ` · <span class="err">received nothing: ${
        silent.map((s) => `${esc(s.addr)} (${esc(s.reason)})`).join(", ")
      }</span>`
      : ""
  }</p>
<div class="pair">
<figure class="drawing">${drawing}<figcaption>${
    _legend(ctx.scale)
  }</figcaption></figure>
<figure class="chart cdf">${
    cdf ?? '<p class="note">No leaf reported a delay distribution.</p>'
  }</figure>
</div>
${perSecond ? `<figure class="chart series">${perSecond}</figure>` : ""}
${rebuildLines(t)}
<h3>Clock offsets of the edges</h3>
${edgeClocksTable(v)}
<h3>Stages</h3>
${stagesTable(v, ctx.slow)}
</section>`;
}

function _legend(scale: DelayScale): string {
  const keys = scale.stops(5).map((us) =>
    `<span class="key"><span class="swatch" style="background:${
      scale.fill(us)
    }"></span> ${us >= 100 ? us.toFixed(0) : us.toFixed(1)} µs</span>`
  );
  return `<span class="legend">Fill: node's p90 delay (log scale, the same in every drawing): ${
    keys.join("")
  }<br>ROOT: the sender. Red outline and SLOW: a worker emulating a slow VM.</span>`;
}

/** The probes' I/O mode, and any receiver that measured another way. */
function _modeNote(r: Results): string {
  if (!r.io || !r.timestamps) return "";
  const bad = r.mismatches ?? [];
  return `<p class="note">Every delay was measured by probes with ${
    esc(r.io.toLowerCase())
  } I/O and ${esc(r.timestamps.toLowerCase())} receive timestamps.${
    bad.length
      ? ` Measured with another timestamp kind, not comparable (candidates not selected): ${
        bad.map((m) =>
          `<span class="addr">${esc(m.addr)}</span> (${esc(m.tree)} ${
            esc(m.during)
          })`
        ).join(", ")
      }.`
      : ""
  }</p>`;
}

function _runSection(r: Results): string {
  const lost = (r as { lost?: LostEntry[] }).lost ?? [];
  return `<section id="run"><h2>Workers and script</h2>
<p class="meta">treecast ${esc(r.versions.program)} · protocol ${
    esc(r.versions.protocol)
  } · results format ${esc(r.versions.results)} · manager host ${
    esc(r.host.hostname)
  } (${esc(r.host.os)} ${esc(r.host.arch)}, Deno ${esc(r.host.deno)})</p>
${workersTable(r)}
${lost.length ? `<h3>Workers lost during the run</h3>\n${lostTable(lost)}` : ""}
<details><summary>Script ${esc(r.script.file)}</summary><pre>${
    esc(r.script.text)
  }</pre></details>
</section>`;
}
