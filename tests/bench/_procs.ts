/**
 * The processes of the backend benchmark (`backends.ts`): treecast probes
 * with a given `--io`, the C reference (`tests/reference/udp_ref.c`) in the
 * same timestamp mode, and the CPU time each uses while it streams.
 *
 * @module
 */
import { CLK_TCK, procStat, procStats } from "../../demo/proc.ts";
import type { IoKind } from "../../probes/io.ts";
import {
  freeUdpPort,
  LineProcess,
  spawnProbe,
  waitUdpBound,
} from "../../probes/_testing.ts";

/** utime + stime of a process, seconds; undefined once it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  const s = procStat(pid);
  return s ? (s.utime + s.stime) / CLK_TCK : undefined;
}

/**
 * CPU seconds of the processes `pids` and of every process below them,
 * those still running (utime + stime) and those they reaped (cutime +
 * cstime of their parent): a sum that only grows while the processes live,
 * so the difference of two readings is the CPU the whole family used in
 * between (a child that exits unreaped between them is missed).
 */
export function familyCpuSeconds(pids: readonly number[]): number {
  const parent = new Map<number, number>();
  const cpu = new Map<number, number>();
  for (const s of procStats()) {
    parent.set(s.pid, s.ppid);
    cpu.set(s.pid, s.utime + s.stime + s.cutime + s.cstime);
  }
  const roots = new Set(pids);
  const inFamily = (pid: number) => {
    for (let p: number | undefined = pid, i = 0; p && i < 64; i++) {
      if (roots.has(p)) return true;
      p = parent.get(p);
    }
    return false;
  };
  let ticks = 0;
  for (const [pid, t] of cpu) if (inFamily(pid)) ticks += t;
  return ticks / CLK_TCK;
}

/**
 * CPU seconds a process uses from `start()` on, sampled every 50 ms (the
 * last sample before it exits: at most 50 ms of CPU go unseen).
 */
export class CpuMeter {
  #pid: number;
  #from = 0;
  #last = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(pid: number) {
    this.#pid = pid;
  }

  /** Starts counting from now (after the process's own start-up). */
  start(): void {
    this.#from = this.#last = cpuSeconds(this.#pid) ?? 0;
    this.#timer = setInterval(() => {
      const s = cpuSeconds(this.#pid);
      if (s !== undefined) this.#last = s;
    }, 50);
  }

  /** Stops sampling; the CPU seconds counted. */
  stop(): number {
    clearInterval(this.#timer);
    return this.#last - this.#from;
  }
}

/** A process's last JSON line; throws with its stderr if there is none. */
export async function lastLine(
  p: LineProcess,
): Promise<Record<string, unknown>> {
  const { lines, stderr, code } = await p.finish();
  const last = lines.filter((l) =>
    l.event === undefined || l.event === "result"
  )
    .at(-1);
  if (!last) {
    throw new Error(`Process exited ${code} without output: ${stderr}`);
  }
  return last;
}

/** OWD figures of one receiver, µs. */
export interface Owd {
  p50: number;
  p90: number;
  p99: number;
  stddev: number;
  lost: number;
  received: number;
  timestamps: string;
}

/** Reads a treecast child's or a C receiver's result line as {@link Owd}. */
export function owdOf(r: Record<string, unknown>): Owd {
  const lat = (r.latency_us ?? r) as Record<string, number>;
  const pick = (k: string) => Number(lat[k] ?? lat[`${k}_us`]);
  return {
    p50: pick("p50"),
    p90: pick("p90"),
    p99: pick("p99"),
    stddev: pick("stddev"),
    lost: Number(r.lost),
    received: Number(r.received ?? r.recv),
    timestamps: String(r.timestamps),
  };
}

/** The C reference, with `-k` (kernel timestamps) on receivers when asked. */
export class CRef {
  constructor(readonly bin: string, readonly kernel: boolean) {}

  /** A receiver on a fresh port, bound; its address. */
  async receiver(seconds: number): Promise<{ p: LineProcess; addr: string }> {
    const port = freeUdpPort();
    const p = new LineProcess(this.bin, [
      "receiver",
      "-p",
      String(port),
      "-d",
      String(seconds),
      ...(this.kernel ? ["-k"] : []),
    ]);
    await waitUdpBound(port);
    return { p, addr: `127.0.0.1:${port}` };
  }

  /** A forwarder to `to` on a fresh port, bound; its address. */
  async forwarder(
    seconds: number,
    to: string[],
  ): Promise<{ p: LineProcess; addr: string }> {
    const port = freeUdpPort();
    const p = new LineProcess(this.bin, [
      "forwarder",
      "-p",
      String(port),
      "-d",
      String(seconds),
      ...(this.kernel ? ["-k"] : []),
      ...to,
    ]);
    await waitUdpBound(port);
    return { p, addr: `127.0.0.1:${port}` };
  }

  /** A sender of `rate` pps (per destination) for `seconds` to `to`. */
  sender(rate: number, seconds: number, to: string[], warmup = 0): LineProcess {
    return new LineProcess(this.bin, [
      "sender",
      "-r",
      String(rate),
      "-d",
      String(seconds),
      ...(warmup > 0 ? ["-w", String(warmup)] : []),
      ...to,
    ]);
  }
}

/** A treecast probe with `--io`, started and (for receivers) ready. */
export async function treecastProbe(
  role: "child" | "proxy" | "parent",
  io: IoKind,
  args: string[],
): Promise<{ p: LineProcess; addr: string }> {
  const p = spawnProbe([role, "--io", io, ...args]);
  const ready = await p.nextJson(30_000);
  if (ready.event !== "ready") {
    throw new Error(`Expected a ready line, got ${JSON.stringify(ready)}`);
  }
  return { p, addr: String(ready.bind) };
}
