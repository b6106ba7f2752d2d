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
 * @module
 */
import { descendantsOf } from "./proc.ts";

/** A CPU limit: `quotaUs` of CPU time per `periodUs` of wall time. */
export interface CpuLimit {
  quotaUs: number;
  periodUs: number;
}

/**
 * The limit `--straggle cpu` applies: 10 % of one CPU in 500 ms periods,
 * so a throttled straggler waits up to 450 ms: long next to what a machine
 * loaded by other work does to every worker (tens of ms here, with 2 cores
 * shared by several test runs). Its probes take seconds to start (measured
 * here: ~3.5 s instead of ~0.5 s under load), so the testbed lengthens the
 * relay deadlines (see `cli.ts`).
 */
export const STRAGGLE_CPU: CpuLimit = { quotaUs: 50_000, periodUs: 500_000 };

/** How a limit reads in results and logs. */
export function describeLimit(l: CpuLimit): string {
  return `cfs_quota_us=${l.quotaUs},cfs_period_us=${l.periodUs} (${
    Math.round((l.quotaUs / l.periodUs) * 100)
  }% of a CPU), shared with a CPU hog`;
}

/** Where the CPU controller is mounted: v1 `cpu` (or `cpu,cpuacct`), else v2. */
export function cpuControllerRoot(
  mounts: string = Deno.readTextFileSync("/proc/mounts"),
): { root: string; version: 1 | 2 } {
  let v2: string | undefined;
  for (const line of mounts.split("\n")) {
    const [, dir, type, options] = line.split(" ");
    if (!dir || !options) continue;
    if (type === "cgroup" && options.split(",").includes("cpu")) {
      return { root: dir, version: 1 };
    }
    if (type === "cgroup2" && v2 === undefined) v2 = dir;
  }
  if (v2 !== undefined) return { root: v2, version: 2 };
  throw new Error(
    'No cgroup CPU controller is mounted (see "mount | grep cgroup")',
  );
}

/**
 * The CPU cgroups named `PREFIX-...` (a testbed's, `netns.ts`
 * `netnsPrefix`): made, or left by a teardown that failed.
 */
export function cgroupLeftovers(prefix: string): string[] {
  return [...Deno.readDirSync(cpuControllerRoot().root)]
    .filter((e) => e.isDirectory && e.name.startsWith(`${prefix}-`))
    .map((e) => e.name);
}

/** A CPU cgroup made for one straggler; {@link CpuCgroup.remove} undoes it. */
export class CpuCgroup {
  readonly path: string;
  readonly limit: CpuLimit;
  readonly #root: string;
  #hog: Deno.ChildProcess | undefined;

  private constructor(path: string, root: string, limit: CpuLimit) {
    this.path = path;
    this.#root = root;
    this.limit = limit;
  }

  /** Makes `ROOT/name` with the limit, its two subgroups, and starts the hog. */
  static async create(name: string, limit: CpuLimit): Promise<CpuCgroup> {
    const { root, version } = cpuControllerRoot();
    const path = `${root}/${name}`;
    Deno.mkdirSync(path);
    const g = new CpuCgroup(path, root, limit);
    const write = (file: string, text: string) =>
      Deno.writeTextFileSync(`${path}/${file}`, text);
    try {
      if (version === 1) {
        write("cpu.cfs_period_us", `${limit.periodUs}`);
        write("cpu.cfs_quota_us", `${limit.quotaUs}`);
      } else {
        write("cpu.max", `${limit.quotaUs} ${limit.periodUs}`);
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
      write("hog/cgroup.procs", `${g.#hog.pid}`);
    } catch (e) {
      await g.remove();
      throw new Error(
        `Cannot set a CPU quota in ${path}: ${(e as Error).message}`,
      );
    }
    return g;
  }

  /**
   * Moves a process (all its threads) into the group's `main` subgroup,
   * then the processes it started already (a worker's warm probes): what it
   * starts from now on is born inside.
   */
  add(pid: number): void {
    for (const p of [pid, ...descendantsOf(pid)]) {
      try {
        Deno.writeTextFileSync(`${this.path}/main/cgroup.procs`, `${p}`);
      } catch (e) {
        if (p === pid) throw e; // a probe may have exited meanwhile
      }
    }
  }

  /** Pids in the `main` subgroup now (the worker and its probes). */
  pids(sub: "main" | "hog" = "main"): number[] {
    try {
      return Deno.readTextFileSync(`${this.path}/${sub}/cgroup.procs`)
        .split("\n").filter((l) => l !== "").map(Number);
    } catch {
      return [];
    }
  }

  /**
   * Stops the hog, moves anything still inside back to the root group and
   * removes the group; safe to call twice.
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
    for (const sub of ["main", "hog"] as const) {
      for (const pid of this.pids(sub)) {
        try {
          Deno.writeTextFileSync(`${this.#root}/cgroup.procs`, `${pid}`);
        } catch { /* exited meanwhile */ }
      }
    }
    for (const dir of [`${this.path}/main`, `${this.path}/hog`, this.path]) {
      await _rmdir(dir);
    }
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
