/**
 * Processes from Linux /proc, read in one place (`/proc/PID/stat`): a
 * testbed moves a worker and the probes it already started into a cgroup,
 * the demo waits for an idle testbed by the CPU ticks, tests check that
 * nothing is left, benchmarks count CPU seconds.
 *
 * @module
 */

/** What /proc/PID/stat says of a process (stat(5)); times in clock ticks. */
export interface ProcStat {
  pid: number;
  /** Its command name (stat's `comm`, at most 15 characters). */
  comm: string;
  /** "R", "S", ..., "Z" for a zombie. */
  state: string;
  ppid: number;
  /** Its own user and system CPU time. */
  utime: number;
  stime: number;
  /** The user and system CPU time of the children it reaped. */
  cutime: number;
  cstime: number;
}

/** Clock ticks per second of /proc/PID/stat (USER_HZ: 100 on Linux). */
export const CLK_TCK = 100;

/** The stat of process `pid`, or undefined once it is gone. */
export function procStat(pid: number): ProcStat | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // pid (comm) state ppid ...: comm may hold spaces, so split after ")";
    // f[0] is field 3 of stat(5), f[11] to f[14] fields 14 to 17.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return {
      pid,
      comm: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")),
      state: f[0] ?? "",
      ppid: Number(f[1]),
      utime: Number(f[11]),
      stime: Number(f[12]),
      cutime: Number(f[13]),
      cstime: Number(f[14]),
    };
  } catch {
    return undefined; // gone meanwhile
  }
}

/** Every process's stat, in one pass over /proc (none off Linux). */
export function procStats(): ProcStat[] {
  const out: ProcStat[] = [];
  let dir: Iterable<Deno.DirEntry>;
  try {
    dir = Deno.readDirSync("/proc");
  } catch {
    return out;
  }
  for (const e of dir) {
    if (!/^\d+$/.test(e.name)) continue;
    const s = procStat(Number(e.name));
    if (s) out.push(s);
  }
  return out;
}

/** Pids of the live (not zombie) children of `pid`. */
export function childrenOf(pid: number): number[] {
  return procStats().filter((s) => s.ppid === pid && s.state !== "Z")
    .map((s) => s.pid);
}

/** Pids of every live descendant of `pid`, parents before children. */
export function descendantsOf(pid: number): number[] {
  const out: number[] = [];
  let next = childrenOf(pid);
  while (next.length > 0) {
    out.push(...next);
    next = next.flatMap(childrenOf);
  }
  return out;
}

/** Sends SIGKILL to `pid`, if it is still there. */
export function killPid(pid: number): void {
  try {
    Deno.kill(pid, "SIGKILL");
  } catch { /* gone */ }
}

/**
 * SIGKILLs `pid` and every process it started. The descendants are listed
 * first: once `pid` dies they belong to init and are no longer found.
 */
export function killTree(pid: number): void {
  const below = descendantsOf(pid);
  killPid(pid);
  for (const p of below) killPid(p);
}
