/**
 * The report's charts: Vega-Lite specifications, rendered to SVG text on
 * the server by Vega (`renderer: "none"`, `toSVG()`), so the page needs no
 * script. Every chart is a spec built here from {@link LeafCurve}s and
 * rows; nothing is drawn by hand.
 *
 * @module
 */
import * as vega from "vega";
import type { TopLevelSpec } from "vega-lite";
import { compile } from "vega-lite";
import type { CdfPoint, LeafCurve, SeriesRow, SummaryRow } from "./data.ts";

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

/** Shared look: sizes a page of charts reads well at, no frames. */
const CONFIG = {
  font:
    "system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif",
  view: { stroke: "#ddd" },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 600 },
  legend: {
    labelFontSize: 11,
    titleFontSize: 12,
    labelLimit: 360,
    symbolStrokeWidth: 2.5,
  },
  title: { fontSize: 14, anchor: "start", subtitleFontSize: 11 },
  range: { category: { scheme: "tableau10" } },
} as const;

const DELAY_AXIS_TITLE = "one-way delay (µs, log scale)";

/** Line widths: the worst leaf's line stands out. */
const WIDTH = { worst: 3.5, other: 1.5 } as const;
/** Takes each row's `width` field as it is (no scale, no legend). */
const WIDTH_BY_WORST = {
  field: "width",
  type: "quantitative",
  scale: null,
  legend: null,
} as const;

/** Options of {@link renderSvg}. */
export interface RenderOptions {
  /** Called with each Vega or Vega-Lite warning (default: ignored). */
  onWarning?: (message: string) => void;
}

/** Renders a Vega-Lite spec to standalone SVG text. */
export async function renderSvg(
  spec: TopLevelSpec,
  opts: RenderOptions = {},
): Promise<string> {
  const logger = _logger(opts.onWarning ?? (() => {}));
  const compiled = compile(spec, { logger }).spec;
  const view = new vega.View(vega.parse(compiled), {
    renderer: "none",
    logger,
  });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** A legend label for a leaf: its address, and whether it is worst or slow. */
export function leafName(c: { leaf: string; worst: boolean; slow: boolean }) {
  return c.leaf + (c.worst ? " (worst)" : "") + (c.slow ? " [slow]" : "");
}

/** A tree's leaf CDFs: worst leaf drawn thick, emulated stragglers dashed. */
export function leafCdfSpec(
  curves: readonly LeafCurve[],
  opts: { title: string; subtitle?: string },
): TopLevelSpec {
  // Worst first, so it leads the legend and takes the first colour.
  const ordered = [...curves].sort((a, b) => Number(b.worst) - Number(a.worst));
  const values = ordered.flatMap((c) =>
    c.points.map((p) => ({
      leaf: leafName(c),
      us: p.us,
      fraction: p.fraction,
      worst: c.worst,
      width: c.worst ? WIDTH.worst : WIDTH.other,
      slow: c.slow,
    }))
  );
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: {
      text: opts.title,
      ...(opts.subtitle ? { subtitle: opts.subtitle } : {}),
    },
    width: 400,
    height: 240,
    layer: [
      {
        data: { values },
        mark: { type: "line", interpolate: "step-after", clip: true },
        encoding: {
          x: {
            field: "us",
            type: "quantitative",
            scale: { type: "log", nice: false },
            title: DELAY_AXIS_TITLE,
          },
          y: {
            field: "fraction",
            type: "quantitative",
            title: "share of packets (CDF)",
            axis: { format: "%" },
          },
          color: {
            field: "leaf",
            type: "nominal",
            title: "leaf",
            sort: ordered.map(leafName),
            legend: { orient: "bottom", columns: 2 },
          },
          strokeWidth: WIDTH_BY_WORST,
          strokeDash: {
            field: "slow",
            type: "nominal",
            scale: { domain: [false, true], range: [[1, 0], [6, 3]] },
            legend: null,
          },
        },
      },
      _rule(0.9),
    ],
  } as TopLevelSpec;
}

