/**
 * The chaos check: the demo testbed with workers killed (SIGKILL) at random
 * moments while trees are built and evaluated, some restarted. Each round
 * must complete or fail because too few workers are left (naming the lost
 * pool, {@link EXPECTED_FAILURE}), never otherwise, never hang, and leave a
 * results file that fits its schema. Exits 1 when a round did not.
 *
 *   deno task chaos            # 6 rounds
 *   deno task chaos --rounds 2 # the short form CI runs (tests/chaos_test.ts)
 *
 * Prints one JSON line per round and a summary line.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type ReadyProcess, spawnAllReady, spawnReady } from "../demo/spawn.ts";
import { Experiment } from "../manager/experiment.ts";
import { Manager } from "../manager/manager.ts";
import { Rng } from "../manager/pool.ts";
import { ResultsWriter } from "../manager/results.ts";
import { parseScript } from "../manager/script.ts";
import { assertResultsSchema } from "./helpers/schema.ts";

/**
 * The one way a chaos round may fail: too few workers left, naming the tree
 * and the lost pool. Anything else (a restarted worker's stale job, a
 * healthy worker blamed, a hang) is a bug.
 */
export const EXPECTED_FAILURE =
  /^[\w.-]+: the pool has \d+ live workers? left, too few to finish the tree \(lost: "[^"]+"(, "[^"]+")*\)$/;

/** Whether a round ended as it may: complete, or failed for the expected reason. */
export function roundOk(r: ChaosRound): boolean {
  const expected = (e: string | undefined) =>
    e !== undefined && EXPECTED_FAILURE.test(e);
  return (r.status === "complete" || expected(r.error)) &&
    r.treeErrors.every(expected);
}

/** What one round did. */
export interface ChaosRound {
  round: number;
  kills: number;
  restarts: number;
  status: string;
  error?: string;
  /** The error of every tree that failed. */
  treeErrors: string[];
  trees: number;
  completeTrees: number;
  lost: number;
  /** Kill to "lost" in the results, per detected kill, ms. */
  detectionMs: number[];
  seconds: number;
}

const FAST = ["--relay-timeout", "1s"];
/** A round that runs longer than this has hung. */
const HANG_MS = 180_000;

function _script(addrs: string[], seed: number): string {
  return `name: CHAOS
seed: ${seed}
addrs: [${addrs.map((a) => `"${a}"`).join(", ")}]
depth: 2
fanout: 2
hyperparameter: 3
rate: 1000
duration: 600ms
warmup: 100ms
evaluation: { rate: 1000, duration: 1s, warmup: 100ms, runs: 1 }
root: "${addrs[0]}"
trees:
  - { type: BEST, strategy: WEIGHTED }
  - { type: WORST, strategy: P90 }
  - { type: RANDOM }
timeouts: { request: 1, retries: 1, job_grace: 5 }
`;
}

