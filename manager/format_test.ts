import assert from "node:assert/strict";
import { demoResults } from "../tests/fixtures/results_demo.ts";
import { figuresOf, spread } from "../tests/fixtures/message_figures.ts";
import {
  kindsTable,
  mismatchWarnings,
  modeLine,
  offsetWarnings,
} from "./format.ts";

Deno.test("the terminal says the run's probe I/O mode and warns for each mismatched receiver", () => {
  const r = demoResults();
  assert.equal(modeLine(r), "probes: deno I/O, user timestamps\n");
  r.io = "NATIVE";
  r.timestamps = "KERNEL";
  r.mismatches = [{
    addr: "127.0.0.1:9",
    tree: "BEST-P90",
    during: "evaluation",
    detail:
      "Measured with user timestamps; the experiment compares kernel timestamps",
  }];
  assert.equal(modeLine(r), "probes: native I/O, kernel timestamps\n");
  assert.deepEqual(mismatchWarnings(r), [
    'warning: BEST-P90 evaluation: "127.0.0.1:9": Measured with user timestamps; ' +
    "the experiment compares kernel timestamps (not comparable with the other receivers)",
  ]);
  delete r.io;
  assert.equal(modeLine(r), undefined);
});

Deno.test("the terminal warns for each stage whose cut is closer than its offsets' bounds", () => {
  const r = demoResults();
  assert.deepEqual(offsetWarnings(r), []);
  const t = r.trees[1]!;
  t.stages[0]!.offsetDoubt = "the choice may be the clocks'";
  assert.deepEqual(offsetWarnings(r), [
    `warning: ${t.name} stage of "${
      t.stages[0]!.parent
    }": the choice may be the clocks'`,
  ]);
});

Deno.test("the terminal's summary across roots and runs adds the per-message table and a line per pair of kinds when evaluations carry figures", () => {
  const r = demoResults();
  delete r.summary;
  const before = kindsTable(r);
  assert.ok(!before.includes("Per message"));
  // Two runs per tree: BEST-P90's worst receiver far below the others'.
  for (const t of r.trees) {
    const high = t.name === "BEST-P90" ? 50 : 500;
    t.evaluations.push({ ...t.evaluations[0]!, run: 2 });
    t.evaluations.forEach((e, i) => {
      e.messages = figuresOf(spread(100, 10, high + i), spread(100, 5, 5));
    });
  }
  const text = kindsTable(r);
  assert.match(text, /^kind +n +silent +p90_us/);
  const lines = text.split("\n");
  const head = lines.findIndex((l) =>
    l.startsWith("kind  ") && l.includes("latency_p99_us")
  );
  assert.ok(head > 0, text);
  const best = lines.find((l) =>
    l.startsWith("BEST-P90 ") && l.includes("±") && lines.indexOf(l) > head
  )!;
  assert.match(best, / 50\.1 ± 6\.3 /);
  assert.ok(
    text.includes("BEST-P90 below RANDOM (worst-receiver p99 intervals apart)"),
    text,
  );
  // The pairs not told apart, a line per kind naming every other kind.
  assert.ok(
    text.includes(
      "\nBEST-WEIGHTED vs WORST-P90, RANDOM: not told apart by this run " +
        "(intervals overlap)\n",
    ),
    text,
  );
  assert.equal(text.match(/ vs .*: not told apart/g)?.length, 2, text);
});
