/**
 * Waiting for a local testbed to settle before its experiment. A worker
 * answers before its warm probes run: it starts them afterwards, in the
 * background, one after another (`worker/warm.ts`). On a small machine
 * 25 workers' 50 Deno start-ups take tens of seconds of CPU, and without
 * this wait the first trees of an experiment were built and evaluated
 * during them (BEST's, first in the thesis's order: README, Demo).
 * Linux only (it reads /proc); elsewhere it returns at once.
 *
 * @module
 */
import { WARM_PROBES } from "../worker/warm.ts";
import { procStats } from "./proc.ts";

/** Options of {@link settle}. */
export interface SettleOptions {
  /** Warm probes each worker must have running (default {@link WARM_PROBES}; 0 with cold probes). */
  warm?: number;
  /** Settled below this CPU time per wall time, all the processes together (default 0.1: a tenth of one CPU). */
  idleShare?: number;
  /** Window the CPU use is measured over, ms (default 500). */
  windowMs?: number;
  /** Give up after this long, ms (default 60,000). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** What {@link settle} found. */
export interface Settled {
  /** Whether the processes settled before the timeout. */
  settled: boolean;
  waitedMs: number;
  /** CPU time per wall time in the last window (1 = one CPU busy). */
  cpuShare: number;
}

/** One process of /proc: its parent and its CPU time, clock ticks. */
interface Proc {
  ppid: number;
  ticks: number;
}

/** Every live process's parent and CPU ticks, in one pass over /proc. */
function readProcs(): Map<number, Proc> {
  const out = new Map<number, Proc>();
  for (const s of procStats()) {
    if (s.state !== "Z") {
      out.set(s.pid, { ppid: s.ppid, ticks: s.utime + s.stime });
    }
  }
  return out;
}

/** `roots` and their descendants, each root's list separately. */
function trees(procs: Map<number, Proc>, roots: readonly number[]) {
  const kids = new Map<number, number[]>();
  for (const [pid, p] of procs) {
    kids.set(p.ppid, [...kids.get(p.ppid) ?? [], pid]);
  }
  return roots.map((root) => {
    const all = procs.has(root) ? [root] : [];
    for (let i = 0; i < all.length; i++) all.push(...kids.get(all[i]!) ?? []);
    return all;
  });
}

/** Whether `pid` is a warm probe (`treecast child --standby`). */
function isWarm(pid: number): boolean {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0")
      .includes("--standby");
  } catch {
    return false;
  }
}

/**
 * Waits until every worker in `pids` runs its warm probes and the workers
 * with every process they started use under `idleShare` of one CPU over a
 * window, or until the timeout.
 */
export async function settle(
  pids: readonly number[],
  o: SettleOptions = {},
): Promise<Settled> {
  const t0 = performance.now();
  if (Deno.build.os !== "linux") {
    return { settled: true, waitedMs: 0, cpuShare: 0 };
  }
  const warm = o.warm ?? WARM_PROBES, idle = o.idleShare ?? 0.1;
  const windowMs = o.windowMs ?? 500, timeoutMs = o.timeoutMs ?? 60_000;
  // Linux's USER_HZ is 100 on every architecture it runs on.
  const tickMs = 10;
  const sample = () => {
    const procs = readProcs();
    const groups = trees(procs, pids);
    const ticks = new Map(groups.flat().map((p) => [p, procs.get(p)!.ticks]));
    const ready = groups.every((g) => g.filter(isWarm).length >= warm);
    return { ticks, ready, at: performance.now() };
  };
  let last = sample(), share = Infinity;
  while (performance.now() - t0 < timeoutMs) {
    o.signal?.throwIfAborted();
    await new Promise((r) => setTimeout(r, windowMs));
    const now = sample();
    let used = 0;
    for (const [pid, t] of now.ticks) used += t - (last.ticks.get(pid) ?? 0);
    share = used * tickMs / (now.at - last.at);
    last = now;
    if (now.ready && share < idle) {
      return {
        settled: true,
        waitedMs: performance.now() - t0,
        cpuShare: share,
      };
    }
  }
  return { settled: false, waitedMs: performance.now() - t0, cpuShare: share };
}
