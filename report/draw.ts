/**
 * Tree drawings: a Graphviz DOT description of a tree (root marked, each
 * node labelled and filled by its measured p90 delay, emulated stragglers
 * outlined in red and labelled SLOW), laid out to SVG by Graphviz compiled
 * to WebAssembly (`@viz-js/viz`).
 *
 * @module
 */
import { instance, type Viz } from "@viz-js/viz";
import * as vega from "vega";
import type { EvalNode } from "../core/results.ts";
import type { TreeView } from "./data.ts";

/** Node fills by p90 delay: a log scale shared by every drawing of a report. */
export interface DelayScale {
  /** The fill for a delay (µs). */
  fill(us: number): string;
  /** Text colour readable on {@link DelayScale.fill}. */
  ink(us: number): string;
  /** Delays spread over the scale, for a legend. */
  stops(n: number): number[];
}

const _blues = vega.scheme("blues") as unknown as (t: number) => string;
/** Light end and dark end of the scheme used: white text from DARK on. */
const LIGHT = 0.12, DARK = 0.92, WHITE_INK_FROM = 0.55;

/** A log colour scale over the delays given (any order, positives used). */
export function delayScale(delaysUs: readonly number[]): DelayScale {
  const pos = delaysUs.filter((d) => d > 0 && Number.isFinite(d));
  const lo = pos.length ? Math.log(Math.min(...pos)) : 0;
  const hi = pos.length ? Math.log(Math.max(...pos)) : 1;
  const t = (us: number) =>
    hi > lo
      ? Math.min(
        1,
        Math.max(0, (Math.log(Math.max(us, 1e-9)) - lo) / (hi - lo)),
      )
      : 0.5;
  const at = (us: number) => LIGHT + (DARK - LIGHT) * t(us);
  return {
    fill: (us) => _hex(_blues(at(us))),
    ink: (us) => t(us) >= WHITE_INK_FROM ? "#ffffff" : "#111111",
    stops: (n) =>
      Array.from(
        { length: n },
        (_, i) => Math.exp(lo + (hi - lo) * (n === 1 ? 0.5 : i / (n - 1))),
      ),
  };
}

const FONT = "Helvetica,Arial,sans-serif";
const SLOW_RED = "#d00000";

