/**
 * Build-time benchmark: a BEST tree of depth D = 3 and fanout F = 2 (K = 2
 * candidates per parent, short jobs) built on a local testbed of real worker
 * processes, with `parallel: true` and `parallel: false` alternating in ABBA
 * order per round. `buildMs` comes from the results (the manager's clock
 * from the tree's ROOT step to its last stage).
 *
 * Reference times: a job lasts J = warm-up + duration; a sequential build
 * needs at least I x J (I = 7 internal nodes, one stage each), a parallel one
 * at least D x J (one batch per depth). Reported: each mode's median, the
 * ratios to I x J and D x J, parallel / sequential (the baseline of the same
 * run), and the overhead per layer (parallel) and per stage (sequential).
 * Goal: parallel <= D x J + 1 s per layer. Figures only; nothing asserted.
 *
 * Stage start-up (#11): a second set of workers runs with `--cold-probes`
 * (a probe process spawned per job, as before warm probes); its parallel
 * builds alternate with the warm ones (warm, cold, ..., cold, warm), and
 * the overhead per layer (build time - D x J, / D) of both is reported.
 * Goal: warm overhead per layer <= 200 ms.
 *
 * The jobs send 1,000 pps: on a 2-core machine the probe processes of
 * four parallel stages compete for the CPU, which real VMs do not.
 *
 * @module
 */
import { Experiment } from "../../manager/experiment.ts";
import { Manager } from "../../manager/manager.ts";
import type { TreeResult } from "../../manager/results.ts";
import { parseScript } from "../../manager/script.ts";
import { childrenOf } from "../../demo/proc.ts";
import type { ReadyProcess } from "../../demo/spawn.ts";
import { WARM_PROBES } from "../../worker/warm.ts";
import {
  type Log,
  median,
  r1,
  r3,
  sleep,
  startWorkers,
  stderrLog,
  stopAll,
} from "./_util.ts";

/** Options of {@link runBuildBench}. */
export interface BuildBenchOptions {
  /** ABBA rounds (each: parallel, sequential, sequential, parallel); default 2. */
  rounds?: number;
  /** Only one build of each mode (parallel, then sequential). */
  quick?: boolean;
  /** Worker processes (default 24). */
  workers?: number;
  log?: Log;
}

/** One build. */
export interface BuildRun {
  parallel: boolean;
  /** Built on the workers started with --cold-probes. */
  cold: boolean;
  buildMs: number;
  /** Distinct stage batches (parallel: one per depth; sequential: one per stage). */
  batches: number;
  stages: number;
  /**
   * Per batch, ms from the previous batch's end (the tree's start for the
   * first) to the first stage's start: the COMMAND round trips, in which the
   * workers spawn their child and parent probe processes.
   */
  commandMs: number[];
  /**
   * Per batch, ms from the first stage's start (its COMMAND answered) to the
   * last one's end: the job (warm-up + duration), the REPORT margin and polls.
   */
  batchMs: number[];
}

/** The section's JSON. */
export interface BuildBenchResult {
  depth: number;
  fanout: number;
  k: number;
  workers: number;
  internal_nodes: number;
  rate: number;
  job_ms: number;
  /** I x J and D x J, ms. */
  i_x_job_ms: number;
  d_x_job_ms: number;
  parallel_ms: number;
  sequential_ms: number;
  ratio_parallel_to_sequential: number;
  parallel_to_d_x_job: number;
  parallel_to_i_x_job: number;
  sequential_to_i_x_job: number;
  parallel_overhead_per_layer_ms: number;
  sequential_overhead_per_stage_ms: number;
  /** The same parallel build on workers without warm probes (--cold-probes). */
  cold_parallel_ms: number;
  cold_parallel_overhead_per_layer_ms: number;
  /** Warm / cold overhead per layer. */
  ratio_overhead_warm_to_cold: number;
  startup_goal: { overhead_per_layer_ms: number; met: boolean };
  /** Medians per depth (parallel) / per stage (sequential): see {@link BuildRun}. */
  phases_ms: {
    parallel: { command: number[]; batch: number[] };
    sequential: { command: number[]; batch: number[] };
    cold_parallel: { command: number[]; batch: number[] };
  };
  goal: { parallel_ms: number; rule: string };
  met: boolean;
  runs: BuildRun[];
}

