/**
 * Stragglers slowed by the machine, as on a VM with a noisy neighbour: a
 * CPU cgroup with a CFS quota (cgroup v1 `cpu` controller:
 * `cpu.cfs_quota_us` per `cpu.cfs_period_us`; on cgroup v2, `cpu.max`)
 * shared by two subgroups:
 *
 * - `main`, where the worker goes; every probe it spawns is born there
 *   (children inherit their parent's cgroup);
 * - `hog`, a CPU hog (`yes > /dev/null`) with the least CPU weight, so it
 *   takes only what `main` leaves of the quota, but always takes all of it.
 *
 * The group therefore uses its whole quota early in every period and is
 * throttled for the rest: a datagram that arrives then waits in the socket
 * until the next period. The delay comes from scheduling, and does not
 * depend on how busy the worker itself is.
 *
 * The whole group is pinned to one CPU (a `cpuset` cgroup of the same name:
 * v1's own hierarchy, or the same folder on v2). Unpinned, the hog burnt the
 * quota on one CPU while a woken probe waited for it on the other, and the
 * stalls grew from the throttled part of a period to tens of milliseconds
 * (measured here, 5 ms periods at load ~14: receive p99 88 ms unpinned,
 * 5 ms pinned).
 *
 * @module
 */
import { descendantsOf } from "./proc.ts";

/** A CPU limit: `quotaUs` of CPU time per `periodUs` of wall time. */
export interface CpuLimit {
  quotaUs: number;
  periodUs: number;
}

/**
 * The limit of a CPU straggler (`--straggle cpu`, and `demo --thesis` as
 * root): a fifth of one CPU in 5 ms periods, so a throttled straggler
 * stalls for up to 4 ms, a noisy neighbour's share. Its hog then takes a
 * fifth of a CPU, not half: with half, the thesis demo's three hogs took
 * 1.5 of this machine's 2 CPUs, every worker stalled for milliseconds and
 * the summary told no kind apart (2 min 51 s, quiet machine); with a
 * fifth it took 2 min 38 s and put the BEST kinds' worst-receiver p99
 * (9-11 ms) 64-69 % below RANDOM's (30 ms). At half a CPU a UDP receiver
 * in the group saw p50 0.3 ms, p90 1.6 ms, p99 5 ms (load ~14), a probe's
 * start-up 1.7 s; at a fifth, `tests/straggle_test.ts` saw the
 * stragglers' p90 at 16 ms against 0.22 ms for the others (quiet). The
 * earlier 50 ms per 500 ms stalled for up to 450 ms. cgroup v1 takes
 * quotas and periods of 1 ms and more.
 */
export const STRAGGLE_CPU: CpuLimit = { quotaUs: 1_000, periodUs: 5_000 };

/** How a limit reads in results and logs; `cpu`, the CPU it is pinned to. */
export function describeLimit(l: CpuLimit, cpu?: number): string {
  return `cfs_quota_us=${l.quotaUs},cfs_period_us=${l.periodUs} (${
    Math.round((l.quotaUs / l.periodUs) * 100)
  }% of a CPU${
    cpu === undefined ? "" : `, pinned to CPU ${cpu}`
  }), shared with a CPU hog`;
}

/** Where a controller is mounted: its v1 hierarchy, else the v2 tree. */
export function controllerRoot(
  controller: "cpu" | "cpuset",
  mounts: string = Deno.readTextFileSync("/proc/mounts"),
): { root: string; version: 1 | 2 } {
  let v2: string | undefined;
  for (const line of mounts.split("\n")) {
    const [, dir, type, options] = line.split(" ");
    if (!dir || !options) continue;
    if (type === "cgroup" && options.split(",").includes(controller)) {
      return { root: dir, version: 1 };
    }
    if (type === "cgroup2" && v2 === undefined) v2 = dir;
  }
  if (v2 !== undefined) return { root: v2, version: 2 };
  throw new Error(
    `No cgroup ${controller} controller is mounted (see "mount | grep cgroup")`,
  );
}

/** Where the CPU controller is mounted: v1 `cpu` (or `cpu,cpuacct`), else v2. */
export function cpuControllerRoot(
  mounts?: string,
): { root: string; version: 1 | 2 } {
  return controllerRoot("cpu", mounts);
}

/** The CPUs of a cpuset list (`0-3,6`), ascending. */
export function parseCpuList(text: string): number[] {
  return text.trim().split(",").filter((r) => r !== "").flatMap((r) => {
    const [a, b = a] = r.split("-").map(Number);
    return Array.from({ length: b! - a! + 1 }, (_, k) => a! + k);
  });
}

/** The CPUs a straggler may be pinned to (the root cpuset's). */
export function availableCpus(): number[] {
  const { root, version } = controllerRoot("cpuset");
  const file = version === 1 ? "cpuset.cpus" : "cpuset.cpus.effective";
  return parseCpuList(Deno.readTextFileSync(`${root}/${file}`));
}

/**
 * The CPU cgroups named `PREFIX-...` (a testbed's, `netns.ts`
 * `netnsPrefix`), in the `cpu` or the `cpuset` hierarchy: made, or left by
 * a teardown that failed.
 */
export function cgroupLeftovers(prefix: string): string[] {
  const roots = new Set(
    (["cpu", "cpuset"] as const).map((c) => controllerRoot(c).root),
  );
  const names = [...roots].flatMap((r) =>
    [...Deno.readDirSync(r)]
      .filter((e) => e.isDirectory && e.name.startsWith(`${prefix}-`))
      .map((e) => e.name)
  );
  return [...new Set(names)].sort();
}