/** A named curve of a chart with one curve per tree or kind. */
export interface NamedCurve {
  name: string;
  points: readonly CdfPoint[];
}

/** How a chart of {@link NamedCurve}s is labelled. */
export interface CurvesOptions {
  title: string;
  subtitle: string;
  /** The legend's title (and the data field of the names). */
  legend: string;
  xTitle: string;
  yTitle: string;
  /** A symmetric log x scale, for curves that may reach 0 (default log). */
  symlog?: boolean;
  /** The share a dotted rule marks (default 0.9). */
  ruleAt?: number;
}

/** Named CDFs on one chart, each its own colour. */
export function curvesCdfSpec(
  curves: readonly NamedCurve[],
  o: CurvesOptions,
): TopLevelSpec {
  const values = curves.flatMap((c) =>
    c.points.map((p) => ({
      [o.legend]: c.name,
      us: p.us,
      fraction: p.fraction,
    }))
  );
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: { text: o.title, subtitle: o.subtitle },
    width: 430,
    height: 250,
    layer: [
      {
        data: { values },
        mark: { type: "line", interpolate: "step-after", strokeWidth: 2.5 },
        encoding: {
          x: {
            field: "us",
            type: "quantitative",
            scale: o.symlog ? { type: "symlog" } : { type: "log", nice: false },
            title: o.xTitle,
          },
          y: {
            field: "fraction",
            type: "quantitative",
            title: o.yTitle,
            axis: { format: "%" },
          },
          color: {
            field: o.legend,
            type: "nominal",
            title: o.legend,
            sort: curves.map((c) => c.name),
            legend: { orient: "bottom", columns: 2 },
          },
        },
      },
      _rule(o.ruleAt ?? 0.9),
    ],
  } as TopLevelSpec;
}

/** The worst leaf's CDF of every tree, on one chart. */
export function worstCdfSpec(curves: readonly LeafCurve[]): TopLevelSpec {
  return curvesCdfSpec(
    curves.map((c) => ({ name: c.tree, points: c.points })),
    {
      title: "Worst leaf of each tree: delay CDF",
      subtitle: "further left is better; the dotted line marks p90",
      legend: "tree",
      xTitle: DELAY_AXIS_TITLE,
      yTitle: "share of packets (CDF)",
    },
  );
}

/** Per kind, the share of messages fair against the hold H (log scale). */
export function fairHoldSpec(
  kinds: readonly {
    kind: string;
    holds: { holdUs: number; share: number }[];
  }[],
): TopLevelSpec {
  const values = kinds.flatMap((k) =>
    k.holds.map((h) => ({ kind: k.kind, holdUs: h.holdUs, share: h.share }))
  );
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: {
      text: "Fair share against the hold",
      subtitle:
        "messages every receiver had by send + H, mean over roots × runs; higher is better",
    },
    width: 430,
    height: 250,
    data: { values },
    mark: { type: "line", point: true, strokeWidth: 2.5 },
    encoding: {
      x: {
        field: "holdUs",
        type: "quantitative",
        scale: { type: "log", nice: false },
        title: "hold H (µs, log scale)",
      },
      y: {
        field: "share",
        type: "quantitative",
        title: "fair share of messages",
        axis: { format: "%" },
      },
      color: {
        field: "kind",
        type: "nominal",
        title: "kind",
        sort: kinds.map((k) => k.kind),
        legend: { orient: "bottom", columns: 2 },
      },
    },
  } as TopLevelSpec;
}

