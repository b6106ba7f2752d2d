/**
 * The real manager against a virtual pool (`demo/virtual`: N real workers in
 * one process, probes answered by a seeded network model), for the scale
 * sections of the bench (#21): one run of a script shaped for N
 * (`virtualScript`: stages of 0.1 s warm-up + 0.5 s at 1,000 pps, one
 * evaluation of 1 s), in a process of its own (killed at a deadline: LEMON's
 * FAQ is synchronous and would not let a timer fire).
 *
 * Per tree: the stragglers it kept (the model's, 5 % by default), its build
 * time and overhead per layer (build time - depth x the stage job's time, /
 * depth: a virtual probe takes its stream's time, so the rest is the
 * control plane's), and the worst receiver's p99 per message of its first
 * evaluation when the results carry per-message figures
 * (`EvaluationResult.messages.latency.p99Us`). For LEMON: the all-to-all's
 * span and the placement's. The process's CPU time and RSS are the
 * manager's and the pool's together.
 *
 *     deno run -A tests/bench/scale_virtual.ts N SEED STRAGGLERS TREE...
 *
 * prints one JSON line ({@link VirtualRunFigures}).
 *
 * @module
 */
import type { Results, TreeResult } from "../../core/results.ts";
import { Experiment } from "../../manager/experiment.ts";
import { Manager } from "../../manager/manager.ts";
import { parseScript } from "../../manager/script.ts";
import { startVirtualPool, steadyRoot } from "../../demo/virtual/pool.ts";
import { virtualScript, virtualShape } from "../../demo/virtual/run.ts";
import { cpuSeconds } from "./_procs.ts";
import { datagramsPerMessage, r1, r3 } from "./_util.ts";

/** The stage job of `virtualScript`: warm-up + duration, ms. */
export const VIRTUAL_JOB_MS = 100 + 500;

/** What a tree's first evaluation says when the results have no per-message figures. */
export const NO_MESSAGES = "n/a (no per-message figures)";

/** One tree of a virtual run. */
export interface VirtualTreeFigures {
  name: string;
  type: string;
  status: string;
  nodes: number;
  stragglers_kept: number;
  build_ms: number;
  /** (build - depth x job) / depth, ms (null: a tree built without stages). */
  overhead_per_layer_ms: number | null;
  /** The worst receiver's p99 per message, µs (null: among lost messages). */
  worst_receiver_p99_us: number | null | typeof NO_MESSAGES;
  /** The delivery window's (worst - best receiver) p99 per message, µs. */
  window_p99_us: number | null | typeof NO_MESSAGES;
  /**
   * Datagrams sent per message in the first evaluation, as the results
   * count them: the root's sent x its children, plus every proxy's
   * forwarded, over the root's sent (null: not reported).
   */
  packets_per_message: number | null;
  error?: string;
}

/** One virtual run. */
export interface VirtualRunFigures {
  workers: number;
  seed: number;
  stragglers: number;
  shape: { depth: number; fanout: number; hyperparameter: number };
  job_ms: number;
  status: string;
  wall_s: number;
  /** CPU time of the process (manager and pool), s; its peak RSS, MiB. */
  cpu_s: number;
  peak_rss_mib: number;
  trees: VirtualTreeFigures[];
  /** LEMON: the all-to-all's span, and it plus the LEMON trees' build, ms. */
  all_to_all_ms?: number;
  lemon_ms?: number;
}

/** A p99 of a tree's first evaluation's per-message figures, if the results have them. */
function _p99(
  t: TreeResult,
  which: "latency" | "window",
): VirtualTreeFigures["worst_receiver_p99_us"] {
  type Figures = Record<typeof which, { p99Us?: number | null } | undefined>;
  const ev = t.evaluations[0] as { messages?: Figures } | undefined;
  const p = ev?.messages?.[which]?.p99Us;
  return p === undefined ? NO_MESSAGES : p;
}