/** The DOT text of a tree's drawing, its nodes coloured by `scale`. */
export function treeDot(v: TreeView, scale: DelayScale): string {
  const t = v.tree;
  const byAddr = new Map<string, EvalNode>(
    (v.shown?.nodes ?? []).map((n) => [n.addr, n]),
  );
  const worst = v.shown?.worstLeaf?.addr;
  const ids = new Map<string, string>();
  const leaves = t.nodes.length - Math.floor((t.nodes.length - 1) / t.fanout);
  const lines = [
    "digraph tree {",
    `  graph [rankdir=${
      leaves > 8 ? "LR" : "TB"
    }, nodesep=0.2, ranksep=0.4, bgcolor="transparent", fontname="${FONT}"];`,
    `  node [shape=box, style="rounded,filled", fontname="${FONT}", fontsize=11, margin="0.16,0.05", color="#555555", penwidth=1];`,
    `  edge [color="#888888", arrowsize=0.6];`,
  ];
  t.nodes.forEach((addr, i) => {
    if (addr === null) return;
    const id = `n${i}`;
    ids.set(addr, id);
    const n = byAddr.get(addr);
    const isRoot = i === 0;
    const slow = v.slow.has(addr);
    const rows: string[] = [];
    if (isRoot) rows.push("<B>ROOT</B>");
    rows.push(_esc(addr));
    const stats = n?.stats && n.stats.received > 0 ? n.stats : undefined;
    let fill = "#ffffff", ink = "#111111";
    const attrs: string[] = [];
    if (stats) {
      fill = scale.fill(stats.p90Us);
      ink = scale.ink(stats.p90Us);
      rows.push(`<B>p90 ${_us(stats.p90Us)} µs</B>`);
      rows.push(
        `<FONT POINT-SIZE="9">${n!.role} · p50 ${_us(stats.p50Us)}</FONT>`,
      );
    } else if (isRoot) {
      rows.push(`<FONT POINT-SIZE="9">sender</FONT>`);
      attrs.push("peripheries=2");
    } else {
      fill = "#eeeeee";
      rows.push(`<I>${n?.error ? "failed" : "no report"}</I>`);
      attrs.push(`style="rounded,filled,dashed"`);
    }
    if (addr === worst) rows.push("<B>▲ WORST LEAF</B>");
    const cells = rows.map((r) => `<TR><TD>${r}</TD></TR>`);
    if (slow) {
      cells.push(
        `<TR><TD BGCOLOR="${SLOW_RED}"><FONT COLOR="#ffffff"><B>SLOW (emulated)</B></FONT></TD></TR>`,
      );
      attrs.push(`color="${SLOW_RED}"`, "penwidth=3.5");
    } else if (addr === worst) {
      attrs.push("penwidth=2.5", `color="#222222"`);
    }
    const label =
      `<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2">${
        cells.join("")
      }</TABLE>>`;
    const tooltip = n?.emulate ? `${addr}: emulates ${n.emulate}` : addr;
    lines.push(
      `  ${id} [label=${label}, fillcolor="${fill}", fontcolor="${ink}", tooltip="${
        _dotString(tooltip)
      }"${attrs.length ? ", " + attrs.join(", ") : ""}];`,
    );
  });
  for (const [from, to] of t.edges) {
    const a = ids.get(from), b = ids.get(to);
    if (a && b) lines.push(`  ${a} -> ${b};`);
  }
  // Hedge edges (issue #22): dashed, and not pulling the layout.
  for (const [from, to] of t.hedges ?? []) {
    const a = ids.get(from), b = ids.get(to);
    if (a && b) {
      lines.push(
        `  ${a} -> ${b} [style=dashed, color="#888888", constraint=false];`,
      );
    }
  }
  lines.push("}");
  return lines.join("\n") + "\n";
}

let _viz: Promise<Viz> | undefined;

/**
 * Lays out DOT text as SVG, ready to inline in HTML: no XML prolog, and
 * element ids prefixed with `idPrefix` so drawings on one page never clash.
 */
export async function renderDot(
  dot: string,
  idPrefix: string,
): Promise<string> {
  _viz ??= instance();
  const viz = await _viz;
  const r = viz.render(dot, { format: "svg" });
  if (r.status !== "success") {
    const why = r.errors.map((e) => e.message).join("; ");
    throw new Error(`Cannot lay out a tree drawing: ${why}`);
  }
  return scopeSvgIds(r.output.slice(r.output.indexOf("<svg")), idPrefix);
}

/** Prefixes every `id` of an SVG, and the references to them, with `prefix`. */
export function scopeSvgIds(svg: string, prefix: string): string {
  return svg
    .replace(/\bid="([^"]+)"/g, (_, id) => `id="${prefix}-${id}"`)
    .replace(/url\(#([^)]+)\)/g, (_, id) => `url(#${prefix}-${id})`)
    .replace(/href="#([^"]+)"/g, (_, id) => `href="#${prefix}-${id}"`);
}

function _us(n: number): string {
  return n >= 100 ? n.toFixed(0) : n.toFixed(1);
}

/** Escapes text for a Graphviz HTML-like label. */
function _esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

/** Escapes text for a double-quoted DOT string. */
function _dotString(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, " ");
}

function _hex(rgb: string): string {
  const m = rgb.match(/rgb\((\d+),\s*(\d+),\s*(\d+)\)/);
  if (!m) return rgb;
  return "#" +
    [m[1], m[2], m[3]].map((c) => Number(c).toString(16).padStart(2, "0")).join(
      "",
    );
}
