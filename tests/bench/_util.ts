/**
 * Helpers shared by the benchmark sections: order statistics, rounding,
 * /proc readings, starting many worker processes on a small machine, and
 * the machine description every results file carries.
 *
 * @module
 */
import type { Results } from "../../core/results.ts";
import { procStats } from "../../demo/proc.ts";
import { type ReadyProcess, spawnReady } from "../../demo/spawn.ts";

/** Progress and figure lines go to stderr; stdout carries only the JSON. */
export type Log = (line: string) => void;

/** The default log: stderr. */
export const stderrLog: Log = (line) => console.error(line);

/** Rounds to 3 decimals. */
export const r3 = (x: number): number => Math.round(x * 1000) / 1000;
/** Rounds to 1 decimal. */
export const r1 = (x: number): number => Math.round(x * 10) / 10;

/** Median (mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = xs.slice().sort((a, b) => a - b), m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Nearest-rank percentile `p` (0..100) of `xs`. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = xs.slice().sort((a, b) => a - b);
  const k = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[k - 1]!;
}

/** A field of `/proc/PID/status` in KiB (VmRSS, VmHWM, ...). */
export function statusKiB(pid: number, field = "VmRSS"): number {
  const text = Deno.readTextFileSync(`/proc/${pid}/status`);
  const m = text.match(new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, "m"));
  if (!m) throw new Error(`Cannot read ${field} of process ${pid}`);
  return Number(m[1]);
}

/** KiB to MiB, 1 decimal. */
export const mib = (kib: number): number => r1(kib / 1024);

/** Sleeps `ms`. */
export const sleep = (ms: number): Promise<void> =>
  new Promise((r) => setTimeout(r, ms));

/**
 * Starts `n` `treecast worker --bind 127.0.0.1:0` processes, at most
 * `concurrency` starting at once (a 2-core machine starting 50 Deno
 * processes at once would miss spawnReady's deadline). On a failure stops
 * the ones started and throws.
 */
export async function startWorkers(
  n: number,
  opts: { concurrency?: number; args?: string[] } = {},
): Promise<ReadyProcess[]> {
  const out: ReadyProcess[] = [];
  let next = 0;
  const lane = async () => {
    while (next < n) {
      next++;
      out.push(
        await spawnReady([
          "worker",
          "--bind",
          "127.0.0.1:0",
          ...opts.args ?? [],
        ], {
          timeoutMs: 60_000,
        }),
      );
    }
  };
  try {
    await Promise.all(
      Array.from({ length: Math.min(n, opts.concurrency ?? 4) }, lane),
    );
  } catch (e) {
    await stopAll(out);
    throw e;
  }
  return out;
}

/** Stops processes (SIGTERM) and waits for them. */
export async function stopAll(ps: readonly ReadyProcess[]): Promise<void> {
  await Promise.all(ps.map((p) => p.stop()));
}

/** The machine, as BENCHMARKS.md reports it. */
export interface Machine {
  nproc: number;
  cpu: string;
  kernel: string;
  memTotalMiB: number;
  memAvailableMiB: number;
  /** `free -h` as printed, when `free` exists. */
  free: string | null;
  /** /proc/loadavg when the run started. */
  loadavg: string;
  deno: string;
  v8: string;
  os: string;
}

/** Describes this machine (Linux /proc; other systems get what Deno knows). */
export async function machine(): Promise<Machine> {
  const read = (p: string) => {
    try {
      return Deno.readTextFileSync(p);
    } catch {
      return "";
    }
  };
  const meminfo = read("/proc/meminfo");
  const memKiB = (f: string) =>
    Number(meminfo.match(new RegExp(`^${f}:\\s+(\\d+)`, "m"))?.[1] ?? NaN);
  let free: string | null = null;
  try {
    const o = await new Deno.Command("free", { args: ["-h"] }).output();
    if (o.success) free = new TextDecoder().decode(o.stdout).trimEnd();
  } catch { /* no free(1) */ }
  return {
    nproc: navigator.hardwareConcurrency,
    cpu: read("/proc/cpuinfo").match(/^model name\s*:\s*(.*)$/m)?.[1] ??
      "unknown",
    kernel: Deno.osRelease(),
    memTotalMiB: Math.round(memKiB("MemTotal") / 1024),
    memAvailableMiB: Math.round(memKiB("MemAvailable") / 1024),
    free,
    loadavg: read("/proc/loadavg").trim(),
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    os: `${Deno.build.os} ${Deno.build.arch}`,
  };
}

/** How busy the machine is: load averages and processes not started by this run. */
export interface Load {
  /** 1, 5 and 15 minute load averages. */
  loadavg: number[];
  /** Deno or udp_ref processes running that this process did not start (other users' work). */
  foreign: number;
}

/** Reads the {@link Load} now (Linux /proc; zeros elsewhere). */
export function load(): Load {
  const parent = new Map<number, number>();
  const names = new Map<number, string>();
  for (const p of procStats()) {
    parent.set(p.pid, p.ppid);
    names.set(p.pid, p.comm);
  }
  const mine = (pid: number) => {
    for (let p: number | undefined = pid, i = 0; p && i < 64; i++) {
      if (p === Deno.pid) return true;
      p = parent.get(p);
    }
    return false;
  };
  let foreign = 0;
  for (const [pid, name] of names) {
    if ((name === "deno" || name === "udp_ref") && !mine(pid)) foreign++;
  }
  let loadavg = [0, 0, 0];
  try {
    loadavg = Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3)
      .map(Number);
  } catch { /* not Linux */ }
  return { loadavg, foreign };
}

type Tree = Results["trees"][number];

/**
 * Datagrams sent per message in an evaluation of tree `t`: the root's
 * `sent` x its children, plus each node's `forwarded` x its out-degree over
 * the tree's edges and hedge edges (a proxy forwards each message to each
 * of its children and hedge children), over the root's `sent`.
 */
export function datagramsPerMessage(
  t: Tree,
  ev: Tree["evaluations"][number],
): number | null {
  const root = ev.nodes.find((n) => n.role === "root")?.sender;
  if (!root || root.sent === 0) return null;
  const out = new Map<string, number>();
  for (const [from] of [...t.edges, ...t.hedges ?? []]) {
    out.set(from, (out.get(from) ?? 0) + 1);
  }
  const forwarded = ev.nodes.reduce(
    (s, n) => s + (n.forward?.forwarded ?? 0) * (out.get(n.addr) ?? 0),
    0,
  );
  return r3((root.sent * root.children + forwarded) / root.sent);
}
