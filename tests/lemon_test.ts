/**
 * LEMON and rebuild on real processes: 12 local workers, 3 of them
 * emulated stragglers (5 ms on every packet they receive).
 */
import assert from "node:assert/strict";
import { Experiment } from "../manager/experiment.ts";
import { Manager } from "../manager/manager.ts";
import {
  type EvaluationResult,
  leafDelays,
  type Results,
} from "../core/results.ts";
import { parseScript } from "../manager/script.ts";
import { assertResultsSchema } from "./helpers/schema.ts";
import { randomTreeSeeds } from "./helpers/seeds.ts";
import { startTestbed, type Testbed } from "./helpers/testbed.ts";

function script(bed: Testbed, seed: number, extra: string): string {
  return `name: LEMON
seed: ${seed}
addrs: [${bed.addrs.map((a) => `"${a}"`).join(", ")}]
depth: 2
fanout: 2
hyperparameter: 4
rate: 1000
duration: 400ms
warmup: 100ms
evaluation: { duration: 500ms, warmup: 100ms }
root: "${bed.addrs[0]}"
timeouts: { request: 8, retries: 1, job_grace: 10 }
${extra}
`;
}

/** The worst leaf's p90 (a silent leaf, which got nothing, is the worst). */
const p90 = (e: EvaluationResult) =>
  (e.worstLeaf && leafDelays(e.worstLeaf)?.p90Us) ?? Infinity;

async function run(text: string): Promise<Results> {
  const m = new Manager({ timeoutMs: 8000, retries: 1 });
  try {
    return await new Experiment(parseScript(text, "lemon.yaml"), { manager: m })
      .run();
  } finally {
    m.close();
  }
}

/**
 * A seed whose RANDOM tree holds exactly one straggler, as a leaf, and
 * whose rebuild round can replace it: the fresh candidates it draws (by the
 * seed) are not all stragglers, as a fake run of the same script shows.
 */
async function seedWithOneStragglerLeaf(bed: Testbed): Promise<number> {
  const slow = new Set(bed.stragglers);
  const [seed] = await randomTreeSeeds(
    (seed) => script(bed, seed, "trees: [{ type: RANDOM }]\nrebuild: 1"),
    (t) => {
      // The round changes only the worst leaf's parent's children: a tree
      // with no straggler after it held one straggler, there, before it.
      const r = t.rebuilds?.[0];
      return r !== undefined && slow.has(r.worstLeaf) &&
        r.before.filter((a) => slow.has(a)).length === 1 &&
        t.nodes.every((n) => !slow.has(n!));
    },
    1,
    bed.stragglers,
  );
  return seed!;
}

Deno.test({
  name:
    "LEMON: the all-to-all matrix's straggler rows stand out and the LEMON tree holds none; one rebuild round removes a straggler leaf",
  sanitizeResources: false,
  fn: async () => {
    const bed = await startTestbed(12, {
      slow: [9, 10, 11],
      emulate: "delay=5ms,jitter=100us",
      // A parent and up to 4 children run at once on each worker in a
      // round: the first round starts the warm probes it lacks (kept for
      // the next rounds), so give a loaded machine time to start them.
      args: ["--relay-timeout", "6s"],
    });
    let lemon: Results, rebuilt: Results;
    const seed = await seedWithOneStragglerLeaf(bed);
    try {
      lemon = await run(script(
        bed,
        1,
        "trees: [{ type: LEMON }]\nlemon: { limit: 4, duration: 300ms, warmup: 100ms }",
      ));
      rebuilt = await run(
        script(bed, seed, "trees: [{ type: RANDOM }]\nrebuild: 1"),
      );
    } finally {
      await bed.stop();
    }
    const slow = new Set(bed.stragglers);

    assert.equal(lemon.status, "complete");
    assertResultsSchema(JSON.parse(JSON.stringify(lemon)));
    const phase = lemon.allToAll![0]!;
    assert.equal(phase.rounds, 3); // 11 peers, 4 at once
    assert.ok(phase.packets > 0);
    const rows = phase.addrs.map((a, i) => ({
      a,
      d: phase.delaysUs[i]!.filter((x): x is number => x !== null),
    }));
    const fast = rows.filter((r) => !slow.has(r.a));
    const fastMax = Math.max(...fast.flatMap((r) => r.d));
    // A pair can fail on a loaded machine (its parent's job is then lost for
    // the round); every row keeps most of its peers, and every straggler's
    // row stands out.
    const errors = Object.entries(phase.errors ?? {});
    assert.ok(
      rows.every((r) => r.d.length >= 3),
      `${errors.length} pairs failed, e.g. ${
        JSON.stringify(errors.slice(0, 2))
      }`,
    );
    for (const r of rows.filter((r) => slow.has(r.a))) {
      assert.ok(r.d.length >= 1, `${r.a}: no peer reported`);
      // Every median a straggler received is above every fast worker's.
      assert.ok(Math.min(...r.d) > fastMax, `${r.a}: ${r.d} vs ${fastMax}`);
    }
    const t = lemon.trees[0]!;
    assert.equal(t.status, "complete");
    assert.deepEqual(t.stragglers, [], JSON.stringify(t.nodes));
    assert.ok(p90(t.evaluations[0]!) < 5000);
    assert.equal(lemon.summary!.rows[0]!.probing.packets, phase.packets);

    assert.equal(rebuilt.status, "complete");
    assertResultsSchema(JSON.parse(JSON.stringify(rebuilt)));
    const r = rebuilt.trees[0]!;
    const straggler = r.rebuilds![0]!.worstLeaf;
    assert.ok(slow.has(straggler), `worst leaf ${straggler} is no straggler`);
    assert.equal(r.evaluations[0]!.worstLeaf!.addr, straggler);
    assert.deepEqual(r.stragglers, [], JSON.stringify(r.nodes));
    assert.ok(!r.rebuilds![0]!.after.includes(straggler));
    assert.deepEqual(r.evaluations.map((e) => e.round ?? 0), [0, 1]);
    assert.ok(!slow.has(r.evaluations[1]!.worstLeaf!.addr));
  },
});
