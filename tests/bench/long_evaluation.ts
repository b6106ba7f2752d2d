/**
 * One long evaluation at the exchange's rate, end to end (issue #19: "a D=3
 * F=4 tree evaluated for 5 min at 10,000 messages/s reports in full"): the
 * real manager, real workers (their control plane, relays, nested REPORT and
 * per-message parts) and leaves writing real per-message logs, on a virtual
 * pool (`demo/virtual/`: the probes answered from its seeded network model,
 * so 85 nodes fit one machine). Prints whether the evaluation reported in
 * full: every leaf in its nested report, every message judged, no part
 * failed, and what results.json weighs.
 *
 * Usage: `deno run -A tests/bench/long_evaluation.ts [MINUTES] [RATE]`
 * (default 5 minutes at 10,000 messages/s). Not a test: it takes the
 * evaluation's time.
 *
 * @module
 */
import { runVirtual } from "../../demo/virtual/run.ts";

const minutes = Number(Deno.args[0] ?? 5);
const rate = Number(Deno.args[1] ?? 10_000);
const out = await Deno.makeTempDir({ prefix: "treecast-long-eval-" });
const t0 = performance.now();
const { code, results } = await runVirtual({
  workers: 100,
  seed: 1,
  stragglers: 0.05,
  out,
  trees: ["{ type: BEST, strategy: P90 }"],
  shape: { depth: 3, fanout: 4, hyperparameter: 6 },
  evaluation: { rate, durationS: minutes * 60 },
});
const tree = results.trees[0]!;
const e = tree.evaluations[0];
const folder = [...Deno.readDirSync(out)].find((d) => d.isDirectory)!.name;
const bytes = Deno.statSync(`${out}/${folder}/results.json`).size;
const leaves = e?.nodes.filter((n) => n.role === "leaf" && n.stats).length ?? 0;
const m = e?.messages;
console.log(JSON.stringify(
  {
    code,
    tree: tree.status,
    minutes,
    rate,
    seconds: Math.round((performance.now() - t0) / 1000),
    leavesReported: leaves,
    missing: e?.missing ?? null,
    messages: m?.messages ?? null,
    receivers: m?.receivers ?? null,
    failedParts: m?.failedParts ?? null,
    latencyP99Us: m?.latency.p99Us ?? null,
    windowP99Us: m?.window.p99Us ?? null,
    hold99Us: m?.fairness.hold99Us ?? null,
    adaptiveFairShare: m?.fairness.adaptive.fairShare ?? null,
    resultsJsonBytes: bytes,
  },
  null,
  1,
));
await Deno.remove(out, { recursive: true });
