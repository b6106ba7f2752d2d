import assert from "node:assert/strict";
import { leafDelays } from "../core/results.ts";
import { demoResults } from "../tests/fixtures/results_demo.ts";
import { renderReport } from "./report.ts";

/** The markup of the element opening with `open` (no nesting of its tag). */
function element(html: string, open: RegExp, tag: string): string[] {
  const out: string[] = [];
  const re = new RegExp(open.source, "g");
  for (let m = re.exec(html); m; m = re.exec(html)) {
    const end = html.indexOf(`</${tag}>`, m.index);
    assert.ok(end > 0, `unclosed <${tag}> at ${m.index}`);
    out.push(html.slice(m.index, end + tag.length + 3));
  }
  return out;
}

const count = (s: string, sub: string) => s.split(sub).length - 1;

const results = demoResults();
const html = await renderReport(results);
const trees = element(html, /<section class="tree"[^>]*>/, "section");

Deno.test("the report has one section per tree, named by data-tree", () => {
  assert.deepEqual(
    trees.map((s) => s.match(/data-tree="([^"]+)"/)![1]),
    results.trees.map((t) => t.name),
  );
});

Deno.test("every tree has one drawing and one CDF chart", () => {
  for (const s of trees) {
    const drawings = element(s, /<figure class="drawing">/, "figure");
    const cdfs = element(s, /<figure class="chart cdf">/, "figure");
    assert.equal(drawings.length, 1);
    assert.equal(count(drawings[0]!, "<svg"), 1);
    assert.equal(cdfs.length, 1);
    assert.equal(count(cdfs[0]!, "<svg"), 1);
    // One curve per leaf: depth 2, fanout 2.
    assert.equal(count(cdfs[0]!, 'aria-roledescription="line mark"'), 4);
  }
});

Deno.test("the summary has a row per tree and run with the worst leaf", () => {
  const summary = element(html, /<table class="summary">/, "table")[0]!;
  const rows = element(summary, /<tr data-tree=/, "tr");
  assert.equal(rows.length, results.trees.length);
  results.trees.forEach((t, i) => {
    const w = leafDelays(t.evaluations[0]!.worstLeaf)!;
    assert.match(rows[i]!, new RegExp(`data-tree="${t.name}"`));
    assert.ok(rows[i]!.includes(w.addr));
    assert.ok(rows[i]!.includes(w.p90Us.toFixed(1)));
  });
});

Deno.test("stragglers show at a glance: listed per tree, marked in drawings", () => {
  const summary = element(html, /<table class="summary">/, "table")[0]!;
  const rows = element(summary, /<tr data-tree=/, "tr");
  results.trees.forEach((t, i) => {
    const n = Number(rows[i]!.match(/data-stragglers="(\d+)"/)![1]);
    assert.equal(n, t.stragglers.length, t.name);
    for (const s of t.stragglers) assert.ok(rows[i]!.includes(s));
    const drawing = element(trees[i]!, /<figure class="drawing">/, "figure")[0]!
      .replace(/<figcaption>[\s\S]*<\/figcaption>/, "");
    assert.equal(count(drawing, "SLOW"), t.stragglers.length, t.name);
    if (t.type === "BEST") assert.equal(t.stragglers.length, 0);
  });
  assert.ok(results.trees.some((t) => t.stragglers.length > 0));
});

Deno.test("each tree's stages list every candidate and which were kept", () => {
  results.trees.forEach((t, i) => {
    const stages = element(trees[i]!, /<table class="stages">/, "table");
    if (t.stages.length === 0) {
      assert.equal(stages.length, 0);
      return;
    }
    const s = stages[0]!;
    const kept = t.stages.flatMap((x) => x.candidates).filter((c) => c.kept);
    assert.equal(count(s, '<tr class="kept">'), kept.length);
    assert.equal(count(s, '<tr class="stage">'), t.stages.length);
  });
});

