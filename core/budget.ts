/**
 * A worker's budget: the most work one worker takes on, whoever asks. The
 * ranges of `core/limits.ts` say what a COMMAND may mean at all; the budget
 * says what this worker agrees to run now: packets per second over all its
 * running jobs (rate x destinations of each), destinations of one job,
 * datagram size, job length (warm-up + duration) and jobs at once. The
 * worker checks every COMMAND against its budget (`treecast worker
 * --max-*` flags, defaults {@link DEFAULT_BUDGET}) before it relays or
 * spawns anything; the manager checks a script against the defaults
 * (`manager/script.ts`), so a script it accepts fits a worker left at them.
 * The arithmetic lives here only.
 *
 * @module
 */

/** A worker's budget. */
export interface Budget {
  /** Packets per second it sends, over all its running jobs. */
  pps: number;
  /** Destinations of one job. */
  dests: number;
  /** Datagram size, bytes. */
  size: number;
  /** Length of one job (warm-up + duration), ms. */
  durationMs: number;
  /** Jobs running at once (each a probe process). */
  jobs: number;
}

/** One of the budget's limits. */
export type BudgetLimit = keyof Budget;

/**
 * The defaults: 200,000 pps (20 destinations at 10,000 pps); 64
 * destinations (the candidates of a stage); 1472-byte datagrams (one
 * Ethernet frame's payload, never fragmented); 10-minute jobs; 16 jobs at
 * once (a probe process is a Deno runtime of ~80 MB).
 */
export const DEFAULT_BUDGET: Readonly<Budget> = {
  pps: 200_000,
  dests: 64,
  size: 1472,
  durationMs: 600_000,
  jobs: 16,
};

/** The `treecast worker` flag that sets each limit. */
export const BUDGET_FLAGS: Readonly<Record<BudgetLimit, string>> = {
  pps: "--max-pps",
  dests: "--max-dests",
  size: "--max-size",
  durationMs: "--max-duration",
  jobs: "--max-jobs",
};

/** What one job asks of a worker. */
export interface JobLoad {
  /** Packets per second to each destination. */
  rate: number;
  /** Destinations it sends to (0 for a receiver). */
  dests: number;
  /** Datagram size, bytes (0: the probes' default, the smallest). */
  size: number;
  /** Warm-up + duration, ms. */
  durationMs: number;
  /**
   * How long the job may live (its COMMAND's timeout: waiting for its
   * stream, then the stream and a grace), ms; absent: no more than
   * `durationMs` and a grace.
   */
  timeoutMs?: number;
}

/**
 * How much longer than the budget's job length a job's timeout may be: the
 * grace a job gets to start and to end (a script's `timeouts.job_grace`).
 */
export const TIMEOUT_GRACE_MS = 60_000;

/** What a worker already runs. */
export interface Running {
  /** Packets per second its running jobs send. */
  pps: number;
  /** Jobs it runs (and is starting). */
  jobs: number;
}

/** A limit a job goes beyond, and the words saying so. */
export interface BudgetExcess {
  limit: BudgetLimit;
  message: string;
}

/** Packets per second a job sends: rate x destinations. */
export function jobPps(load: Pick<JobLoad, "rate" | "dests">): number {
  return load.rate * load.dests;
}

function _excess(
  limit: BudgetLimit,
  what: string,
  value: number,
  max: number | string,
  unit = "",
): BudgetExcess {
  const u = (n: number | string) => `${n}${unit}`;
  return {
    limit,
    message: `budget: ${what} ${u(value)} exceeds ${BUDGET_FLAGS[limit]} ` +
      u(max),
  };
}

/**
 * The first limit of `budget` that `load` goes beyond on a worker already
 * running `running`, or undefined when it fits.
 */
export function budgetExcess(
  load: JobLoad,
  budget: Readonly<Budget> = DEFAULT_BUDGET,
  running: Running = { pps: 0, jobs: 0 },
): BudgetExcess | undefined {
  if (load.dests > budget.dests) {
    return _excess("dests", "destinations", load.dests, budget.dests);
  }
  if (load.size > budget.size) {
    return _excess("size", "datagram size", load.size, budget.size, " bytes");
  }
  if (load.durationMs > budget.durationMs) {
    const s = (ms: number) => ms / 1000;
    return _excess(
      "durationMs",
      "warm-up + duration",
      s(load.durationMs),
      s(budget.durationMs),
      " s",
    );
  }
  const life = budget.durationMs + TIMEOUT_GRACE_MS;
  if (load.timeoutMs !== undefined && load.timeoutMs > life) {
    const s = (ms: number) => ms / 1000;
    return _excess(
      "durationMs",
      "timeout",
      s(load.timeoutMs),
      `${s(budget.durationMs)} s + a grace of ${s(TIMEOUT_GRACE_MS)}`,
      " s",
    );
  }
  const pps = jobPps(load);
  if (pps > budget.pps) {
    return _excess("pps", "rate x destinations", pps, budget.pps, " pps");
  }
  if (pps > 0 && running.pps + pps > budget.pps) {
    return _excess(
      "pps",
      `rate x destinations ${pps} pps + running jobs' ${running.pps} pps =`,
      running.pps + pps,
      budget.pps,
      " pps",
    );
  }
  if (running.jobs + 1 > budget.jobs) {
    return _excess("jobs", "jobs at once", running.jobs + 1, budget.jobs);
  }
  return undefined;
}
