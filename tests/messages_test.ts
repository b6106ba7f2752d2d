/**
 * An evaluation as the exchange sees it (issue #19), end to end: the
 * manager asks the root of a real tree for its per-message parts and
 * `results.json` carries the figures; on a virtual pool with stragglers,
 * the worst receiver's p99 per message orders BEST below RANDOM and WORST.
 */
import assert from "node:assert/strict";
import type { MessageFigures } from "../core/message_figures.ts";
import type { Results } from "../core/results.ts";
import { startVirtualPool, steadyRoot } from "../demo/virtual/pool.ts";
import { runScript } from "../manager/cli.ts";
import { Experiment } from "../manager/experiment.ts";
import { Manager } from "../manager/manager.ts";
import { parseScript } from "../manager/script.ts";
import { assertResultsSchema } from "./helpers/schema.ts";
import { randomTreeSeeds } from "./helpers/seeds.ts";
import { startTestbed } from "./helpers/testbed.ts";

/** Every field of a distribution over messages is a number, its histogram kept. */
function assertDistribution(m: MessageFigures, which: "latency" | "window") {
  const d = m[which];
  for (const q of [d.p50Us, d.p90Us, d.p99Us] as const) {
    assert.equal(typeof q, "number", `${which}: ${JSON.stringify(d)}`);
  }
  assert.ok(d.p50Us! <= d.p90Us! && d.p90Us! <= d.p99Us!, which);
  assert.ok(d.histogram.length > 0, which);
}

Deno.test({
  name:
    "a RANDOM tree of depth 2 and fanout 2 on 7 worker processes: results.json's evaluation carries per-message figures over its 4 leaves, about rate x duration messages",
  sanitizeResources: false,
  fn: async () => {
    // Relays and requests with room for a loaded machine.
    const bed = await startTestbed(7, { args: ["--relay-timeout", "6s"] });
    const out = await Deno.makeTempDir();
    try {
      const text = `name: MESSAGES
seed: 1
addrs: [${bed.addrs.map((a) => `"${a}"`).join(", ")}]
depth: 2
fanout: 2
evaluation: { rate: 2000, duration: 1s, warmup: 200ms, runs: 1 }
root: "${bed.addrs[0]}"
trees: [{ type: RANDOM }]
timeouts: { request: 8, retries: 1, job_grace: 10 }
`;
      const code = await runScript(parseScript(text, `${out}/m.yaml`), {
        out,
      });
      assert.equal(code, 0);
      const folder = [...Deno.readDirSync(out)].find((e) => e.isDirectory)!;
      const results: Results = JSON.parse(
        await Deno.readTextFile(`${out}/${folder.name}/results.json`),
      );
      assertResultsSchema(results);
      const ev = results.trees[0]!.evaluations[0]!;
      const m = ev.messages!;
      assert.ok(m, "the evaluation has no per-message figures");
      assert.deepEqual([m.failedParts, m.missing, m.error], [
        [],
        [],
        undefined,
      ]);
      assert.equal(m.receivers, 4);
      // 2,000 messages a second for 1 s (the leaves' logs may miss the
      // first or last few under load).
      assert.ok(m.messages >= 1900 && m.messages <= 2000, `${m.messages}`);
      assert.ok(m.lost <= m.messages / 100, `${m.lost} lost`);
      assertDistribution(m, "latency");
      assertDistribution(m, "window");
      // The best receiver never beats... the worst: best <= latency.
      assert.ok(m.best.p50Us! <= m.latency.p50Us!);
      assert.equal(m.fairness.hold99Us, m.latency.p99Us);
      const a = m.fairness.adaptive;
      // A 10 ms window is 20 messages; every message after the first
      // window's has a deadline.
      assert.equal(a.windowMessages, 20);
      assert.ok(a.judged >= m.messages - 40, `${a.judged} judged`);
      assert.ok(a.fairShare > 0 && a.fairShare <= 1, `${a.fairShare}`);
      const shares = m.fairness.holds.map((h) => h.fairShare);
      assert.deepEqual(shares, [...shares].sort((x, y) => x - y));
    } finally {
      await bed.stop();
      await Deno.remove(out, { recursive: true });
    }
  },
});

const TREES = `  - { type: BEST, strategy: P90 }
  - { type: RANDOM }
  - { type: WORST, strategy: P90 }`;
const RANDOM_ONLY = "  - { type: RANDOM }";

/** A virtual pool's script: BEST, RANDOM and WORST of depth 2, fanout 3. */
function virtualScript(
  addrs: string[],
  root: string,
  seed: number,
  trees = TREES,
): string {
  return `name: ORDER
seed: ${seed}
addrs:
${addrs.map((a) => `  - "${a}"`).join("\n")}
depth: 2
fanout: 3
hyperparameter: 9
rate: 1000
duration: 500ms
warmup: 100ms
evaluation: { rate: 2000, duration: 1s, warmup: 200ms, runs: 1 }
root: "${root}"
trees:
${trees}
timeouts: { request: 10, retries: 1, job_grace: 10 }
`;
}

Deno.test({
  name:
    "80 virtual workers with stragglers, 2 seeds whose RANDOM tree holds one: the worst receiver's p99 per message is lower for BEST than for RANDOM and WORST",
  sanitizeResources: false,
  fn: async () => {
    const pool = await startVirtualPool({
      workers: 80,
      seed: 1,
      stragglers: 0.05,
      relayTimeoutMs: 5000,
    });
    try {
      const slow = new Set(pool.stragglers.map((s) => s.addr));
      const root = steadyRoot(pool);
      // Script seeds whose RANDOM tree (drawn without probing) holds a
      // straggler of the model, so that RANDOM must lose to BEST by more
      // than noise.
      const seeds = await randomTreeSeeds(
        (seed) => virtualScript(pool.addrs, root, seed, RANDOM_ONLY),
        (t) => t.nodes.some((n) => slow.has(n!)),
        2,
      );
      for (const seed of seeds) {
        const m = new Manager({ timeoutMs: 10_000, retries: 1 });
        let r: Results;
        try {
          r = await new Experiment(
            parseScript(
              virtualScript(pool.addrs, root, seed),
              `seed-${seed}.yaml`,
            ),
            { manager: m },
          ).run();
        } finally {
          m.close();
        }
        assert.equal(r.status, "complete");
        const tree = (name: string) => r.trees.find((t) => t.name === name)!;
        assert.ok(tree("RANDOM").nodes.some((n) => slow.has(n!)));
        for (const t of r.trees) {
          // 2,000 messages a second for 1 s, to each of the 9 leaves.
          const m = t.evaluations[0]!.messages!;
          assert.deepEqual(
            [m.messages, m.receivers, m.failedParts, m.missing],
            [2000, 9, [], []],
            t.name,
          );
        }
        // A quantile among lost messages is null: worse than any delay.
        const p99 = (name: string) =>
          tree(name).evaluations[0]!.messages!.latency.p99Us ?? Infinity;
        const best = p99("BEST-P90");
        const all = `seed ${seed}: BEST ${best}, RANDOM ${
          p99("RANDOM")
        }, WORST ${p99("WORST-P90")}`;
        assert.ok(Number.isFinite(best), all);
        assert.ok(best < p99("RANDOM"), all);
        assert.ok(best < p99("WORST-P90"), all);
      }
    } finally {
      await pool.stop();
    }
  },
});
