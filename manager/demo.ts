/**
 * `treecast demo`: a local testbed. Starts worker processes on 127.0.0.1
 * (or, with `--netns`, one per network namespace), makes some of them
 * stragglers (`--straggle emulate`: every probe they run adds an emulated
 * delay; `cpu`: a CPU quota on the worker and its probes), writes a demo
 * script, runs the manager on it, prints the summary and where the results
 * are, and stops every process (and removes every namespace, link and
 * cgroup) it made, also on Ctrl-C.
 *
 * @module
 */
import {
  type Command,
  type CommandSpec,
  Interrupted,
  parseNumber,
  parseSeconds,
  runCommand,
  stdio,
  UsageError,
} from "../core/cli.ts";
import { writeFileDurably } from "../core/durable_file.ts";
import { runScript } from "./cli.ts";
import { requireNetnsSupport } from "./netns.ts";
import { Pool } from "./pool.ts";
import { parseScript } from "./script.ts";
import { thesisScript } from "./thesis.ts";
import { startTestbed, type Testbed } from "./testbed.ts";

/** Options of {@link demoScript}. */
export interface DemoOptions {
  addrs: string[];
  /** A worker that is not a straggler. */
  root: string;
  seed: number;
  hyperparameter: number;
  /** One line on where the workers run. */
  description?: string;
  /** Deadline of each request, s (default 3). */
  requestTimeoutS?: number;
}

/** The YAML script the demo runs (also written beside its results). */
export function demoScript(o: DemoOptions): string {
  return `# Written by treecast demo: ${o.addrs.length} workers.
name: demo
description: ${
    o.description ?? "Local testbed on 127.0.0.1 with emulated stragglers."
  }
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
  request: ${o.requestTimeoutS ?? 3}
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
    straggle: {
      type: "string",
      arg: "HOW",
      help:
        "emulate (in-band delay) or cpu (a CPU quota on the straggler's worker and probes; root)",
      defaultText: "emulate",
    },
    netns: {
      type: "boolean",
      help:
        "One network namespace per worker, addresses in 198.18.0.0/15 (Linux, root)",
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
      const straggle = values.straggle ?? "emulate";
      if (straggle !== "emulate" && straggle !== "cpu") {
        throw new UsageError(
          `Flag "--straggle" must be emulate or cpu, got "${straggle}"`,
        );
      }
      if (values.netns) requireNetnsSupport();
      if (straggle === "cpu" && Deno.uid() !== 0) {
        throw new UsageError(`"--straggle cpu" needs root (it makes cgroups)`);
      }
      const out = values.out ?? "results";
      const delayUs = Math.round(delayS * 1e6);
      const emulate = `delay=${delayUs}us,jitter=${Math.round(delayUs / 20)}us`;
      // Stragglers are drawn with the seed, never worker 0 (the root).
      const order = Array.from({ length: n }, (_, i) => String(i));
      const slowSet = new Set(
        new Pool(order.slice(1), { seed: seed + 7919 }).draw(slow).map(Number),
      );
      const abort = new AbortController();
      let bed: Testbed | undefined;
      let running = false;
      const onSignal = () => {
        abort.abort();
        if (!running) void bed?.stop().catch(() => {});
      };
      Deno.addSignalListener("SIGINT", onSignal);
      Deno.addSignalListener("SIGTERM", onSignal);
      const where = values.netns ? "network namespaces" : "127.0.0.1";
      try {
        stdio.err(
          `demo: starting ${n} workers on ${where} (${slow} ${
            straggle === "cpu" ? "under a CPU quota" : `emulating ${emulate}`
          })\n`,
        );
        bed = await startTestbed({
          workers: n,
          slow: slowSet,
          straggle,
          emulate,
          netns: values.netns,
          // A probe under the CPU quota takes seconds to start, and so does
          // one among the thesis's 25 workers' start-ups on a small machine.
          ...(straggle === "cpu"
            ? { relayTimeoutS: CPU_RELAY_S }
            : thesis
            ? { relayTimeoutS: THESIS_RELAY_S }
            : {}),
          signal: abort.signal,
        });
        if (abort.signal.aborted) throw new Interrupted();
        const { addrs, info } = bed;
        const text = thesis
          ? thesisScript({ addrs, seed, requestTimeoutS: THESIS_RELAY_S + 2 })
          : demoScript({
            addrs,
            root: addrs[0]!,
            seed,
            hyperparameter: 5,
            description: `Testbed on ${
              info.subnet ? `network namespaces (${info.subnet})` : "127.0.0.1"
            } with ${
              straggle === "cpu" ? "CPU-limited" : "emulated"
            } stragglers.`,
            ...(straggle === "cpu" ? { requestTimeoutS: CPU_RELAY_S + 2 } : {}),
          });
        await Deno.mkdir(out, { recursive: true });
        const file = `${out}/${thesis ? "thesis" : "demo"}.yaml`;
        writeFileDurably(file, text);
        stdio.err(
          `demo: stragglers (${straggle}) ${
            info.stragglers.map((s) => s.addr).join(", ")
          }; script ${file}\n`,
        );
        running = true;
        return await runScript(parseScript(text, file), {
          out,
          testbed: info,
        });
      } catch (e) {
        if (abort.signal.aborted && !(e instanceof Interrupted)) {
          throw new Interrupted();
        }
        throw e;
      } finally {
        Deno.removeSignalListener("SIGINT", onSignal);
        Deno.removeSignalListener("SIGTERM", onSignal);
        await bed?.stop();
        stdio.err(
          `demo: stopped ${bed?.workers.length ?? 0} workers${
            values.netns ? ", removed the namespaces" : ""
          }\n`,
        );
      }
    }),
};

/** Relay deadline of the workers when stragglers run under a CPU quota, s. */
const CPU_RELAY_S = 10;
/**
 * Relay deadline of the thesis's 25 local workers, s: on a 2-core machine
 * the default (2 s) blamed healthy workers whose probes were slow to start.
 */
const THESIS_RELAY_S = 6;