Deno.test("the page is self-contained: no script, no link, no fetch", () => {
  assert.doesNotMatch(html, /<script/i);
  assert.doesNotMatch(html, /<link\b/i);
  assert.doesNotMatch(html, /<img\b/i);
  assert.doesNotMatch(html, /@import|@font-face/);
  // The only URLs are XML namespaces, never fetched.
  const urls = html.match(/(?:https?:)?\/\/[^\s"'<>)]+/g) ?? [];
  for (const u of urls) {
    assert.match(u, /^http:\/\/www\.w3\.org\/(2000\/svg|1999\/xlink)$/, u);
  }
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
});

Deno.test("ids are unique across the inlined drawings and charts", () => {
  const ids = [...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
  const dup = ids.filter((id, i) => ids.indexOf(id) !== i);
  assert.deepEqual(dup, []);
});

Deno.test("text from the results file is escaped", async () => {
  const r = demoResults();
  r.name = "<script>alert(1)</script>";
  r.trees = r.trees.slice(3);
  r.trees[0]!.name = 'x"><img src=y>';
  const page = await renderReport(r);
  assert.doesNotMatch(page, /<script/i);
  assert.doesNotMatch(page, /<img/i);
  assert.ok(page.includes("&lt;script&gt;alert(1)&lt;/script&gt;"));
});

Deno.test("a run that failed early still renders, saying so", async () => {
  const r = demoResults();
  r.status = "failed";
  r.error = "The root did not answer";
  r.trees = [r.trees[0]!];
  r.trees[0]!.evaluations = [];
  r.trees[0]!.status = "failed";
  const page = await renderReport(r);
  assert.match(page, /The run is failed: The root did not answer/);
  const s = element(page, /<section class="tree"[^>]*>/, "section")[0]!;
  assert.equal(count(s, "<svg"), 1); // the drawing, no chart
  assert.match(s, /No leaf reported a delay distribution/);
});

Deno.test("the summary says which probe I/O mode measured every delay, and who was left out", async () => {
  const summary = element(html, /<section id="summary">/, "section")[0]!;
  assert.match(
    summary,
    /measured by probes with deno I\/O and user receive timestamps\./,
  );
  const r = demoResults();
  r.io = "NATIVE";
  r.timestamps = "KERNEL";
  r.mismatches = [{
    addr: "127.0.0.1:9",
    tree: "BEST-P90",
    during: "stage",
    detail: "Measured with user timestamps",
  }];
  const page = await renderReport(r);
  assert.match(
    element(page, /<section id="summary">/, "section")[0]!,
    /native I\/O and kernel receive timestamps\. Measured with another timestamp kind, not comparable \(candidates not selected\): <span class="addr">127\.0\.0\.1:9<\/span> \(BEST-P90 stage\)/,
  );
});

Deno.test("a silent leaf shows: the worst leaf marked silent with why, listed under its tree", async () => {
  const r = demoResults();
  const t = r.trees[0]!, ev = t.evaluations[0]!;
  const leaf = ev.nodes.find((n) => n.role === "leaf")!;
  const reason =
    "received no packets (1000 counted lost), nor the stream's END";
  leaf.stats = { ...leaf.stats!, received: 0 };
  ev.silent = [{ addr: leaf.addr, reason }];
  ev.worstLeaf = { addr: leaf.addr, silent: reason };
  const page = await renderReport(r);
  const summary = element(page, /<table class="summary">/, "table")[0]!;
  const row = element(summary, /<tr data-tree=/, "tr")[0]!;
  assert.ok(row.includes(leaf.addr));
  assert.ok(row.includes(`silent: ${reason.replace("'", "&#39;")}`), row);
  const section = element(page, /<section class="tree"[^>]*>/, "section")[0]!;
  assert.match(section, /received nothing: /);
});

Deno.test("each edge's clock offset and bound show per tree, with every candidate's and a stage's doubt", async () => {
  const r = demoResults();
  const t = r.trees[0]!;
  const s = t.stages[0]!;
  const kept = s.candidates.find((c) => c.kept)!;
  kept.stats = {
    ...kept.stats!,
    offsetUs: 12.5,
    offsetBoundUs: 4,
    offsetSamples: 30,
  };
  s.offsetDoubt = "bounds wider than the cut";
  const sec = element(
    await renderReport(r),
    /<section class="tree"[^>]*>/,
    "section",
  )[0]!;
  const [clocks] = element(sec, /<table class="clocks">/, "table");
  assert.ok(clocks, "no table of the edges' offsets");
  assert.equal(count(clocks, "<tr>"), t.edges.length + 1); // + the head
  const row = element(clocks, /<tr>/, "tr").find((x) =>
    x.includes(`>${s.parent}<`) && x.includes(`>${kept.addr}<`)
  )!;
  assert.match(row, /\+12\.5 ± 4\.0<\/td><td class="num">30<\/td>.*stage/);
  assert.match(clocks, /not measured/); // the fixture's other edges
  const [stages] = element(sec, /<table class="stages">/, "table");
  assert.match(stages!, /clocks: bounds wider than the cut/);
  assert.match(stages!, /\+12\.5 ± 4\.0/);
});
