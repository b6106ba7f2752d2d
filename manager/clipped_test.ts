/**
 * With `clocks: correct`, a candidate whose delays came out negative (and
 * were counted as 0 by its probe, before any correction) has its corrected
 * score flagged in the results, not passed off as a corrected figure.
 */
import assert from "node:assert/strict";
import type { Job } from "../proto/codec.ts";
import { A, FakeClock, FakeWorkers, stats } from "./_testing.ts";
import { Experiment } from "./experiment.ts";
import { parseScript } from "./script.ts";
import { clippedBeforeCorrection } from "./strategy.ts";

/** Every receiver's clock 100 us behind its sender's; `A[5]` clipped 30 delays. */
class SkewedWorkers extends FakeWorkers {
  override async report(addr: string, id: string) {
    const r = await super.report(addr, id);
    const skew = (j: Job): Job => ({
      ...j,
      deps: j.deps.map(skew),
      ...(j.stats
        ? {
          stats: {
            ...j.stats,
            offsetUs: -100,
            offsetBoundUs: 5,
            offsetSamples: 8,
            negative: j.owner === A[5] ? 30 : 0,
          },
        }
        : {}),
    });
    return { ...r, job: skew(r.job) };
  }
}

async function run(clocks: string) {
  const clock = new FakeClock();
  const workers = new SkewedWorkers(clock);
  A.forEach((a, i) => (workers.delay[a] = 40 + i));
  const script = parseScript(
    `name: T\nseed: 1\naddrs: [${A.map((a) => `"${a}"`).join(", ")}]\n` +
      `depth: 1\nfanout: 2\nhyperparameter: 11\nrate: 1000\nduration: 2s\n` +
      `warmup: 1s\nevaluation: { duration: 1s }\nroot: "${A[0]}"\n` +
      `trees: [{ type: BEST, strategy: P90 }]\nclocks: ${clocks}\n`,
    "t.yaml",
  );
  const r = await new Experiment(script, { manager: workers, clock }).run();
  return r.trees[0]!.stages[0]!.candidates;
}

Deno.test("clocks: correct: a candidate whose delays were clipped before the correction is flagged with how many", async () => {
  const cands = await run("correct");
  const flagged = cands.filter((c) => c.clipped !== undefined);
  assert.deepEqual(flagged.map((c) => [c.addr, c.clipped]), [[A[5], 30]]);
  // Its score is still the corrected one (p90 + 100 us), only flagged.
  assert.equal(flagged[0]!.score, flagged[0]!.stats!.p90Us + 100);
});

Deno.test("clocks: trust: nothing is corrected, so nothing is flagged", async () => {
  const cands = await run("trust");
  assert.ok(cands.every((c) => c.clipped === undefined));
  assert.equal(cands.length, 11);
});

Deno.test("clippedBeforeCorrection: only negative delays of a corrected receiver", () => {
  const s = { ...stats(50), negative: 4, offsetUs: 10, offsetSamples: 3 };
  assert.equal(clippedBeforeCorrection(s, "correct"), 4);
  assert.equal(clippedBeforeCorrection(s, "trust"), undefined);
  assert.equal(
    clippedBeforeCorrection({ ...s, offsetSamples: 0 }, "correct"),
    undefined,
  );
  assert.equal(
    clippedBeforeCorrection({ ...s, negative: 0 }, "correct"),
    undefined,
  );
});
