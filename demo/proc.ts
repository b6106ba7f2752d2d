/**
 * Process trees from Linux /proc: a testbed moves a worker and the probes
 * it already started into a cgroup; tests check that nothing is left.
 *
 * @module
 */

/** Pids of the live (not zombie) children of `pid`. */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      // pid (comm) state ppid ...: comm may hold spaces, so split after ")".
      const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(ppid) === pid && state !== "Z") out.push(Number(e.name));
    } catch { /* gone meanwhile */ }
  }
  return out;
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
