import assert from "node:assert/strict";
import { leafDelays } from "../core/results.ts";
import { demoResults } from "../tests/fixtures/results_demo.ts";
import {
  leafCdfSpec,
  renderSvg,
  seriesSpec,
  worstBarSpec,
  worstCdfSpec,
} from "./charts.ts";
import { leafCurves, seriesRows, summaryRows, treeViews } from "./data.ts";

const views = treeViews(demoResults());
const worstTree = views.find((v) => v.tree.type === "WORST")!;

async function render(spec: Parameters<typeof renderSvg>[0]): Promise<string> {
  const warnings: string[] = [];
  const svg = await renderSvg(spec, { onWarning: (w) => warnings.push(w) });
  assert.deepEqual(warnings, []);
  assert.ok(svg.startsWith("<svg"));
  return svg;
}

Deno.test("leafCdfSpec: one line per leaf, worst bold, stragglers dashed", async () => {
  const curves = leafCurves(worstTree);
  const spec = leafCdfSpec(curves, { title: "t" });
  const svg = await render(spec);
  assert.equal(svg.split('aria-roledescription="line mark"').length - 1, 4);
  const worst = curves.find((c) => c.worst)!;
  assert.ok(svg.includes(`${worst.leaf} (worst) [slow]`));
  // The worst leaf's line is drawn thicker, a straggler's dashed.
  assert.match(svg, /stroke-width="3.5"/);
  assert.match(svg, /stroke-dasharray="6,3"/);
});

Deno.test("worstCdfSpec and worstBarSpec name every tree", async () => {
  const worst = views.flatMap((v) => leafCurves(v).filter((c) => c.worst));
  const [cdf, bars] = await Promise.all([
    render(worstCdfSpec(worst)),
    render(worstBarSpec(summaryRows(views))),
  ]);
  for (const v of views) {
    assert.ok(cdf.includes(`>${v.label}<`), v.label);
    assert.ok(bars.includes(`>${v.label}<`), v.label);
  }
  const p90 = leafDelays(worstTree.shown!.worstLeaf)!.p90Us;
  assert.ok(bars.includes(`>${Math.round(p90).toLocaleString("en-US")}<`));
});

Deno.test("seriesSpec: p90 and stddev panels", async () => {
  const svg = await render(
    seriesSpec(seriesRows(worstTree), { slow: worstTree.slow }),
  );
  assert.ok(svg.includes("p90 delay (µs)"));
  assert.ok(svg.includes("stddev of delay (µs)"));
});
