import assert from "node:assert/strict";
import { demoResults } from "../tests/fixtures/results_demo.ts";
import { allNodeP90s, treeViews } from "./data.ts";
import { delayScale, renderDot, scopeSvgIds, treeDot } from "./draw.ts";

const views = treeViews(demoResults());
const scale = delayScale(allNodeP90s(views));
const nodeLine = (dot: string, addr: string) =>
  dot.split("\n").find((l) => l.includes(`>${addr}<`))!;

Deno.test("delayScale: slower is darker, on a log scale", () => {
  const s = delayScale([100, 1000, 10000]);
  const lum = (hex: string) =>
    [1, 3, 5].reduce((a, i) => a + parseInt(hex.slice(i, i + 2), 16), 0);
  assert.ok(lum(s.fill(100)) > lum(s.fill(1000)));
  assert.ok(lum(s.fill(1000)) > lum(s.fill(10000)));
  assert.equal(s.ink(100), "#111111");
  assert.equal(s.ink(10000), "#ffffff");
  assert.deepEqual(s.stops(3).map(Math.round), [100, 1000, 10000]);
});

Deno.test("treeDot: root marked, every node labelled with its p90", () => {
  const v = views[0]!;
  const dot = treeDot(v, scale);
  const root = nodeLine(dot, v.tree.root);
  assert.match(root, /<B>ROOT<\/B>/);
  for (const n of v.shown!.nodes.filter((n) => n.stats)) {
    const line = nodeLine(dot, n.addr);
    assert.ok(line.includes(`p90 ${n.stats!.p90Us.toFixed(0)} µs`), line);
    assert.ok(line.includes(`fillcolor="${scale.fill(n.stats!.p90Us)}"`));
  }
  assert.equal((dot.match(/ -> /g) ?? []).length, v.tree.edges.length);
  assert.match(nodeLine(dot, v.shown!.worstLeaf!.addr), /WORST LEAF/);
  assert.doesNotMatch(dot, /SLOW/);
});

Deno.test("treeDot: emulated stragglers get a red outline and SLOW", () => {
  const v = views.find((v) => v.tree.type === "WORST")!;
  const dot = treeDot(v, scale);
  for (const addr of v.tree.nodes) {
    const line = nodeLine(dot, addr!);
    const slow = v.tree.stragglers.includes(addr!);
    assert.equal(line.includes("SLOW (emulated)"), slow, addr!);
    assert.equal(line.includes('color="#d00000"'), slow, addr!);
  }
});

Deno.test("treeDot: a hedged tree's hedge edges are drawn dashed, its tree edges solid", () => {
  const v = views[0]!;
  const [, a, b, a1, a2, b1, b2] = v.tree.nodes as string[];
  const hedges: [string, string][] = [[a!, b1!], [a!, b2!], [b!, a1!], [
    b!,
    a2!,
  ]];
  const dot = treeDot({ ...v, tree: { ...v.tree, hedges } }, scale);
  const arrows = dot.split("\n").filter((l) => l.includes(" -> "));
  const dashed = arrows.filter((l) => l.includes("style=dashed"));
  assert.equal(dashed.length, 4);
  assert.equal(arrows.length - dashed.length, v.tree.edges.length);
});

Deno.test("renderDot: inline-ready SVG with ids of its own", async () => {
  const svg = await renderDot(treeDot(views[0]!, scale), "tree-1");
  assert.ok(svg.startsWith("<svg"));
  assert.doesNotMatch(svg, /<\?xml|<!DOCTYPE/);
  const ids = [...svg.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]!);
  assert.ok(ids.length > 7);
  for (const id of ids) assert.ok(id.startsWith("tree-1-"), id);
  await assert.rejects(renderDot("digraph { a -> ", "x"), /Cannot lay out/);
});

Deno.test("scopeSvgIds rewrites references along with ids", () => {
  assert.equal(
    scopeSvgIds(
      '<g id="a"><use href="#a"/><rect clip-path="url(#a)"/></g>',
      "p",
    ),
    '<g id="p-a"><use href="#p-a"/><rect clip-path="url(#p-a)"/></g>',
  );
});
