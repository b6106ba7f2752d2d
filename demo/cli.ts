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
import { type Command, Interrupted, runCommand, stdio } from "../core/cli.ts";
import { writeFileDurably } from "../core/durable_file.ts";
import { runScript } from "../manager/cli.ts";
import { parseScript, type Script } from "../manager/script.ts";
import { type DemoPlan, planDemo, planVirtual, spec } from "./plan.ts";
import { settle } from "./settle.ts";
import { thesisScript } from "./thesis.ts";
import { describeLimit, STRAGGLE_CPU } from "./straggle.ts";
import { startTestbed, type Testbed } from "./testbed.ts";
import { runVirtualDemo } from "./virtual/run.ts";

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

/** The `demo` subcommand. */
export const demoCommand: Command = {
  spec,
  run: (args) =>
    runCommand(
      spec,
      args,
      ({ values }) =>
        values.virtual !== undefined
          ? runVirtualDemo(planVirtual(values))
          : runDemo(planDemo(values)),
    ),
};

/**
 * Starts the testbed, writes the script, runs the manager on it and stops
 * the testbed whatever happened. A signal before the manager runs aborts
 * the start and stops the testbed; once it runs, the manager handles it
 * (stopping the jobs, writing the partial results) and the testbed is
 * stopped after it.
 */
async function runDemo(plan: DemoPlan): Promise<number> {
  const abort = new AbortController();
  let bed: Testbed | undefined;
  let running = false;
  const onSignal = () => {
    abort.abort();
    if (!running) void bed?.stop().catch(() => {});
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  try {
    if (plan.note !== undefined) stdio.err(`${plan.note}\n`);
    bed = await startDemoTestbed(plan, abort.signal);
    await settleTestbed(bed, abort.signal);
    if (abort.signal.aborted) throw new Interrupted();
    const script = await writeDemoScript(plan, bed);
    running = true;
    return await runScript(script, {
      out: plan.out,
      testbed: bed.info,
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
        plan.netns ? ", removed the namespaces" : ""
      }\n`,
    );
  }
}

/**
 * Waits for the workers' warm probes to start and the testbed to go quiet
 * (`settle.ts`): the first trees are then measured on the same testbed as
 * the last.
 */
async function settleTestbed(bed: Testbed, signal: AbortSignal) {
  const s = await settle(bed.workers.map((w) => w.child.pid), { signal });
  const secs = (s.waitedMs / 1000).toFixed(1);
  stdio.err(
    s.settled
      ? `demo: the workers' warm probes started; the testbed settled in ${secs} s\n`
      : `demo: the testbed did not settle in ${secs} s (its processes use ${
        Math.round(s.cpuShare * 100)
      } % of a CPU); starting anyway\n`,
  );
}

/** Starts the plan's workers and makes its stragglers slow. */
function startDemoTestbed(
  plan: DemoPlan,
  signal: AbortSignal,
): Promise<Testbed> {
  const cpu = plan.straggle === "cpu";
  stdio.err(
    `demo: starting ${plan.workers} workers on ${
      plan.netns ? "network namespaces" : "127.0.0.1"
    } (${plan.slow.size} ${
      cpu
        ? `under a CPU quota: ${describeLimit(STRAGGLE_CPU)}`
        : `emulating ${plan.emulate}`
    })\n`,
  );
  return startTestbed({
    workers: plan.workers,
    slow: plan.slow,
    ...(plan.straggle !== "none" ? { straggle: plan.straggle } : {}),
    emulate: plan.emulate,
    netns: plan.netns,
    ...(slowStart(plan) ? { relayTimeoutS: SLOW_RELAY_S } : {}),
    signal,
  });
}

/** Writes the script for the testbed into the results folder; the script. */
async function writeDemoScript(plan: DemoPlan, bed: Testbed): Promise<Script> {
  const { addrs, info } = bed;
  const where = `on ${
    info.subnet ? `network namespaces (${info.subnet})` : "127.0.0.1"
  } with ${
    { cpu: "CPU-limited", emulate: "emulated", none: "no" }[plan.straggle]
  } stragglers`;
  const slow = slowStart(plan) ? { requestTimeoutS: SLOW_RELAY_S + 2 } : {};
  const text = plan.thesis
    ? thesisScript({
      addrs,
      seed: plan.seed,
      description: `The thesis's comparison ${where}.`,
      ...slow,
    })
    : demoScript({
      addrs,
      root: addrs[0]!,
      seed: plan.seed,
      hyperparameter: 5,
      description: `Testbed ${where}.`,
      ...slow,
    });
  await Deno.mkdir(plan.out, { recursive: true });
  const file = `${plan.out}/${plan.thesis ? "thesis" : "demo"}.yaml`;
  writeFileDurably(file, text);
  stdio.err(
    `demo: stragglers (${plan.straggle}) ${
      info.stragglers.map((s) => s.addr).join(", ")
    }; script ${file}\n`,
  );
  return parseScript(text, file);
}

/**
 * Whether probes may be slow to start: under the CPU quota (1.7 s measured
 * against 1.3 s outside, `straggle.ts`), and among the thesis's 25 workers'
 * start-ups on a small machine.
 */
function slowStart(plan: DemoPlan): boolean {
  return plan.thesis || plan.straggle === "cpu";
}

/**
 * Relay deadline of the workers when {@link slowStart}, s (the script's
 * request deadline is 2 s more): on a 2-core machine the default (2 s)
 * blamed healthy workers whose probes were slow to start.
 */
const SLOW_RELAY_S = 6;
