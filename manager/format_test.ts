import assert from "node:assert/strict";
import { demoResults } from "../tests/fixtures/results_demo.ts";
import { mismatchWarnings, modeLine, offsetWarnings } from "./format.ts";

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
