/**
 * Memory benchmark (Linux /proc).
 *
 * (a) Idle resident memory: VmRSS (and its private part, RssAnon) of fresh
 *     `treecast worker` processes, read every 500 ms from `settleMs` to
 *     `settleMs + windowMs` after their ready line (an idle Deno process
 *     still allocates: its heap breathes between collections). Reported:
 *     the median reading and the largest; the goal is judged on the
 *     largest. Baselines in the same run: a bare Deno process (`deno eval`,
 *     the runtime alone) and a bare ZeroMQ REP process (`_echo.ts`: runtime
 *     + zeromq + transport), measured the same way.
 * (b) The child probe under load: see `child_load.ts`.
 *
 * Figures only; nothing is asserted.
 *
 * @module
 */
import { spawnReady } from "../../demo/spawn.ts";
import { LineProcess, REPO_ROOT } from "../../probes/_testing.ts";
import { type ChildLoadResult, runChildLoad } from "./child_load.ts";
import {
  type Log,
  median,
  mib,
  r1,
  r3,
  sleep,
  statusKiB,
  stderrLog,
} from "./_util.ts";

/** Options of {@link runMemoryBench}. */
export interface MemoryBenchOptions {
  /** Processes of each kind for the idle figure (default 3). */
  samples?: number;
  /** Wait after the ready line before reading VmRSS, ms (default 2000). */
  settleMs?: number;
  /** Readings every 500 ms after the settle, for this long, ms (default 6000). */
  windowMs?: number;
  /** Packets received at which the child's RSS is read (default 0.5M..10M by 0.5M). */
  milestones?: number[];
  /** Sender's ceiling, pps (default 200000). */
  rate?: number;
  log?: Log;
}

/** RSS of a kind of idle process, over every reading of every sample process. */
export interface IdleRss {
  /** Median reading, MB = 10^6 bytes. */
  rss_mb: number;
  rss_mib: number;
  /** Largest reading. */
  max_rss_mb: number;
  max_rss_mib: number;
  /** Median of the private part (RssAnon). */
  rss_anon_mib: number;
  /** Each sample process: its readings, MiB. */
  readings_mib: number[][];
}

/** The section's JSON. */
export interface MemoryBenchResult {
  idle: {
    settle_ms: number;
    window_ms: number;
    worker: IdleRss;
    bare_deno: IdleRss;
    zmq_echo: IdleRss;
    /** worker RSS / bare Deno RSS (medians). */
    ratio_worker_to_bare_deno: number;
    /** 80 MB = 80 x 10^6 bytes (76.3 MiB). */
    goal: { rss_mb: number };
    met: boolean;
  };
  child_load: ChildLoadResult;
}

/** Runs both parts; see the module doc. */
export async function runMemoryBench(
  opts: MemoryBenchOptions = {},
): Promise<MemoryBenchResult> {
  const log = opts.log ?? stderrLog;
  if (opts.milestones && opts.milestones.length < 2) {
    throw new Error("The child's memory needs at least two milestones");
  }
  const idle = await _idle({
    samples: opts.samples ?? 3,
    settleMs: opts.settleMs ?? 2000,
    windowMs: opts.windowMs ?? 6000,
    log,
  });
  const load = await runChildLoad(
    opts.milestones ??
      Array.from({ length: 20 }, (_, i) => (i + 1) * 500_000),
    { rate: opts.rate ?? 200_000, log },
  );
  return { idle, child_load: load };
}

function _rss(pid: number): { rss: number; anon: number } {
  return { rss: statusKiB(pid, "VmRSS"), anon: statusKiB(pid, "RssAnon") };
}

async function _idle(o: {
  samples: number;
  settleMs: number;
  windowMs: number;
  log: Log;
}): Promise<MemoryBenchResult["idle"]> {
  const kinds = {
    worker: async () => {
      const p = await spawnReady(["worker", "--bind", "127.0.0.1:0"]);
      return { pid: p.child.pid, stop: () => p.stop().then(() => {}) };
    },
    bare_deno: async () => {
      const p = new LineProcess(Deno.execPath(), [
        "eval",
        `console.log('{"event":"ready"}'); setInterval(() => {}, 1 << 30);`,
      ]);
      await p.nextJson(30_000);
      return { pid: p.pid, stop: () => _end(p) };
    },
    zmq_echo: async () => {
      const p = new LineProcess(Deno.execPath(), [
        "run",
        "-A",
        `${REPO_ROOT}tests/bench/_echo.ts`,
      ]);
      await p.nextJson(30_000);
      return { pid: p.pid, stop: () => _end(p) };
    },
  };
  const out: Record<string, IdleRss> = {};
  for (const [name, start] of Object.entries(kinds)) {
    // The sample processes of a kind side by side (their sizes do not depend
    // on each other), one kind after the other.
    const ps: Awaited<ReturnType<typeof start>>[] = [];
    const readings: { rss: number; anon: number }[][] = [];
    try {
      for (let i = 0; i < o.samples; i++) ps.push(await start());
      await sleep(o.settleMs);
      for (let t = 0; t <= o.windowMs; t += 500) {
        ps.forEach((p, i) => (readings[i] ??= []).push(_rss(p.pid)));
        if (t < o.windowMs) await sleep(500);
      }
    } finally {
      await Promise.all(ps.map((p) => p.stop()));
    }
    const rss = readings.flat().map((r) => r.rss);
    const anon = readings.flat().map((r) => r.anon);
    out[name] = {
      rss_mb: r1(median(rss) * 1024 / 1e6),
      rss_mib: mib(median(rss)),
      max_rss_mb: r1(Math.max(...rss) * 1024 / 1e6),
      max_rss_mib: mib(Math.max(...rss)),
      rss_anon_mib: mib(median(anon)),
      readings_mib: readings.map((rs) => rs.map((r) => mib(r.rss))),
    };
  }
  const w = out.worker!, b = out.bare_deno!, z = out.zmq_echo!;
  o.log(
    `idle RSS: worker median ${w.rss_mib} MiB = ${w.rss_mb} MB, largest ${w.max_rss_mib} MiB = ` +
      `${w.max_rss_mb} MB (anon ${w.rss_anon_mib} MiB); bare Deno ${b.rss_mib} MiB; ` +
      `ZeroMQ echo ${z.rss_mib} MiB`,
  );
  return {
    settle_ms: o.settleMs,
    window_ms: o.windowMs,
    worker: w,
    bare_deno: b,
    zmq_echo: z,
    ratio_worker_to_bare_deno: r3(w.rss_mib / b.rss_mib),
    goal: { rss_mb: 80 },
    met: w.max_rss_mb <= 80,
  };
}

async function _end(p: LineProcess): Promise<void> {
  p.kill();
  await p.finish();
}
