/**
 * Pairwise clock offsets through the whole stack: real workers on loopback,
 * one of them with a clock faked 300 µs ahead (`--emulate offset=300us`),
 * another honestly 150 µs slower (`--emulate delay=150us`). The root measures
 * each candidate's offset from its echoes; `clocks: trust` scores the skewed
 * one 300 µs slower than it is and keeps the slow one, `clocks: correct`
 * removes the skew and keeps the skewed (really faster) one.
 */
import assert from "node:assert/strict";
import type { CandidateResult } from "../core/results.ts";
import { Experiment } from "../manager/experiment.ts";
import { Manager } from "../manager/manager.ts";
import type { Results } from "../manager/results.ts";
import { parseScript } from "../manager/script.ts";
import { assertResultsSchema } from "./helpers/schema.ts";
import { startTestbed } from "./helpers/testbed.ts";

function script(addrs: string[], clocks: string): string {
  return `name: OFFSETS
addrs: [${addrs.map((a) => `"${a}"`).join(", ")}]
depth: 1
fanout: 1
hyperparameter: 2
rate: 2000
duration: 500ms
warmup: 100ms
evaluation: { rate: 2000, duration: 300ms, warmup: 100ms, runs: 1 }
root: "${addrs[0]}"
clocks: ${clocks}
trees:
  - { type: BEST, strategy: P90 }
timeouts: { request: 3, retries: 1, job_grace: 10 }
`;
}

Deno.test({
  name:
    "clocks: correct scores a child's delays minus the offset its parent measured (--emulate offset=300us), trust as measured",
  sanitizeResources: false,
  fn: async () => {
    const bed = await startTestbed(3, {
      args: ["--cold-probes"],
      perWorker: [[], ["--emulate", "offset=300us"], [
        "--emulate",
        "delay=150us",
      ]],
    });
    const [root, skewed, slow] = bed.addrs as [string, string, string];
    const run = async (clocks: string): Promise<Results> => {
      const m = new Manager({ timeoutMs: 3000, retries: 1 });
      try {
        const s = parseScript(script(bed.addrs, clocks), `${clocks}.yaml`);
        return await new Experiment(s, { manager: m }).run();
      } finally {
        m.close();
      }
    };
    let trust: Results, correct: Results;
    try {
      trust = await run("trust");
      correct = await run("correct");
    } finally {
      await bed.stop();
    }
    const cand = (r: Results, addr: string): CandidateResult =>
      r.trees[0]!.stages[0]!.candidates.find((c) => c.addr === addr)!;
    for (
      const [policy, r] of [["trust", trust], ["correct", correct]] as const
    ) {
      assert.equal(r.status, "complete");
      assertResultsSchema(JSON.parse(JSON.stringify(r)));
      for (const [addr, want] of [[skewed, 300], [slow, 0]] as const) {
        const st = cand(r, addr).stats!;
        assert.ok(
          st.offsetSamples! >= 5 &&
            Math.abs(st.offsetUs! - want) <= st.offsetBoundUs! + 0.001,
          `${policy}: "${addr}" measured ${st.offsetUs} ` +
            `+- ${st.offsetBoundUs} us (${st.offsetSamples} echoes), emulated ${want} us`,
        );
      }
    }
    // trust: the score is the p90 as measured, skew included.
    const ts = cand(trust, skewed);
    assert.equal(ts.score, ts.stats!.p90Us);
    assert.deepEqual(trust.trees[0]!.nodes, [root, slow]);
    // correct: the p90 minus the measured offset; the skew is gone.
    const cs = cand(correct, skewed);
    assert.ok(
      Math.abs(cs.score! - (cs.stats!.p90Us - cs.stats!.offsetUs!)) < 1e-6,
    );
    assert.deepEqual(correct.trees[0]!.nodes, [root, skewed]);
    // The evaluation's leaf carries the edge's offset too.
    const leaf = correct.trees[0]!.evaluations[0]!.nodes.find((n) =>
      n.addr === skewed
    )!;
    assert.ok(
      Math.abs(leaf.stats!.offsetUs! - 300) <= leaf.stats!.offsetBoundUs! +
          0.001,
      JSON.stringify({ ...leaf.stats, histogram: "…", series: "…" }),
    );
  },
});
