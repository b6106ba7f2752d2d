/**
 * The demo's flags and what they ask for: {@link planDemo} turns them into
 * a checked plan (usage errors exit 2), and {@link chooseStraggle} says how
 * its stragglers are made slow. `demo --thesis` makes them CPU-quota
 * stragglers in network namespaces where it can (Linux, root, cgroup `cpu`
 * and `cpuset` controllers), in-band ones elsewhere, saying why.
 *
 * @module
 */
import {
  type CommandSpec,
  type Parsed,
  parseNumber,
  parseSeconds,
  UsageError,
} from "../core/cli.ts";
import { Pool } from "../manager/pool.ts";
import { requireNetnsSupport } from "./netns.ts";
import { controllerRoot } from "./straggle.ts";
import type { Straggle } from "./testbed.ts";
import { STRAGGLER_SHARE } from "./virtual/model.ts";
import { maxVirtualWorkers } from "./virtual/pool.ts";
import type { VirtualPlan } from "./virtual/run.ts";

/** The `demo` subcommand's flags and help. */
export const spec = {
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
        "How many of them are slow VMs; with --virtual, the share of VMs the model makes stragglers (5% or 0.05)",
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
        "emulate (in-band delay) or cpu (a fifth of a CPU in 5 ms periods for the straggler's worker and probes; root)",
      defaultText: "emulate; with --thesis as root, cpu in namespaces",
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
      help:
        "Run the thesis's comparison (examples/thesis.yaml) on 25 workers (as root, in namespaces with CPU-quota stragglers)",
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
export interface DemoPlan {
  thesis: boolean;
  workers: number;
  /** Indexes of the stragglers: drawn with the seed, never worker 0 (the root). */
  slow: Set<number>;
  seed: number;
  straggle: Straggle | "none";
  /** The `--emulate` spec of an `emulate` straggler. */
  emulate: string;
  netns: boolean;
  /** One line on why the thesis keeps in-band stragglers, when it does. */
  note?: string;
  out: string;
}

/** What the machine offers CPU-quota stragglers in namespaces. */
export interface Host {
  os: string;
  uid: number | null;
  /** Whether the cgroup `cpu` and `cpuset` controllers are mounted. */
  cgroups: boolean;
}

/** This machine, as {@link chooseStraggle} needs it. */
export function thisHost(): Host {
  let cgroups = true;
  try {
    controllerRoot("cpu");
    controllerRoot("cpuset");
  } catch {
    cgroups = false;
  }
  return { os: Deno.build.os, uid: Deno.uid(), cgroups };
}

/** How the stragglers are made: as {@link Straggle}, or none at all. */
export interface StraggleChoice {
  straggle: Straggle | "none";
  netns: boolean;
  /** One line on why `--thesis` keeps in-band stragglers, when it does. */
  note?: string;
}

/**
 * How the stragglers are made slow. `--straggle` as given, else: none
 * without stragglers; with `--thesis`, CPU-quota stragglers in namespaces
 * where the host allows them (the deployment's shape: slowed by the
 * machine, not in-band), else in-band with a note saying why; the plain
 * demo, in-band.
 */
export function chooseStraggle(
  o: { thesis: boolean; stragglers: number; straggle?: string; netns: boolean },
  host: Host,
): StraggleChoice {
  if (
    o.straggle !== undefined && o.straggle !== "emulate" && o.straggle !== "cpu"
  ) {
    throw new UsageError(
      `Flag "--straggle" must be emulate or cpu, got "${o.straggle}"`,
    );
  }
  if (o.straggle === "cpu" && host.uid !== 0) {
    throw new UsageError(`"--straggle cpu" needs root (it makes cgroups)`);
  }
  if (o.stragglers === 0) return { straggle: "none", netns: o.netns };
  if (o.straggle !== undefined || !o.thesis) {
    return { straggle: o.straggle ?? "emulate", netns: o.netns };
  }
  const why = host.os !== "linux"
    ? `not Linux (${host.os})`
    : host.uid !== 0
    ? `not root (uid ${host.uid})`
    : !host.cgroups
    ? "no cgroup cpu or cpuset controller is mounted"
    : undefined;
  if (why === undefined) return { straggle: "cpu", netns: true };
  return {
    straggle: "emulate",
    netns: o.netns,
    note:
      `demo: in-band stragglers (CPU-quota ones in namespaces need Linux, root and the cgroup cpu and cpuset controllers): ${why}`,
  };
}

/** Reads and checks the flags of `--virtual` (usage errors exit 2). */
export function planVirtual(
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
export function planDemo(
  values: Parsed<typeof spec.flags>["values"],
  host: Host = thisHost(),
): DemoPlan {
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
  const choice = chooseStraggle({
    thesis,
    stragglers: slow,
    netns: values.netns === true,
    ...(values.straggle !== undefined ? { straggle: values.straggle } : {}),
  }, host);
  if (choice.netns) requireNetnsSupport(host.os, host.uid);
  const others = Array.from({ length: workers - 1 }, (_, i) => String(i + 1));
  return {
    thesis,
    workers,
    slow: new Set(
      new Pool(others, { seed: seed + 7919 }).draw(slow).map(Number),
    ),
    seed,
    straggle: choice.straggle,
    emulate: `delay=${delayUs}us,jitter=${Math.round(delayUs / 20)}us`,
    netns: choice.netns,
    ...(choice.note !== undefined ? { note: choice.note } : {}),
    out: values.out ?? "results",
  };
}
