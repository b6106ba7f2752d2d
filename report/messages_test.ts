import assert from "node:assert/strict";
import type { Results } from "../core/results.ts";
import { figuresOf, spread } from "../tests/fixtures/message_figures.ts";
import { demoResults } from "../tests/fixtures/results_demo.ts";
import { mergedCdfPoints } from "./data.ts";
import { kindCurves, messagesSection } from "./messages.ts";
import { renderReport } from "./report.ts";

const count = (s: string, sub: string) => s.split(sub).length - 1;

/** The markup of the first element opening with `open`. */
function element(html: string, open: string, tag: string): string {
  const at = html.indexOf(open);
  assert.ok(at >= 0, `no ${open}`);
  return html.slice(at, html.indexOf(`</${tag}>`, at) + tag.length + 3);
}

/**
 * The demo's results with two runs per tree carrying per-message figures:
 * BEST-P90's worst receiver 10-50 µs, the others' 10-500 µs; WORST-P90
 * lost 2 % of its messages.
 */
function withFigures(): Results {
  const r = demoResults();
  r.versions.results = 3;
  for (const t of r.trees) {
    t.evaluations.push({ ...t.evaluations[0]!, run: 2 });
    const high = t.name === "BEST-P90" ? 50 : 500;
    const lost = t.name === "WORST-P90" ? 2 : 0;
    t.evaluations.forEach((e, i) => {
      e.messages = figuresOf(
        spread(100 - lost, 10, high + i),
        spread(100 - lost, 5, 8),
        { lost },
      );
    });
  }
  return r;
}

Deno.test("mergedCdfPoints: histograms added together, lost messages above every value", () => {
  const a = figuresOf(spread(50, 10, 20), spread(50, 1, 1));
  const b = figuresOf(spread(50, 30, 40), spread(50, 1, 1), { lost: 25 });
  const pts = mergedCdfPoints(
    [a.latency.histogram, b.latency.histogram],
    a.lost + b.lost,
  );
  // 100 of 125 messages have a delay: the curve stops at 80 %.
  assert.ok(Math.abs(pts.at(-1)!.fraction - 0.8) < 1e-9);
  assert.ok(Math.abs(pts.at(-1)!.us - 40) < 0.05, `${pts.at(-1)!.us}`);
  // Half of the delays are a's: at 20 µs, 40 % of all messages.
  const at20 = pts.filter((p) => p.us <= 20.02).at(-1)!;
  assert.ok(Math.abs(at20.fraction - 0.4) < 0.005, `${at20.fraction}`);
  assert.deepEqual(mergedCdfPoints(["not a histogram"], 0), []);
});

Deno.test("report: the per-message section has a row per kind, the pairs, and the latency, window and fair-share charts with a curve per kind", async () => {
  const r = withFigures();
  const html = await renderReport(r);
  const section = element(html, '<section id="messages">', "section");
  assert.ok(html.indexOf('<section id="kinds">') < html.indexOf(section));
  const kinds = r.trees.map((t) => t.name);
  const table = element(section, '<table class="messages">', "table");
  assert.equal(count(table, "<tr data-kind="), kinds.length);
  const best = element(table, '<tr data-kind="BEST-P90">', "tr");
  // BEST-P90's p99 over its two runs: 50.1 ± 6.3 µs (histogram buckets).
  assert.ok(best.includes(">50.1 ± 6.3<"), best);
  const worst = element(table, '<tr data-kind="WORST-P90">', "tr");
  // WORST-P90 lost 2 % of messages: its p99 is among them in both runs.
  assert.ok(worst.includes(">- (2 null)<"), worst);
  assert.ok(worst.includes(">2.00 ± 0.00 %<"), worst);
  assert.ok(
    section.includes(
      "BEST-P90 below RANDOM (worst-receiver p99 intervals apart)",
    ),
  );
  assert.ok(
    section.includes(
      "BEST-WEIGHTED vs RANDOM: not told apart by this run (intervals overlap)",
    ),
  );
  for (const cls of ["msg-latency", "msg-window", "msg-fair"]) {
    const fig = element(section, `<figure class="chart ${cls}">`, "figure");
    assert.equal(count(fig, "<svg"), 1, cls);
    assert.equal(count(fig, 'aria-roledescription="line mark"'), 4, cls);
    for (const k of kinds) assert.ok(fig.includes(`>${k}<`), `${cls}: ${k}`);
  }
});

Deno.test("report: a format-1 results file renders without per-message figures and says so, with no empty chart", async () => {
  const r = demoResults();
  assert.equal(r.versions.results, 1);
  const html = await renderReport(r);
  const section = element(html, '<section id="messages">', "section");
  assert.ok(
    section.includes("No per-message figures in this results file (format 1)"),
    section,
  );
  assert.equal(count(section, "<svg"), 0);
  assert.equal(count(section, "<table"), 0);
  // The rest of the report is all there.
  assert.equal(count(html, '<section class="tree"'), r.trees.length);
});

Deno.test("kindCurves: one curve per kind that has figures", async () => {
  const r = withFigures();
  r.trees[0]!.evaluations.forEach((e) => delete e.messages);
  const curves = kindCurves(r, "window");
  assert.deepEqual(
    curves.map((c) => c.name),
    r.trees.slice(1).map((t) => t.name),
  );
  const section = await messagesSection(r);
  assert.ok(!section.includes(`data-kind="${r.trees[0]!.name}"`));
});
