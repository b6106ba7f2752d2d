/**
 * A hedged tree's evaluation on the local testbed (issue #22): for tests
 * and the benchmarks (`tests/bench/`). One function, {@link runHedged}:
 * N workers on 127.0.0.1, some emulating a slow VM, one tree of the given
 * kind and hedge built from worker 0 and evaluated; it returns the results.
 * Compare `hedge: 0` with 1 and 2 on one seed to see what hedging buys
 * (the per-message figures take each message's smallest delay over its
 * copies, emulated delays included, `probes/WIRE.md`).
 *
 * @module
 */
import { Experiment } from "../../manager/experiment.ts";
import { Manager } from "../../manager/manager.ts";
import type { Results } from "../../manager/results.ts";
import { parseScript } from "../../manager/script.ts";
import { startTestbed } from "./testbed.ts";

/** What {@link runHedged} runs. */
export interface HedgedRun {
  /** Workers (the tree needs 1 + F + ... + F^D of them); default 7. */
  workers?: number;
  /** Indices of the workers that emulate a slow VM (not 0, the root); default none. */
  slow?: number[];
  /** Their emulation (`--emulate`); default "delay=3ms,jitter=100us". */
  emulate?: string;
  depth?: number;
  fanout?: number;
  /** Hedge parents per node below depth 1 (below the fanout). */
  hedge: number;
  /** Tree kind; default RANDOM (no probing to build it). */
  type?: "RANDOM" | "BEST" | "WORST";
  seed?: number;
  /** Evaluation stream: packets per second, seconds, runs; default 500, 0.8, 1. */
  rate?: number;
  duration?: number;
  runs?: number;
}

/** The script of a {@link HedgedRun} on the workers `addrs` (worker 0 the root). */
export function hedgedScript(addrs: string[], o: HedgedRun): string {
  const type = o.type ?? "RANDOM";
  const strategy = type === "RANDOM" ? "" : ", strategy: P90";
  return `name: HEDGED
seed: ${o.seed ?? 1}
addrs: [${addrs.map((a) => `"${a}"`).join(", ")}]
depth: ${o.depth ?? 2}
fanout: ${o.fanout ?? 2}
rate: 200
duration: 300ms
evaluation: { rate: ${o.rate ?? 500}, duration: ${
    (o.duration ?? 0.8) * 1000
  }ms, warmup: 100ms, runs: ${o.runs ?? 1} }
root: "${addrs[0]}"
trees:
  - { type: ${type}${strategy}, hedge: ${o.hedge} }
timeouts: { request: 5, retries: 1, job_grace: 10 }
`;
}

/** Starts the testbed, runs {@link hedgedScript}, stops the testbed; the results. */
export async function runHedged(o: HedgedRun): Promise<Results> {
  const bed = await startTestbed(o.workers ?? 7, {
    slow: o.slow ?? [],
    emulate: o.emulate ?? "delay=3ms,jitter=100us",
  });
  const m = new Manager({ timeoutMs: 5000, retries: 1 });
  try {
    const s = parseScript(hedgedScript(bed.addrs, o), "hedged.yaml");
    return await new Experiment(s, { manager: m }).run();
  } finally {
    m.close();
    await bed.stop();
  }
}