/** Runs one chaos round: `kills` random kills of non-root workers. */
export async function chaosRound(
  round: number,
  opts: { kills: number; seed: number },
): Promise<ChaosRound> {
  const rng = new Rng(opts.seed * 1000 + round);
  const workers: (ReadyProcess | undefined)[] = await spawnAllReady(
    Array.from({ length: 12 }, (_, i) => [
      "worker",
      "--bind",
      "127.0.0.1:0",
      ...FAST,
      ...(i >= 9 ? ["--emulate", "delay=2ms,jitter=100us"] : []),
    ]),
    // Many Deno processes starting at once on a loaded machine.
    { timeoutMs: 60_000 },
  );
  const addrs = workers.map((w) => w!.addr);
  const dir = await Deno.makeTempDir({ prefix: "treecast-chaos-" });
  const writer = new ResultsWriter(dir);
  const killedAt = new Map<string, number>();
  const detectionMs: number[] = [];
  let kills = 0, restarts = 0;
  const timers: ReturnType<typeof setTimeout>[] = [];
  const t0 = performance.now();
  const kill = () => {
    const i = 1 + rng.int(11);
    const w = workers[i];
    if (!w) return;
    workers[i] = undefined;
    killedAt.set(addrs[i]!, performance.now());
    kills++;
    void w.stop("SIGKILL");
    if (rng.next() < 0.5) {
      timers.push(setTimeout(async () => {
        try {
          workers[i] = await spawnReady([
            "worker",
            "--bind",
            addrs[i]!,
            ...FAST,
          ]);
          restarts++;
        } catch { /* the port was taken meanwhile: stays dead */ }
      }, 1000 + rng.int(3000)));
    }
  };
  // Each kill comes during one of the run's first stages or evaluations
  // (the script makes 7 of them undisturbed), 0-400 ms after it started:
  // tied to the run's progress, not to wall time, which a fast machine
  // outruns.
  const killOn = Array.from({ length: opts.kills }, () => 1 + rng.int(7));
  let started = 0;
  const onStart = () => {
    started++;
    for (const n of killOn) {
      if (n === started) timers.push(setTimeout(kill, rng.int(400)));
    }
  };
  const m = new Manager({ timeoutMs: 1000, retries: 1 });
  const exp = new Experiment(
    parseScript(_script(addrs, opts.seed + round), "chaos.yaml"),
    {
      manager: m,
      writer,
      onEvent: (e) => {
        if (e.kind === "stage-start" || e.kind === "eval-start") onStart();
        if (e.kind === "lost" && killedAt.has(e.lost.addr)) {
          detectionMs.push(
            Math.round(performance.now() - killedAt.get(e.lost.addr)!),
          );
          killedAt.delete(e.lost.addr);
        }
      },
    },
  );
  let hang: ReturnType<typeof setTimeout> | undefined;
  let error: string | undefined;
  try {
    await Promise.race([
      exp.run(),
      new Promise((_, reject) => {
        hang = setTimeout(
          () =>
            reject(new Error(`HANG: round ${round} ran over ${HANG_MS} ms`)),
          HANG_MS,
        );
      }),
    ]);
  } catch (e) {
    error = (e as Error).message;
  } finally {
    clearTimeout(hang);
    timers.forEach(clearTimeout);
    m.close();
    await Promise.all(workers.map((w) => w?.stop()));
  }
  const written = JSON.parse(await Deno.readTextFile(writer.path));
  assertResultsSchema(written);
  await Deno.remove(dir, { recursive: true });
  return {
    round,
    kills,
    restarts,
    status: written.status,
    ...(error ? { error } : {}),
    treeErrors: written.trees.flatMap((t: { error?: string }) =>
      t.error === undefined ? [] : [t.error]
    ),
    trees: written.trees.length,
    completeTrees:
      written.trees.filter((t: { status: string }) => t.status === "complete")
        .length,
    lost: written.lost.length,
    detectionMs,
    seconds: Math.round((performance.now() - t0) / 100) / 10,
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      rounds: { type: "string" },
      kills: { type: "string" },
      seed: { type: "string" },
    },
  });
  const rounds = Number(values.rounds ?? 6), kills = Number(values.kills ?? 3);
  const all: ChaosRound[] = [];
  for (let r = 1; r <= rounds; r++) {
    const res = await chaosRound(r, { kills, seed: Number(values.seed ?? 1) });
    all.push(res);
    console.log(JSON.stringify(res));
  }
  const hung = all.filter((r) => r.error?.startsWith("HANG"));
  const bad = all.filter((r) => !roundOk(r));
  const det = all.flatMap((r) => r.detectionMs).sort((a, b) => a - b);
  console.log(JSON.stringify({
    summary: true,
    rounds,
    kills: all.reduce((s, r) => s + r.kills, 0),
    completed: all.filter((r) => r.status === "complete").length,
    failedTooFewWorkers: all.filter((r) =>
      r.status !== "complete" && roundOk(r)
    )
      .length,
    failedOtherwise: bad.length,
    hung: hung.length,
    detectionMsMedian: det[Math.floor(det.length / 2)] ?? null,
    detectionMsMax: det[det.length - 1] ?? null,
  }));
  Deno.exit(bad.length > 0 ? 1 : 0);
}