const D = 3, F = 2, K = 2, RATE = 1000, DURATION_MS = 500, WARMUP_MS = 100;
const INTERNAL = 2 ** D - 1;
/** #11's goal for the parallel build's overhead per layer, ms. */
const STARTUP_GOAL_MS = 200;

function _script(
  addrs: string[],
  parallel: boolean,
  seed: number,
): string {
  return `name: BENCH-BUILD-${parallel ? "PARALLEL" : "SEQUENTIAL"}
seed: ${seed}
addrs: [${addrs.map((a) => `"${a}"`).join(", ")}]
depth: ${D}
fanout: ${F}
hyperparameter: ${K}
rate: ${RATE}
duration: ${DURATION_MS}ms
warmup: ${WARMUP_MS}ms
evaluation: { rate: ${RATE}, duration: 200ms, warmup: 100ms, runs: 1 }
root: "${addrs[0]}"
parallel: ${parallel}
trees: [{ type: BEST, strategy: P90 }]
timeouts: { request: 5, retries: 1, job_grace: 10 }
`;
}

function _run(t: TreeResult, cold: boolean): BuildRun {
  const spans = [...Map.groupBy(t.stages, (s) => s.batch).entries()]
    .sort(([a], [b]) => a - b)
    .map(([, ss]) => ({
      start: Math.min(...ss.map((s) => s.startedUs)),
      end: Math.max(...ss.map((s) => s.finishedUs)),
    }));
  // The tree is built right after its last stage: the time before the
  // first batch started is what buildMs holds beyond the batches' span.
  const whole = (spans.at(-1)!.end - spans[0]!.start) / 1000;
  return {
    parallel: t.parallel,
    cold,
    buildMs: r1(t.buildMs),
    batches: spans.length,
    stages: t.stages.length,
    commandMs: spans.map((b, i) =>
      r1(i === 0 ? t.buildMs - whole : (b.start - spans[i - 1]!.end) / 1000)
    ),
    batchMs: spans.map((b) => r1((b.end - b.start) / 1000)),
  };
}

/** Per batch index, the median over `runs`. */
function _perBatch(
  runs: BuildRun[],
  key: "commandMs" | "batchMs",
): number[] {
  const n = Math.max(0, ...runs.map((r) => r[key].length));
  return Array.from(
    { length: n },
    (_, i) => r1(median(runs.map((r) => r[key][i]!).filter((x) => x >= 0))),
  );
}

/**
 * Waits until every warm worker has started its warm probes (two children
 * each, `WARM_PROBES`), then 3 s more for their start-ups to end: the
 * first build would otherwise share the CPU with 48 Deno start-ups.
 */
async function _warmedUp(ws: ReadyProcess[], log: Log): Promise<void> {
  const end = performance.now() + 60_000;
  while (
    performance.now() < end &&
    ws.some((w) => childrenOf(w.child.pid).length < WARM_PROBES)
  ) await sleep(200);
  await sleep(3000);
  log(`warm probes started (load ${Deno.loadavg()[0]})`);
}

