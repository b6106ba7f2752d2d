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
  type Parsed,
  parseNumber,
  parseSeconds,
  runCommand,
  stdio,
  UsageError,
} from "../core/cli.ts";
import { writeFileDurably } from "../core/durable_file.ts";
import { runScript } from "../manager/cli.ts";
import { Pool } from "../manager/pool.ts";
import { parseScript, type Script } from "../manager/script.ts";
import { requireNetnsSupport } from "./netns.ts";
import { settle } from "./settle.ts";
import { thesisScript } from "./thesis.ts";
import { startTestbed, type Straggle, type Testbed } from "./testbed.ts";
import { STRAGGLER_SHARE } from "./virtual/model.ts";
import { maxVirtualWorkers } from "./virtual/pool.ts";
import { runVirtualDemo, type VirtualPlan } from "./virtual/run.ts";

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
    "and stops every process it started. With --virtual N, N workers run in this\n" +
    "process and a seeded network model answers their probes (no UDP).",
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
      help:
        "How many of them emulate a slow VM; with --virtual, the share of VMs the model makes stragglers (5% or 0.05)",
      defaultText: "3; with --virtual 5%",
    },
    "no-stragglers": {
      type: "boolean",
      help: "No stragglers: every worker as it is",
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
    virtual: {
      type: "string",
      arg: "N",
      help:
        "N virtual workers in this process, probes answered by a seeded network model (README: Virtual pool)",
    },
  },
} as const satisfies CommandSpec;

/** What the demo's flags ask for, checked. */
interface DemoPlan {
  thesis: boolean;
  workers: number;
  /** Indexes of the stragglers: drawn with the seed, never worker 0 (the root). */
  slow: Set<number>;
  seed: number;
  straggle: Straggle;
  /** The `--emulate` spec of an `emulate` straggler. */
  emulate: string;
  netns: boolean;
  out: string;
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

/** Reads and checks the flags of `--virtual` (usage errors exit 2). */
function planVirtual(
  values: Parsed<typeof spec.flags>["values"],
): VirtualPlan {
  for (
    const f of [
      "workers",
      "delay",
      "straggle",
      "netns",
      "thesis",
      "no-stragglers",
    ] as const
  ) {
    if (values[f] !== undefined && values[f] !== false) {
      throw new UsageError(`Flag "--${f}" does not go with "--virtual"`);
    }
  }
  const share = values.stragglers;
  const workers = parseNumber("virtual", values.virtual!, {
    min: 7,
    integer: true,
  });
  if (workers > maxVirtualWorkers()) {
    throw new UsageError(
      `Flag "--virtual" must be at most ${maxVirtualWorkers()}, got ${workers}: ` +
        "each virtual worker takes about 3 ZeroMQ sockets of this process",
    );
  }
  return {
    workers,
    seed: parseNumber("seed", values.seed ?? "1", { min: 0, integer: true }),
    stragglers: share === undefined
      ? STRAGGLER_SHARE
      : share.endsWith("%")
      ? parseNumber("stragglers", share.slice(0, -1), { min: 0, max: 99 }) /
        100
      : parseNumber("stragglers", share, { min: 0, max: 0.99 }),
    out: values.out ?? "results",
  };
}

/** Reads and checks the flags (usage errors exit 2). */
function planDemo(values: Parsed<typeof spec.flags>["values"]): DemoPlan {
  const thesis = values.thesis === true;
  const least = thesis ? 15 : 7;
  const workers = parseNumber(
    "workers",
    values.workers ?? (thesis ? "25" : "12"),
    { min: least, max: 64, integer: true },
  );
  const none = values["no-stragglers"] === true;
  if (none && values.stragglers !== undefined) {
    throw new UsageError(
      `Flag "--no-stragglers" does not go with "--stragglers"`,
    );
  }
  const slow = none ? 0 : parseNumber("stragglers", values.stragglers ?? "3", {
    min: 0,
    max: workers - least,
    integer: true,
  });
  const delayUs = Math.round(
    parseSeconds("delay", values.delay ?? "3ms", { min: 0, max: 1 }) * 1e6,
  );
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
  const netns = values.netns === true;
  if (netns) requireNetnsSupport();
  if (straggle === "cpu" && Deno.uid() !== 0) {
    throw new UsageError(`"--straggle cpu" needs root (it makes cgroups)`);
  }
  const others = Array.from({ length: workers - 1 }, (_, i) => String(i + 1));
  return {
    thesis,
    workers,
    slow: new Set(
      new Pool(others, { seed: seed + 7919 }).draw(slow).map(Number),
    ),
    seed,
    straggle,
    emulate: `delay=${delayUs}us,jitter=${Math.round(delayUs / 20)}us`,
    netns,
    out: values.out ?? "results",
  };
}

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
      cpu ? "under a CPU quota" : `emulating ${plan.emulate}`
    })\n`,
  );
  return startTestbed({
    workers: plan.workers,
    slow: plan.slow,
    straggle: plan.straggle,
    emulate: plan.emulate,
    netns: plan.netns,
    // A probe under the CPU quota takes seconds to start, and so does one
    // among the thesis's 25 workers' start-ups on a small machine.
    ...(cpu
      ? { relayTimeoutS: CPU_RELAY_S }
      : plan.thesis
      ? { relayTimeoutS: THESIS_RELAY_S }
      : {}),
    signal,
  });
}

/** Writes the script for the testbed into the results folder; the script. */
async function writeDemoScript(plan: DemoPlan, bed: Testbed): Promise<Script> {
  const { addrs, info } = bed;
  const cpu = plan.straggle === "cpu";
  const text = plan.thesis
    ? thesisScript({
      addrs,
      seed: plan.seed,
      requestTimeoutS: THESIS_RELAY_S + 2,
    })
    : demoScript({
      addrs,
      root: addrs[0]!,
      seed: plan.seed,
      hyperparameter: 5,
      description: `Testbed on ${
        info.subnet ? `network namespaces (${info.subnet})` : "127.0.0.1"
      } with ${cpu ? "CPU-limited" : "emulated"} stragglers.`,
      ...(cpu ? { requestTimeoutS: CPU_RELAY_S + 2 } : {}),
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

/** Relay deadline of the workers when stragglers run under a CPU quota, s. */
const CPU_RELAY_S = 10;
/**
 * Relay deadline of the thesis's 25 local workers, s: on a 2-core machine
 * the default (2 s) blamed healthy workers whose probes were slow to start.
 */
const THESIS_RELAY_S = 6;
