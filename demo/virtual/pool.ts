/**
 * A virtual pool: N real workers (`worker/worker.ts`: CONNECT, COMMAND
 * validation, relays, the job table, REPORT and STOP) in this process, each
 * on its own REP socket on 127.0.0.1 (an ephemeral port), whose probe jobs
 * are answered by the network model (`probe.ts`, `model.ts`) instead of
 * UDP. The manager talks to them as to any worker.
 *
 * @module
 */
import * as zmq from "zeromq";
import type { StragglerInfo } from "../../core/results.ts";
import { RepServer } from "../../core/transport.ts";
import { Worker } from "../../worker/worker.ts";
import { type ModelOptions, NetworkModel, type Vm } from "./model.ts";
import { virtualRunner } from "./probe.ts";
import { StreamRegistry } from "./streams.ts";

/** Options of {@link startVirtualPool}. */
export interface VirtualPoolOptions extends Omit<ModelOptions, "vms"> {
  workers: number;
  /** Relay deadline of every worker, ms (default the worker's). */
  relayTimeoutMs?: number;
}

/** A running virtual pool. */
export interface VirtualPool {
  /** The workers' control addresses, by VM index (in sorted order). */
  addrs: string[];
  model: NetworkModel;
  registry: StreamRegistry;
  /** The stragglers, as a testbed names them in the results. */
  stragglers: StragglerInfo[];
  /** Stops every worker (and its virtual jobs) and closes the sockets. */
  stop(): Promise<void>;
}

/**
 * Sockets this process may hold: each virtual worker serves on one (the
 * transport's requests, the manager's and the relays', share one ROUTER per
 * process), and libzmq holds `maxSockets` per context, 1,023 unless raised.
 * It must be raised before the first socket, so it is raised here, when the
 * pool is loaded; file descriptors are not the limit (Deno raises the soft
 * limit to the hard one at start).
 */
const MAX_SOCKETS = 8192;
if (zmq.context.maxSockets < MAX_SOCKETS) zmq.context.maxSockets = MAX_SOCKETS;

/** The most virtual workers this process holds (a few sockets kept spare). */
export function maxVirtualWorkers(): number {
  return zmq.context.maxSockets - 16;
}

/** The root a run on `pool` starts from: its first worker that is no straggler. */
export function steadyRoot(
  pool: Pick<VirtualPool, "addrs" | "stragglers">,
): string {
  const slow = new Set(pool.stragglers.map((s) => s.addr));
  return pool.addrs.find((a) => !slow.has(a))!;
}

/** One VM's straggler line: its tail factor. */
export function stragglerDetail(vm: Vm): string {
  return `virtual: jitter tail x${vm.tail.toFixed(1)}, loss x${
    vm.tail.toFixed(1)
  }`;
}

/** Starts `o.workers` virtual workers; on a failure the started ones are stopped. */
export async function startVirtualPool(
  o: VirtualPoolOptions,
): Promise<VirtualPool> {
  const model = new NetworkModel({
    seed: o.seed,
    vms: o.workers,
    ...(o.stragglers !== undefined ? { stragglers: o.stragglers } : {}),
    ...(o.loss !== undefined ? { loss: o.loss } : {}),
  });
  const registry = new StreamRegistry(model);
  const abort = new AbortController();
  const servers: RepServer[] = [];
  const workers: Worker[] = [];
  const serving: Promise<void>[] = [];
  const stop = async () => {
    abort.abort();
    for (const s of servers) s.close();
    await Promise.allSettled(serving);
    await Promise.allSettled(workers.map((w) => w.close()));
  };
  try {
    for (let i = 0; i < o.workers; i++) {
      servers.push(await RepServer.bind("127.0.0.1:0"));
    }
    // VM i is the i-th address in the order the manager sorts its pool in,
    // so that one seed draws the same VMs whatever ports the sockets got.
    servers.sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
    servers.forEach((server, i) => {
      const worker = new Worker({
        name: server.addr,
        bindHost: "127.0.0.1",
        probes: virtualRunner(registry, i),
        ...(o.relayTimeoutMs !== undefined
          ? { relayTimeoutMs: o.relayTimeoutMs }
          : {}),
      });
      workers.push(worker);
      serving.push(worker.serve(server, abort.signal).catch(() => {}));
    });
  } catch (e) {
    await stop();
    throw e;
  }
  const addrs = servers.map((s) => s.addr);
  return {
    addrs,
    model,
    registry,
    stragglers: model.stragglers().map((i) => ({
      addr: addrs[i]!,
      how: "model" as const,
      detail: stragglerDetail(model.vms[i]!),
    })),
    stop,
  };
}
