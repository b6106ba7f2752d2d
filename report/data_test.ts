import assert from "node:assert/strict";
import * as hdr from "hdr-histogram-js";
import { demoResults } from "../tests/fixtures/results_demo.ts";
import {
  anyEmulation,
  cdfPoints,
  leafCurves,
  seriesRows,
  summaryRows,
  treeViews,
} from "./data.ts";

/** A histogram as the probes record it: nanoseconds, 3 digits. */
function encoded(valuesUs: number[]): string {
  const h = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60e9,
    numberOfSignificantValueDigits: 3,
    autoResize: false,
    useWebAssembly: false,
  });
  for (const v of valuesUs) h.recordValue(Math.round(v * 1000));
  const s = hdr.encodeIntoCompressedBase64(h);
  h.destroy();
  return s;
}

Deno.test("cdfPoints: microseconds from a nanosecond histogram, rising to 1", () => {
  // 1..100 us: p90 is 90 us (nearest rank), p100 100 us.
  const pts = cdfPoints(encoded(Array.from({ length: 100 }, (_, i) => i + 1)));
  assert.ok(pts.length > 50);
  for (let i = 1; i < pts.length; i++) {
    assert.ok(pts[i]!.us > pts[i - 1]!.us);
    assert.ok(pts[i]!.fraction > pts[i - 1]!.fraction);
  }
  assert.equal(pts.at(-1)!.fraction, 1);
  assert.ok(Math.abs(pts.at(-1)!.us - 100) < 0.1);
  const at90 = pts.find((p) => p.fraction >= 0.9)!;
  assert.ok(Math.abs(at90.us - 90) < 0.1, `p90 at ${at90.us}`);
});

Deno.test("cdfPoints: an empty or undecodable histogram gives no curve", () => {
  assert.deepEqual(cdfPoints(encoded([])), []);
  assert.deepEqual(cdfPoints("not base64 at all"), []);
});

Deno.test("cdfPoints agrees with the p90 each leaf of the demo reported", () => {
  const r = demoResults();
  for (const v of treeViews(r)) {
    for (const c of leafCurves(v)) {
      const n = v.shown!.nodes.find((n) => n.addr === c.leaf)!;
      const at90 = c.points.find((p) => p.fraction >= 0.9)!;
      assert.ok(
        Math.abs(at90.us - n.stats!.p90Us) <= n.stats!.p90Us * 0.002,
        `${v.label} ${c.leaf}: ${at90.us} vs ${n.stats!.p90Us}`,
      );
    }
  }
});

Deno.test("treeViews: labels stay unique when trees share a name", () => {
  const r = demoResults();
  const again = structuredClone(r.trees[0]!);
  again.root = "10.0.0.9:7000";
  r.trees.push(again);
  const labels = treeViews(r).map((v) => v.label);
  assert.equal(new Set(labels).size, labels.length);
  assert.equal(labels[0], `BEST-WEIGHTED@${r.trees[0]!.root}`);
  assert.equal(labels.at(-1), "BEST-WEIGHTED@10.0.0.9:7000");
  assert.equal(labels[1], "BEST-P90");
});

Deno.test("summaryRows: worst leaf, build time and stragglers per tree", () => {
  const r = demoResults();
  const rows = summaryRows(treeViews(r));
  assert.equal(rows.length, 4);
  const worst = rows.find((x) => x.type === "WORST")!;
  assert.equal(worst.stragglers.length, 3);
  assert.equal(worst.worstSlow, true);
  assert.equal(worst.buildS, r.trees[2]!.buildMs / 1000);
  for (const x of rows.filter((x) => x.type === "BEST")) {
    assert.deepEqual(x.stragglers, []);
    assert.equal(x.worstSlow, false);
  }
  assert.equal(anyEmulation(r), true);
  for (const w of r.workers) if (w.hello) w.hello.emulate = "";
  for (const t of r.trees) {
    t.stragglers = [];
    for (const e of t.evaluations) for (const n of e.nodes) n.emulate = "";
  }
  assert.equal(anyEmulation(r), false);
});

Deno.test("seriesRows: every leaf's seconds, worst leaf flagged", () => {
  const v = treeViews(demoResults())[0]!;
  const rows = seriesRows(v);
  assert.equal(rows.length, 4 * 2);
  const worst = rows.filter((x) => x.worst);
  assert.equal(worst.length, 2);
  assert.equal(worst[0]!.leaf, v.shown!.worstLeaf!.addr);
});