/** A CPU cgroup made for one straggler; {@link CpuCgroup.remove} undoes it. */
export class CpuCgroup {
  readonly path: string;
  readonly limit: CpuLimit;
  /** The CPU the group is pinned to. */
  readonly cpu: number;
  readonly #root: string;
  /** On cgroup v1, the pinning group in the `cpuset` hierarchy. */
  #cpuset: { path: string; root: string } | undefined;
  #hog: Deno.ChildProcess | undefined;

  private constructor(
    path: string,
    root: string,
    limit: CpuLimit,
    cpu: number,
  ) {
    this.path = path;
    this.#root = root;
    this.limit = limit;
    this.cpu = cpu;
  }

  /**
   * Makes `ROOT/name` with the limit, pinned to `cpu`, its two subgroups,
   * and starts the hog.
   */
  static async create(
    name: string,
    limit: CpuLimit,
    cpu: number,
  ): Promise<CpuCgroup> {
    const { root, version } = cpuControllerRoot();
    const path = `${root}/${name}`;
    Deno.mkdirSync(path);
    const g = new CpuCgroup(path, root, limit, cpu);
    const write = (file: string, text: string) =>
      Deno.writeTextFileSync(`${path}/${file}`, text);
    try {
      if (version === 1) {
        write("cpu.cfs_period_us", `${limit.periodUs}`);
        write("cpu.cfs_quota_us", `${limit.quotaUs}`);
        const set = controllerRoot("cpuset").root;
        Deno.mkdirSync(`${set}/${name}`);
        g.#cpuset = { path: `${set}/${name}`, root: set };
        // A v1 cpuset takes no task before it has CPUs and memory nodes.
        Deno.writeTextFileSync(
          `${set}/${name}/cpuset.mems`,
          Deno.readTextFileSync(`${set}/cpuset.mems`).trim(),
        );
        Deno.writeTextFileSync(`${set}/${name}/cpuset.cpus`, `${cpu}`);
      } else {
        write("cpu.max", `${limit.quotaUs} ${limit.periodUs}`);
        write("cpuset.cpus", `${cpu}`);
        write("cgroup.subtree_control", "+cpu");
      }
      Deno.mkdirSync(`${path}/main`);
      Deno.mkdirSync(`${path}/hog`);
      write(version === 1 ? "hog/cpu.shares" : "hog/cpu.weight", "2");
      g.#hog = new Deno.Command("yes", {
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      g.#move(g.#hog.pid, "hog");
    } catch (e) {
      await g.remove();
      throw new Error(
        `Cannot set a CPU quota in ${path}: ${(e as Error).message}`,
      );
    }
    return g;
  }

  /** Moves one process into a subgroup (and, on v1, into the cpuset). */
  #move(pid: number, sub: "main" | "hog"): void {
    if (this.#cpuset) {
      Deno.writeTextFileSync(`${this.#cpuset.path}/cgroup.procs`, `${pid}`);
    }
    Deno.writeTextFileSync(`${this.path}/${sub}/cgroup.procs`, `${pid}`);
  }

  /**
   * Moves a process (all its threads) into the group's `main` subgroup,
   * then the processes it started already (a worker's warm probes): what it
   * starts from now on is born inside.
   */
  add(pid: number): void {
    for (const p of [pid, ...descendantsOf(pid)]) {
      try {
        this.#move(p, "main");
      } catch (e) {
        if (p === pid) throw e; // a probe may have exited meanwhile
      }
    }
  }

  /** Pids in the `main` subgroup now (the worker and its probes). */
  pids(sub: "main" | "hog" = "main"): number[] {
    return _procs(`${this.path}/${sub}`);
  }

  /**
   * Stops the hog, moves anything still inside back to the root groups and
   * removes the groups; safe to call twice.
   */
  async remove(): Promise<void> {
    const hog = this.#hog;
    this.#hog = undefined;
    if (hog) {
      try {
        hog.kill("SIGKILL");
      } catch { /* gone */ }
      await hog.status;
    }
    const groups = [
      ...["main", "hog"].map((s) => ({
        dir: `${this.path}/${s}`,
        root: this.#root,
      })),
      { dir: this.path, root: this.#root },
      ...(this.#cpuset
        ? [{ dir: this.#cpuset.path, root: this.#cpuset.root }]
        : []),
    ];
    for (const { dir, root } of groups) {
      for (const pid of _procs(dir)) {
        try {
          Deno.writeTextFileSync(`${root}/cgroup.procs`, `${pid}`);
        } catch { /* exited meanwhile */ }
      }
      await _rmdir(dir);
    }
  }
}

/** The pids in a cgroup folder; none when it is gone. */
function _procs(dir: string): number[] {
  try {
    return Deno.readTextFileSync(`${dir}/cgroup.procs`)
      .split("\n").filter((l) => l !== "").map(Number);
  } catch {
    return [];
  }
}

/**
 * Removes a cgroup folder. A process killed a moment ago may hold it for a
 * few milliseconds more (EBUSY), and the kernel says nothing when it lets
 * go: retried for up to 2 s.
 */
async function _rmdir(dir: string): Promise<void> {
  for (let i = 0;; i++) {
    try {
      return Deno.removeSync(dir);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      if (!(e instanceof Deno.errors.Busy) || i >= 100) throw e;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