/** Per tree, the worst leaf's p50 and p90 as bars. */
export function worstBarSpec(rows: readonly SummaryRow[]): TopLevelSpec {
  const values = rows.flatMap((r) =>
    r.p90Us === undefined ? [] : [
      { tree: _rowName(r), stat: "p90", us: r.p90Us },
      { tree: _rowName(r), stat: "p50", us: r.p50Us ?? 0 },
    ]
  );
  const trees = [...new Set(values.map((v) => v.tree))];
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: {
      text: "Worst leaf of each tree: p90 and p50",
      subtitle: "shorter is better",
    },
    width: 330,
    height: { step: 15 },
    data: { values },
    layer: [
      {
        mark: { type: "bar" },
        encoding: {
          y: { field: "tree", type: "nominal", sort: trees, title: null },
          yOffset: { field: "stat", sort: ["p90", "p50"] },
          x: { field: "us", type: "quantitative", title: "delay (µs)" },
          color: {
            field: "stat",
            type: "nominal",
            title: "worst leaf",
            sort: ["p90", "p50"],
            scale: { range: ["#c0392b", "#f5b7a8"] },
            legend: { orient: "bottom" },
          },
        },
      },
      {
        mark: { type: "text", align: "left", dx: 3, fontSize: 10 },
        encoding: {
          y: { field: "tree", type: "nominal", sort: trees },
          yOffset: { field: "stat", sort: ["p90", "p50"] },
          x: { field: "us", type: "quantitative" },
          text: { field: "us", type: "quantitative", format: ",.0f" },
        },
      },
    ],
  } as TopLevelSpec;
}

/** Per second, every leaf's p90 and standard deviation, side by side. */
export function seriesSpec(
  rows: readonly SeriesRow[],
  opts: { slow: ReadonlySet<string> },
): TopLevelSpec {
  const worstFirst = [...rows].sort((a, b) =>
    Number(b.worst) - Number(a.worst)
  );
  const values = worstFirst.map((r) => ({
    ...r,
    leaf: leafName({ ...r, slow: opts.slow.has(r.leaf) }),
    width: r.worst ? WIDTH.worst : WIDTH.other,
  }));
  const names = [...new Set(values.map((v) => v.leaf))];
  const panel = (field: string, title: string) => ({
    width: 230,
    height: 160,
    mark: { type: "line", point: true, clip: true },
    encoding: {
      x: {
        field: "t",
        type: "quantitative",
        title: "second of the stream",
        axis: { tickMinStep: 1, format: "d" },
      },
      y: { field, type: "quantitative", title },
      color: {
        field: "leaf",
        type: "nominal",
        title: "leaf",
        sort: names,
        legend: { orient: "bottom", columns: 2 },
      },
      strokeWidth: WIDTH_BY_WORST,
    },
  });
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: { text: "Per second, every leaf", subtitle: "worst leaf bold" },
    data: { values },
    hconcat: [
      panel("p90Us", "p90 delay (µs)"),
      panel("stddevUs", "stddev of delay (µs)"),
    ],
    resolve: { scale: { color: "shared" } },
  } as TopLevelSpec;
}

function _rule(at: number) {
  return {
    data: { values: [{ y: at }] },
    mark: { type: "rule", strokeDash: [2, 3], color: "#777" },
    encoding: { y: { field: "y", type: "quantitative" } },
  };
}

function _rowName(r: SummaryRow): string {
  return r.run !== undefined && r.run > 1 ? `${r.tree} run ${r.run}` : r.tree;
}

/** A Vega logger that hands warnings over instead of printing them. */
function _logger(onWarning: (m: string) => void): vega.LoggerInterface {
  let level = 0;
  const logger: vega.LoggerInterface = {
    level(l?: number) {
      if (l === undefined) return level;
      level = l;
      return logger;
    },
    error(...args: readonly unknown[]) {
      throw new Error(`Cannot render a chart: ${args.map(String).join(" ")}`);
    },
    warn(...args: readonly unknown[]) {
      onWarning(args.map(String).join(" "));
      return logger;
    },
    info: () => logger,
    debug: () => logger,
  } as vega.LoggerInterface;
  return logger;
}
