/**
 * The demo's testbed (and the cross-process tests'): worker processes on
 * 127.0.0.1, or one per network namespace (`--netns`, see `netns.ts`);
 * stragglers slowed in-band (`emulate`) or by a CPU quota (`cpu`, see
 * `straggle.ts`). {@link Testbed.stop} stops every process and removes
 * every namespace, link and cgroup it made, whatever state the start
 * reached; a worker that does not exit on SIGTERM (paused, stuck) is
 * SIGKILLed after a grace, with the probes it started.
 *
 * @module
 */
import type { StragglerInfo, TestbedInfo } from "../core/results.ts";
import { createNetns, ip, type Netns, netnsPrefix } from "./netns.ts";
import { killPid } from "./proc.ts";
import { type ReadyProcess, spawnAllReady } from "./spawn.ts";
import {
  availableCpus,
  CpuCgroup,
  type CpuLimit,
  describeLimit,
  STRAGGLE_CPU,
} from "./straggle.ts";

/** How stragglers are made slow. */
export type Straggle = "emulate" | "cpu";

/** The control port of a worker in its own namespace (each has its own stack). */
export const NETNS_PORT = 9000;

/** Options of {@link startTestbed}. */
export interface TestbedOptions {
  workers: number;
  /** Indexes of the workers to make slow (default none). */
  slow?: ReadonlySet<number>;
  /** Default `emulate`. */
  straggle?: Straggle;
  /** `--emulate` spec of an `emulate` straggler. */
  emulate?: string;
  /** The CPU limit of a `cpu` straggler (default {@link STRAGGLE_CPU}). */
  cpu?: CpuLimit;
  /** One network namespace per worker (Linux, root). */
  netns?: boolean;
  /** Relay deadline of every worker (`--relay-timeout`), seconds. */
  relayTimeoutS?: number;
  /** Extra worker flags, per worker index. */
  workerArgs?: (i: number) => string[];
  /** How long a worker may take to exit on SIGTERM before SIGKILL, ms. */
  stopGraceMs?: number;
  /** Aborts the start (the made parts are removed). */
  signal?: AbortSignal;
}

/** A running testbed. */
export interface Testbed {
  /** The workers' control addresses, by index. */
  addrs: string[];
  info: TestbedInfo;
  workers: ReadyProcess[];
  /** The namespaces, with `--netns`. */
  netns?: Netns;
  /** Stops the workers, removes cgroups and namespaces; safe to call twice. */
  stop(): Promise<void>;
}

/** What a testbed made, for its teardown. */
interface Made {
  workers: ReadyProcess[];
  groups: CpuCgroup[];
  netns?: Netns;
}

/** Starts the workers; on a failure everything made so far is removed. */
export async function startTestbed(o: TestbedOptions): Promise<Testbed> {
  const made: Made = { workers: [], groups: [] };
  let stopping: Promise<void> | undefined;
  const stop = () =>
    stopping ??= teardown(made).catch((e) => {
      stopping = undefined;
      throw e;
    });
  try {
    if (o.netns) {
      made.netns = await createNetns(
        o.workers,
        o.signal ? { signal: o.signal } : {},
      );
    }
    o.signal?.throwIfAborted();
    made.workers.push(...await startWorkers(o, made.netns));
    const ns = made.netns;
    const addrs = made.workers.map((w, i) =>
      ns ? `${ns.hosts[i]!.addr}:${NETNS_PORT}` : w.addr
    );
    const stragglers = await slowDown(o, made, addrs);
    const io = probeIo(o);
    return {
      addrs,
      info: {
        kind: ns ? "netns" : "local",
        straggle: o.straggle ?? "emulate",
        ...(ns ? { subnet: ns.subnet } : {}),
        ...(io ? { probeIo: io } : {}),
        stragglers,
      },
      workers: made.workers,
      ...(ns ? { netns: ns } : {}),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/**
 * Kernel receive timestamps are taken before a throttled probe runs, so
 * CPU stragglers are measured, every worker alike, with user-space ones.
 */
function probeIo(o: TestbedOptions): "deno" | undefined {
  return o.straggle === "cpu" ? "deno" : undefined;
}

/** Starts every worker, each in its namespace when there are namespaces. */
function startWorkers(
  o: TestbedOptions,
  ns: Netns | undefined,
): Promise<ReadyProcess[]> {
  const io = probeIo(o);
  const emulated = (i: number) =>
    o.slow?.has(i) && (o.straggle ?? "emulate") === "emulate" &&
    o.emulate !== undefined;
  const argv = (i: number) => [
    "worker",
    ...(ns
      ? [
        "--bind",
        `0.0.0.0:${NETNS_PORT}`,
        "--advertise",
        ns.hosts[i]!.addr,
        "--probe-host",
        ns.hosts[i]!.addr,
      ]
      : ["--bind", "127.0.0.1:0"]),
    ...(emulated(i) ? ["--emulate", o.emulate!] : []),
    ...(o.relayTimeoutS ? ["--relay-timeout", `${o.relayTimeoutS}s`] : []),
    ...(io ? ["--io", io] : []),
    ...(o.workerArgs?.(i) ?? []),
  ];
  return spawnAllReady(
    Array.from({ length: o.workers }, (_, i) => argv(i)),
    // Many Deno processes starting at once on a loaded machine queue for
    // the node_modules lock: give them time.
    (i) => ({
      timeoutMs: 60_000,
      ...(ns ? { wrap: ns.exec(i) } : {}),
      ...(o.stopGraceMs !== undefined ? { stopGraceMs: o.stopGraceMs } : {}),
    }),
  );
}

/** Makes the slow workers slow; what each straggler is, in index order. */
async function slowDown(
  o: TestbedOptions,
  made: Made,
  addrs: string[],
): Promise<StragglerInfo[]> {
  const limit = o.cpu ?? STRAGGLE_CPU;
  const stragglers: StragglerInfo[] = [];
  const slow = [...(o.slow ?? [])].sort((a, b) => a - b);
  // CPU stragglers take the CPUs in turn, one pinned group each.
  const cpus = o.straggle === "cpu" && slow.length > 0 ? availableCpus() : [];
  for (const [k, i] of slow.entries()) {
    if (o.straggle === "cpu") {
      // The worker moves in with the warm probes it started; every probe
      // it starts later is born in the group.
      const cpu = cpus[k % cpus.length]!;
      const g = await CpuCgroup.create(`${netnsPrefix()}-cpu${i}`, limit, cpu);
      made.groups.push(g);
      g.add(made.workers[i]!.child.pid);
      stragglers.push({
        addr: addrs[i]!,
        how: "cpu",
        detail: describeLimit(limit, cpu),
      });
    } else if (o.emulate !== undefined) {
      stragglers.push({ addr: addrs[i]!, how: "emulate", detail: o.emulate });
    }
  }
  return stragglers;
}

async function teardown(made: Made): Promise<void> {
  await Promise.allSettled(made.workers.map((w) => w.stop()));
  const errors: string[] = [];
  for (const g of made.groups) {
    // A probe that outlived its worker is ours too.
    for (const pid of g.pids()) killPid(pid);
    try {
      await g.remove();
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  const ns = made.netns;
  if (ns) {
    for (const h of ns.hosts) {
      try {
        const pids = (await ip(["netns", "pids", h.name])).split("\n");
        for (const p of pids.filter((s) => s !== "")) killPid(Number(p));
      } catch { /* never made */ }
    }
    try {
      await ns.remove();
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  if (errors.length > 0) throw new Error(errors.join("; "));
}
