/**
 * The clock offsets of a tree's edges in the report: per edge (parent ->
 * child), the child's clock minus its parent's as the parent measured it
 * from the child's echoes, with its error bound; from the shown evaluation
 * where the parent measured it there, else from the stage that kept the
 * child. A stage whose choice was closer than its offsets are known says so
 * (`offsetDoubt`).
 *
 * @module
 */
import type { EvalNode } from "../core/results.ts";
import type { TreeView } from "./data.ts";
import { esc, fmtUs, table, td } from "./html.ts";

/** A receiver's statistics, as the results carry them. */
type Stats = NonNullable<EvalNode["stats"]>;

/** "+300.1 ± 12.0" for a measured offset, "-" for none. */
export function fmtOffset(s: Stats | undefined): string {
  if (s?.offsetUs === undefined || !s.offsetSamples) return "-";
  const sign = s.offsetUs > 0 ? "+" : "";
  return `${sign}${fmtUs(s.offsetUs)} ± ${fmtUs(s.offsetBoundUs)}`;
}

/** The table of the tree's edges and their offsets (a note when it has none). */
export function edgeClocksTable(v: TreeView): string {
  const t = v.tree;
  if (t.edges.length === 0) return `<p class="note">No edges.</p>`;
  const nodes = new Map((v.shown?.nodes ?? []).map((n) => [n.addr, n]));
  const rows = t.edges.map(([parent, child]) => {
    const node = nodes.get(child)?.stats;
    const stage = t.stages.findLast((s) =>
      s.parent === parent &&
      s.candidates.some((c) => c.addr === child && c.kept)
    )?.candidates.find((c) => c.addr === child)?.stats;
    const from = node?.offsetSamples
      ? "evaluation"
      : stage?.offsetSamples
      ? "stage"
      : "";
    const s = from === "evaluation" ? node : stage;
    return `<tr>${td(esc(parent), "addr")}${td(esc(child), "addr")}${
      td(esc(fmtOffset(s)), "num")
    }${td(s?.offsetSamples ? String(s.offsetSamples) : "-", "num")}${
      td(s ? String(s.negative) : "-", "num")
    }${td(from || "not measured")}</tr>`;
  });
  return table("clocks", [
    { label: "parent" },
    { label: "child" },
    {
      label: "offset µs",
      num: true,
      title: "the child's clock minus its parent's, ± half the smallest " +
        "echo round trip; its delays include it",
    },
    { label: "echoes", num: true },
    {
      label: "negative",
      num: true,
      title: "delays that came out below zero (recorded as 0)",
    },
    { label: "measured in" },
  ], rows);
}
