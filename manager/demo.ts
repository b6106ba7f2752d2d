/**
 * `treecast demo`: a local testbed. Starts worker processes on 127.0.0.1,
 * makes some of them emulated stragglers (every probe they run adds an
 * emulated delay), writes a demo script, runs the manager on it, prints the
 * summary and where the results are, and stops every process it started,
 * also on Ctrl-C.
 *
 * @module
 */
import {
  type Command,
  type CommandSpec,
  parseNumber,
  parseSeconds,
  runCommand,
  stdio,
} from "../core/cli.ts";
import { type ReadyProcess, spawnAllReady } from "../core/self.ts";
import { runScript } from "./cli.ts";
import { Pool } from "./pool.ts";
import { parseScript } from "./script.ts";
import { thesisScript } from "./thesis.ts";

/** Options of {@link demoScript}. */
export interface DemoOptions {
  addrs: string[];
  /** A worker that is not a straggler. */
  root: string;
  seed: number;
  hyperparameter: number;
}

/** The YAML script the demo runs (also written beside its results). */
export function demoScript(o: DemoOptions): string {
  return `# Written by treecast demo: ${o.addrs.length} local workers.
name: demo
description: Local testbed on 127.0.0.1 with emulated stragglers.
seed: ${o.seed}
addrs:
${o.addrs.map((a) => `  - "${a}"`).join("\n")}
depth: 2
fanout: 2
hyperparameter: ${o.hyperparameter}
rate: 2000
duration: 1.5s
warmup: 300ms
evaluation:
  rate: 2000
  duration: 2s
  warmup: 300ms
  runs: 1
root: "${o.root}"
trees:
  - type: BEST
    strategy: WEIGHTED
  - type: BEST
    strategy: P90
  - type: WORST
    strategy: P90
  - type: RANDOM
timeouts:
  request: 3
  retries: 1
  job_grace: 10
`;
}

const spec = {
  name: "demo",
  summary:
    "Run a local testbed: workers on 127.0.0.1, some emulated slow, one experiment",
  synopsis: "demo [options]",
  description:
    "Starts the workers, runs the manager on a demo script (BEST, WORST and\n" +
    "RANDOM trees of depth 2 and fanout 2), prints the summary and the results path,\n" +
    "and stops every process it started.",
  flags: {
    workers: {
      type: "string",
      arg: "N",
      help: "Workers to start",
      defaultText: "12",
    },
    stragglers: {
      type: "string",
      arg: "N",
      help: "How many of them emulate a slow VM",
      defaultText: "3",
    },
    delay: {
      type: "string",
      arg: "DURATION",
      help: "Emulated extra delay of a straggler",
      defaultText: "3ms",
    },
    seed: {
      type: "string",
      arg: "N",
      help: "Seed of the pool draws",
      defaultText: "1",
    },
    out: {
      type: "string",
      arg: "DIR",
      help: "Folder for results",
      defaultText: "results",
    },
    thesis: {
      type: "boolean",
      help: "Run the thesis's comparison (examples/thesis.yaml) on 25 workers",
    },
  },
} as const satisfies CommandSpec;

/** The `demo` subcommand. */
export const demoCommand: Command = {
  spec,
  run: (args) =>
    runCommand(spec, args, async ({ values }) => {
      const thesis = values.thesis === true;
      const n = parseNumber(
        "workers",
        values.workers ?? (thesis ? "25" : "12"),
        {
          min: thesis ? 15 : 7,
          max: 64,
          integer: true,
        },
      );
      const slow = parseNumber("stragglers", values.stragglers ?? "3", {
        min: 0,
        max: n - (thesis ? 15 : 7),
        integer: true,
      });
      const delayS = parseSeconds("delay", values.delay ?? "3ms", {
        min: 0,
        max: 1,
      });
      const seed = parseNumber("seed", values.seed ?? "1", {
        min: 0,
        integer: true,
      });
      const out = values.out ?? "results";
      const delayUs = Math.round(delayS * 1e6);
      const emulate = `delay=${delayUs}us,jitter=${Math.round(delayUs / 20)}us`;
      const workers: ReadyProcess[] = [];
      const stopAll = () => Promise.all(workers.map((w) => w.stop()));
      const onSignal = () => void stopAll();
      Deno.addSignalListener("SIGINT", onSignal);
      Deno.addSignalListener("SIGTERM", onSignal);
      try {
        stdio.err(
          `demo: starting ${n} workers (${slow} emulating ${emulate})\n`,
        );
        // Stragglers are drawn with the seed, never worker 0 (the root).
        const order = Array.from({ length: n }, (_, i) => String(i));
        const slowSet = new Set(
          new Pool(order.slice(1), { seed: seed + 7919 }).draw(slow).map(
            Number,
          ),
        );
        const started = await spawnAllReady(order.map((_, i) => [
          "worker",
          "--bind",
          "127.0.0.1:0",
          ...(slowSet.has(i) ? ["--emulate", emulate] : []),
        ]));
        workers.push(...started);
        const addrs = workers.map((w) => w.addr);
        const text = thesis ? thesisScript({ addrs, seed }) : demoScript({
          addrs,
          root: addrs[0]!,
          seed,
          hyperparameter: 5,
        });
        await Deno.mkdir(out, { recursive: true });
        const file = `${out}/${thesis ? "thesis" : "demo"}.yaml`;
        await Deno.writeTextFile(file, text);
        stdio.err(
          `demo: stragglers ${
            [...slowSet].map((i) => addrs[i]).join(", ")
          }; script ${file}\n`,
        );
        return await runScript(parseScript(text, file), { out });
      } finally {
        Deno.removeSignalListener("SIGINT", onSignal);
        Deno.removeSignalListener("SIGTERM", onSignal);
        await stopAll();
        stdio.err(`demo: stopped ${workers.length} workers\n`);
      }
    }),
};
