/** One probe I/O mode per experiment, with real worker and probe processes. */
import assert from "node:assert/strict";
import { Experiment } from "../manager/experiment.ts";
import { Manager } from "../manager/manager.ts";
import type { Results } from "../manager/results.ts";
import { parseScript } from "../manager/script.ts";
import { assertResultsSchema } from "./helpers/schema.ts";
import { startTestbed } from "./helpers/testbed.ts";
import { ioSupport } from "../probes/io.ts";

/**
 * Runs every kind of probe on workers started with `args`: the root probe
 * (`root: probe`), LEMON's all-to-all, and a BEST tree's stage, then the
 * evaluations of both trees (depth 1, K = 2, F = 1).
 */
async function run(args: string[][]): Promise<Results> {
  const bed = await startTestbed(args.length, { perWorker: args });
  const m = new Manager({ timeoutMs: 3000, retries: 1 });
  try {
    const s = parseScript(
      `name: IOMODE
addrs: [${bed.addrs.map((a) => `"${a}"`).join(", ")}]
depth: 1
fanout: 1
hyperparameter: 2
rate: 500
duration: 300ms
warmup: 100ms
evaluation: { rate: 500, duration: 300ms, warmup: 100ms, runs: 1 }
root: probe
root_probe: { candidates: 2, sample: 2 }
lemon: { rate: 500, duration: 300ms, warmup: 100ms }
trees: [{ type: BEST, strategy: P90 }, { type: LEMON }]
`,
      "iomode.yaml",
    );
    const exp = new Experiment(s, { manager: m });
    // A refused run's results are what matter here, not the throw.
    return await exp.run().catch(() => exp.results);
  } finally {
    m.close();
    await bed.stop();
  }
}

/** Every receiver's statistics in a results document. */
function allStats(r: Results) {
  const stages = [
    ...(r.rootProbe?.stages ?? []),
    ...r.trees.flatMap((t) => t.stages),
  ];
  return [
    ...stages.flatMap((s) => s.candidates.map((c) => c.stats)),
    ...r.trees.flatMap((t) =>
      t.evaluations.flatMap((e) => e.nodes.map((n) => n.stats))
    ),
  ].filter((s) => s !== undefined);
}

/** The all-to-all delays measured (every pair but a worker with itself). */
function measuredPairs(r: Results): number {
  return (r.allToAll ?? []).flatMap((p) => p.delaysUs.flat())
    .filter((d) => d !== null).length;
}

/** Every kind of probe measured, every receiver with `timestamps`. */
function assertEveryProbe(r: Results, timestamps: "USER" | "KERNEL") {
  const stats = allStats(r);
  // Both root candidates' samples (2 each), the BEST stage's 2 candidates,
  // and the two evaluated leaves.
  assert.ok(stats.length >= 8, `${stats.length} receivers`);
  assert.equal(r.rootProbe?.chosen.length, 1);
  assert.deepEqual(
    new Set(stats.map((s) => s.timestamps)),
    new Set([timestamps]),
  );
  // LEMON's all-to-all: each of the 3 workers measured from the 2 others.
  assert.equal(measuredPairs(r), 6);
  assert.deepEqual(r.mismatches, []);
}

Deno.test("one worker started with --io deno puts every probe on deno I/O with user timestamps, recorded", async () => {
  const r = await run([[], ["--io", "deno"], []]);
  assert.equal(r.status, "complete", r.error ?? "");
  assertResultsSchema(JSON.parse(JSON.stringify(r)));
  assert.equal(r.io, "DENO");
  assert.equal(r.timestamps, "USER");
  assert.deepEqual(
    r.workers[1]!.hello!.capabilities.filter((c) => c.includes(":")),
    ["io:deno", "ts:user"],
  );
  assertEveryProbe(r, "USER");
});

const host = ioSupport();
const kernel = host.io.includes("native") && host.timestamps.includes("kernel");

Deno.test({
  name:
    "workers on a host with the native backend and kernel timestamps: every receiver measured with kernel timestamps",
  ignore: !kernel,
  fn: async () => {
    const r = await run([[], [], []]);
    assert.equal(r.status, "complete", r.error ?? "");
    assert.equal(r.io, "NATIVE");
    assert.equal(r.timestamps, "KERNEL");
    assertEveryProbe(r, "KERNEL");
  },
});

Deno.test({
  name:
    "a worker with --io native only and one with --io deno only: the run refuses before any probe starts",
  ignore: !host.io.includes("native"),
  fn: async () => {
    const r = await run([["--io", "native"], ["--io", "deno"], []]);
    assert.equal(r.status, "failed");
    assert.match(
      r.error ?? "",
      /share no probe I\/O mode.*deno I\/O, user timestamps.*--io/,
    );
    assert.equal(r.trees.length, 0);
    assert.equal(r.io, undefined);
  },
});
