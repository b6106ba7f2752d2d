/**
 * A hedged tree's evaluation on the local testbed (issue #22): for tests
 * and the benchmarks (`tests/bench/hedging.ts`). {@link runHedged}: N
 * workers on 127.0.0.1, some emulating a slow VM, one tree of the given
 * kind and hedge built from worker 0 and evaluated; it returns the results.
 * {@link evaluateHedged} does the same on a testbed already started, so
 * that hedge 0, 1 and 2 can run on the same workers (the same RANDOM tree:
 * its draw depends on the seed and the workers' addresses only), and
 * {@link randomDepthOf} says where the RANDOM tree of a seed places a worker,
 * so that a straggler can be put where hedging is meant to help (a proxy).
 * The per-message figures take each message's smallest delay over its
 * copies, emulated delays included (`probes/WIRE.md`).
 *
 * @module
 */
import { Experiment } from "../../manager/experiment.ts";
import type { ExperimentEvent } from "../../manager/step.ts";
import { Manager } from "../../manager/manager.ts";
import { deriveSeed, Pool } from "../../manager/pool.ts";
import type { Results } from "../../manager/results.ts";
import { parseScript } from "../../manager/script.ts";
import { startTestbed, type Testbed } from "./testbed.ts";

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

/**
 * Runs {@link hedgedScript} on the started testbed `bed` (its own manager,
 * the experiment's events to `onEvent`); the results.
 */
export async function evaluateHedged(
  bed: Testbed,
  o: HedgedRun,
  onEvent?: (e: ExperimentEvent) => void,
): Promise<Results> {
  const m = new Manager({ timeoutMs: 5000, retries: 1 });
  try {
    const s = parseScript(hedgedScript(bed.addrs, o), "hedged.yaml");
    return await new Experiment(s, {
      manager: m,
      testbed: bed.info,
      ...(onEvent ? { onEvent } : {}),
    }).run();
  } finally {
    m.close();
  }
}

/** Starts the testbed, runs {@link hedgedScript}, stops the testbed; the results. */
export async function runHedged(o: HedgedRun): Promise<Results> {
  const bed = await startTestbed(o.workers ?? 7, {
    slow: o.slow ?? [],
    emulate: o.emulate ?? "delay=3ms,jitter=100us",
  });
  try {
    return await evaluateHedged(bed, o);
  } finally {
    await bed.stop();
  }
}

/**
 * The depth at which the RANDOM tree of {@link hedgedScript} (`seed`,
 * `depth`, `fanout`, root `addrs[0]`, every worker alive) places worker
 * `i`: 0 the root, `depth` a leaf, -1 none. As `manager/build.ts` draws it:
 * each internal node in BFS order draws its children from a pool of the
 * other workers (sorted) seeded by the tree's seed (`manager/treerun.ts`,
 * root index 0, tree name "RANDOM"). A prediction: check the results.
 */
export function randomDepthOf(
  addrs: readonly string[],
  o: { seed: number; depth: number; fanout: number },
  i: number,
): number {
  const pool = new Pool(addrs.slice(1).sort(), {
    seed: deriveSeed(o.seed, 0, "RANDOM"),
  });
  const layers: string[][] = [[addrs[0]!]];
  for (let d = 1; d <= o.depth; d++) {
    layers.push(layers[d - 1]!.flatMap(() => {
      const kids = pool.draw(o.fanout);
      pool.remove(kids);
      return kids;
    }));
  }
  return layers.findIndex((l) => l.includes(addrs[i]!));
}