/** The figures of a run's results. */
export function virtualFigures(
  r: Results,
  o: { workers: number; seed: number; stragglers: number },
  wallS: number,
): VirtualRunFigures {
  const shape = virtualShape(o.workers);
  const trees = r.trees.map((t): VirtualTreeFigures => ({
    name: t.name,
    type: t.type,
    status: t.status,
    nodes: t.nodes.filter((n) => n !== null).length,
    stragglers_kept: t.stragglers.length,
    build_ms: r1(t.buildMs),
    overhead_per_layer_ms: t.stages.length === 0
      ? null
      : r1((t.buildMs - t.depth * VIRTUAL_JOB_MS) / t.depth),
    worst_receiver_p99_us: _p99(t, "latency"),
    window_p99_us: _p99(t, "window"),
    packets_per_message: t.evaluations[0]
      ? datagramsPerMessage(t, t.evaluations[0])
      : null,
    ...(t.error ? { error: t.error } : {}),
  }));
  const a2a = r.allToAll?.[0];
  const a2aMs = a2a ? (a2a.finishedUs - a2a.startedUs) / 1000 : undefined;
  const lemon = r.trees.filter((t) => t.type === "LEMON");
  return {
    ...o,
    shape,
    job_ms: VIRTUAL_JOB_MS,
    status: r.status,
    wall_s: r1(wallS),
    cpu_s: r3(cpuSeconds(Deno.pid) ?? NaN),
    peak_rss_mib: r1(
      Number(
        Deno.readTextFileSync("/proc/self/status").match(
          /^VmHWM:\s+(\d+)/m,
        )?.[1] ?? NaN,
      ) / 1024,
    ),
    trees,
    ...(a2aMs !== undefined
      ? {
        all_to_all_ms: r1(a2aMs),
        lemon_ms: r1(
          a2aMs + lemon.reduce((s, t) => s + t.buildMs, 0),
        ),
      }
      : {}),
  };
}

/** One run in this process: the pool, the manager, the results. */
export async function virtualRunHere(
  o: { workers: number; seed: number; stragglers: number; trees: string[] },
): Promise<VirtualRunFigures> {
  const pool = await startVirtualPool({
    workers: o.workers,
    seed: o.seed,
    stragglers: o.stragglers,
    relayTimeoutMs: 5000,
  });
  const t0 = performance.now();
  const m = new Manager({ timeoutMs: 10_000, retries: 1 });
  try {
    const root = steadyRoot(pool);
    const text = virtualScript({
      addrs: pool.addrs,
      root,
      seed: o.seed,
      trees: o.trees,
    });
    const results = await new Experiment(
      parseScript(text, "bench-virtual.yaml"),
      {
        manager: m,
        // LEMON's progress, for a run killed at its deadline to tell where.
        onEvent: (e) => {
          if (e.kind !== "alltoall-start" && e.kind !== "alltoall-done") return;
          const at = r1((performance.now() - t0) / 1000);
          console.error(JSON.stringify(
            e.kind === "alltoall-done"
              ? { progress: "all-to-all done", ms: r1(e.ms), at_s: at }
              : {
                progress: `all-to-all round ${e.round}/${e.rounds}`,
                at_s: at,
              },
          ));
        },
        testbed: {
          kind: "virtual",
          straggle: "model",
          stragglers: pool.stragglers,
        },
      },
    ).run();
    return virtualFigures(results, o, (performance.now() - t0) / 1000);
  } finally {
    m.close();
    await pool.stop();
  }
}

/** A run killed at its deadline: how far LEMON's all-to-all had come. */
export interface KilledRun {
  killed: true;
  /** Its last progress line, e.g. `all-to-all round 12/50` (and when, s). */
  last?: { progress: string; at_s: number; ms?: number };
}

/** One run in a process of its own, killed after `deadlineMs`. */
export async function virtualRun(
  o: { workers: number; seed: number; stragglers: number; trees: string[] },
  deadlineMs: number,
): Promise<VirtualRunFigures | KilledRun> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL(import.meta.url).pathname,
      String(o.workers),
      String(o.seed),
      String(o.stragglers),
      ...o.trees,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, deadlineMs);
  try {
    const out = await child.output();
    if (timedOut) {
      const last = new TextDecoder().decode(out.stderr).split("\n")
        .filter((l) => l.startsWith('{"progress"')).at(-1);
      return { killed: true, ...(last ? { last: JSON.parse(last) } : {}) };
    }
    const text = new TextDecoder().decode(out.stdout).trim();
    if (!out.success || !text) {
      const why = new TextDecoder().decode(out.stderr).trim().split("\n")
        .filter((l) => !l.startsWith('{"progress"')).slice(-3).join(" | ");
      throw new Error(
        `The virtual run of ${o.workers} workers exited ${out.code}: ${why}`,
      );
    }
    return JSON.parse(text.split("\n").at(-1)!);
  } finally {
    clearTimeout(timer);
  }
}

if (import.meta.main) {
  const [n, seed, stragglers, ...trees] = Deno.args;
  console.log(JSON.stringify(
    await virtualRunHere({
      workers: Number(n),
      seed: Number(seed),
      stragglers: Number(stragglers),
      trees,
    }),
  ));
  Deno.exit(0);
}