/** Runs the benchmark; see the module doc. */
export async function runBuildBench(
  opts: BuildBenchOptions = {},
): Promise<BuildBenchResult> {
  const log = opts.log ?? stderrLog;
  const n = opts.workers ?? 24;
  // [parallel, cold]: warm and cold parallel builds in ABBA order around
  // the sequential pair.
  const order: [boolean, boolean][] = opts.quick
    ? [[true, false], [true, true], [false, false]]
    : Array.from({ length: opts.rounds ?? 2 }, () =>
      [
        [true, false],
        [true, true],
        [false, false],
        [false, false],
        [true, true],
        [true, false],
      ] as [boolean, boolean][]).flat();
  log(`starting ${n} workers, and ${n} with --cold-probes...`);
  const warm = await startWorkers(n);
  const workers = [...warm];
  const runs: BuildRun[] = [];
  try {
    workers.push(...await startWorkers(n, { args: ["--cold-probes"] }));
    await _warmedUp(warm, log);
    const sets = [warm, workers.slice(n)].map((ws) => ws.map((w) => w.addr));
    for (const [i, [parallel, cold]] of order.entries()) {
      const addrs = sets[cold ? 1 : 0]!;
      const m = new Manager({ timeoutMs: 5000, retries: 1 });
      try {
        const script = parseScript(
          _script(addrs, parallel, i + 1),
          `bench-build-${i}.yaml`,
        );
        const results = await new Experiment(script, { manager: m }).run();
        const tree = results.trees[0]!;
        if (tree.status !== "complete") {
          throw new Error(`Build ${i} ended ${tree.status}: ${tree.error}`);
        }
        const run = _run(tree, cold);
        runs.push(run);
        log(
          `build ${parallel ? "parallel  " : "sequential"}${
            cold ? " (cold probes)" : ""
          }: ${run.buildMs} ms, ` +
            `${run.batches} batches; per batch COMMAND ${
              run.commandMs.join(", ")
            } ms, then job + REPORT ${run.batchMs.join(", ")} ms`,
        );
      } finally {
        m.close();
      }
    }
  } finally {
    await stopAll(workers);
  }
  const job = WARMUP_MS + DURATION_MS;
  const warmRuns = runs.filter((r) => !r.cold);
  const par = median(warmRuns.filter((r) => r.parallel).map((r) => r.buildMs));
  const seq = median(warmRuns.filter((r) => !r.parallel).map((r) => r.buildMs));
  const cold = median(runs.filter((r) => r.cold).map((r) => r.buildMs));
  const perLayer = (ms: number) => r1((ms - D * job) / D);
  const goal = D * job + D * 1000;
  const result: BuildBenchResult = {
    depth: D,
    fanout: F,
    k: K,
    workers: n,
    internal_nodes: INTERNAL,
    rate: RATE,
    job_ms: job,
    i_x_job_ms: INTERNAL * job,
    d_x_job_ms: D * job,
    parallel_ms: r1(par),
    sequential_ms: r1(seq),
    ratio_parallel_to_sequential: r3(par / seq),
    parallel_to_d_x_job: r3(par / (D * job)),
    parallel_to_i_x_job: r3(par / (INTERNAL * job)),
    sequential_to_i_x_job: r3(seq / (INTERNAL * job)),
    parallel_overhead_per_layer_ms: perLayer(par),
    sequential_overhead_per_stage_ms: r1((seq - INTERNAL * job) / INTERNAL),
    cold_parallel_ms: r1(cold),
    cold_parallel_overhead_per_layer_ms: perLayer(cold),
    ratio_overhead_warm_to_cold: r3((par - D * job) / (cold - D * job)),
    startup_goal: {
      overhead_per_layer_ms: STARTUP_GOAL_MS,
      met: perLayer(par) <= STARTUP_GOAL_MS,
    },
    phases_ms: {
      parallel: {
        command: _perBatch(warmRuns.filter((r) => r.parallel), "commandMs"),
        batch: _perBatch(warmRuns.filter((r) => r.parallel), "batchMs"),
      },
      sequential: {
        command: _perBatch(warmRuns.filter((r) => !r.parallel), "commandMs"),
        batch: _perBatch(warmRuns.filter((r) => !r.parallel), "batchMs"),
      },
      cold_parallel: {
        command: _perBatch(runs.filter((r) => r.cold), "commandMs"),
        batch: _perBatch(runs.filter((r) => r.cold), "batchMs"),
      },
    },
    goal: { parallel_ms: goal, rule: "D x job + 1 s per layer" },
    met: par <= goal,
    runs,
  };
  log(
    `build D=${D} F=${F}: parallel ${result.parallel_ms} ms ` +
      `(${result.parallel_to_d_x_job} x D x job, ${result.parallel_to_i_x_job} x I x job), ` +
      `sequential ${result.sequential_ms} ms (${result.sequential_to_i_x_job} x I x job); ` +
      `parallel / sequential ${result.ratio_parallel_to_sequential}; overhead per layer ` +
      `${result.parallel_overhead_per_layer_ms} ms (cold probes ${result.cold_parallel_overhead_per_layer_ms} ms)`,
  );
  return result;
}

if (import.meta.main) {
  console.log(JSON.stringify(await runBuildBench()));
}
