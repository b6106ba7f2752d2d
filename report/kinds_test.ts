import assert from "node:assert/strict";
import { demoResults } from "../tests/fixtures/results_demo.ts";
import { kindsSection, rebuildLines } from "./kinds.ts";
import { renderReport } from "./report.ts";

Deno.test("report: the summary across roots and runs comes first, one row per tree kind", async () => {
  const r = demoResults();
  const html = await renderReport(r);
  const kinds = html.indexOf('<section id="kinds">');
  assert.ok(kinds > 0 && kinds < html.indexOf('<section id="summary">'));
  const section = kindsSection(r);
  for (const t of r.trees) {
    assert.ok(section.includes(`data-kind="${t.name}"`), t.name);
  }
  assert.ok(section.includes("vs RANDOM") && section.includes("vs WORST"));
});

Deno.test("report: a line per rebuild round, and the all-to-all matrix", () => {
  const r = demoResults();
  const t = r.trees[0]!;
  const leaf = t.evaluations[0]!.worstLeaf!.addr;
  t.rebuilds = [{
    round: 1,
    parent: t.nodes[1]!,
    worstLeaf: leaf,
    before: [leaf, "x:1"],
    after: ["y:2", "x:1"],
    ms: 10,
    finishedUs: 0,
  }];
  t.evaluations.push({ ...t.evaluations[0]!, round: 1 });
  const lines = rebuildLines(t);
  assert.equal(lines.split("<li").length - 1, 1);
  assert.ok(lines.includes(`replaced ${leaf} by y:2`), lines);
  r.allToAll = [{
    root: "a:1",
    rootIndex: 0,
    addrs: ["a:1", "b:2"],
    limit: 1,
    rounds: 1,
    delaysUs: [[null, 120], [5100, null]],
    packets: 2000,
    startedUs: 0,
    finishedUs: 1_500_000,
  }];
  const section = kindsSection(r);
  assert.ok(
    section.includes("2 workers, 1 rounds of at most 1 peers, 2000 packets"),
    section,
  );
  assert.ok(section.includes(">5100<"));
});
