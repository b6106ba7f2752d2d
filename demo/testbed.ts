/**
 * The demo's testbed: worker processes on 127.0.0.1, or one per network
 * namespace (`--netns`, see `netns.ts`); stragglers slowed in-band
 * (`emulate`) or by a CPU quota (`cpu`, see `straggle.ts`). {@link
 * Testbed.stop} stops every process and removes every namespace, link and
 * cgroup it made, whatever state the start reached.
 *
 * @module
 */
import { type ReadyProcess, spawnAllReady } from "../core/self.ts";
import { createNetns, ip, type Netns } from "./netns.ts";
import type { StragglerInfo, TestbedInfo } from "../core/results.ts";
import {
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
  /** Indexes of the workers to make slow. */
  slow: ReadonlySet<number>;
  straggle: Straggle;
  /** `--emulate` spec of an `emulate` straggler. */
  emulate: string;
  /** The CPU limit of a `cpu` straggler (default {@link STRAGGLE_CPU}). */
  cpu?: CpuLimit;
  netns: boolean;
  /** Relay deadline of every worker (`--relay-timeout`), seconds. */
  relayTimeoutS?: number;
  /** Extra worker flags, per worker index. */
  workerArgs?: (i: number) => string[];
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

/** Starts the workers; on a failure everything made so far is removed. */
export async function startTestbed(o: TestbedOptions): Promise<Testbed> {
  const workers: ReadyProcess[] = [];
  const groups: CpuCgroup[] = [];
  let netns: Netns | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    stopping ??= teardown(workers, groups, () => netns).catch((e) => {
      stopping = undefined;
      throw e;
    });
  try {
    if (o.netns) {
      netns = await createNetns(
        o.workers,
        o.signal ? { signal: o.signal } : {},
      );
    }
    o.signal?.throwIfAborted();
    const ns = netns;
    // Kernel receive timestamps are taken before a throttled probe runs, so
    // CPU stragglers are measured, every worker alike, with user-space ones.
    const io = o.straggle === "cpu" ? "deno" : undefined;
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
      ...(o.slow.has(i) && o.straggle === "emulate"
        ? ["--emulate", o.emulate]
        : []),
      ...(o.relayTimeoutS ? ["--relay-timeout", `${o.relayTimeoutS}s`] : []),
      ...(io ? ["--io", io] : []),
      ...(o.workerArgs?.(i) ?? []),
    ];
    workers.push(
      ...await spawnAllReady(
        Array.from({ length: o.workers }, (_, i) => argv(i)),
        // Many Deno processes starting at once on a loaded machine queue
        // for the node_modules lock: give them time.
        (i) => ({
          timeoutMs: 60_000,
          ...(ns ? { wrap: ns.exec(i) } : {}),
        }),
      ),
    );
    const addrs = workers.map((w, i) =>
      ns ? `${ns.hosts[i]!.addr}:${NETNS_PORT}` : w.addr
    );
    const limit = o.cpu ?? STRAGGLE_CPU;
    const stragglers: StragglerInfo[] = [];
    for (const i of [...o.slow].sort((a, b) => a - b)) {
      if (o.straggle === "cpu") {
        // The worker has started no probe yet: each one it starts is born
        // in the group.
        const g = await CpuCgroup.create(`tcn${Deno.pid}-cpu${i}`, limit);
        groups.push(g);
        g.add(workers[i]!.child.pid);
        stragglers.push({
          addr: addrs[i]!,
          how: "cpu",
          detail: describeLimit(limit),
        });
      } else {
        stragglers.push({ addr: addrs[i]!, how: "emulate", detail: o.emulate });
      }
    }
    return {
      addrs,
      info: {
        kind: ns ? "netns" : "local",
        straggle: o.straggle,
        ...(ns ? { subnet: ns.subnet } : {}),
        ...(io ? { probeIo: io } : {}),
        stragglers,
      },
      workers,
      ...(ns ? { netns: ns } : {}),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

async function teardown(
  workers: ReadyProcess[],
  groups: CpuCgroup[],
  netns: () => Netns | undefined,
): Promise<void> {
  await Promise.allSettled(workers.map((w) => w.stop()));
  const errors: string[] = [];
  for (const g of groups) {
    // A probe that outlived its worker is ours too.
    for (const pid of g.pids()) killPid(pid);
    try {
      await g.remove();
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  const ns = netns();
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

function killPid(pid: number): void {
  try {
    Deno.kill(pid, "SIGKILL");
  } catch { /* gone */ }
}
