/**
 * A worker's admission of COMMANDs against its budget (`core/budget.ts`):
 * the running jobs plus those being started (relayed, their probe not yet
 * ready) count, so COMMANDs handled at the same time cannot overshoot it.
 *
 * @module
 */
import { type Budget, budgetExcess, DEFAULT_BUDGET } from "../core/budget.ts";
import type { Command, Job } from "../proto/codec.ts";

/** Packets per second a started job sends: its rate x its destinations. */
function _pps(job: Job): number {
  return (job.params[0] ?? 0) * job.deps.length;
}

/** The budget of one worker and what it has reserved of it. */
export class Admission {
  readonly budget: Readonly<Budget>;
  #starting = { pps: 0, jobs: 0 };

  constructor(budget: Readonly<Budget> = DEFAULT_BUDGET) {
    this.budget = budget;
  }

  /**
   * Admits `cmd` beside the `running` jobs and reserves its share until the
   * returned release is called (once its job is in the job table, or it
   * failed). Throws, naming the limit and the value, when it does not fit.
   */
  admit(cmd: Command, running: readonly { job: Job }[]): () => void {
    // A hedged proxy also sends to its hedge children (`hedge.ts`).
    const dests = cmd.flag === "CHILD"
      ? 0
      : cmd.addrs.length + (cmd.hedge?.to.length ?? 0);
    const excess = budgetExcess(
      {
        rate: cmd.rate,
        dests,
        size: cmd.size,
        durationMs: cmd.warmup + cmd.dur,
        timeoutMs: jobTimeoutMs(cmd),
      },
      this.budget,
      {
        pps: running.reduce((sum, r) => sum + _pps(r.job), this.#starting.pps),
        jobs: this.#starting.jobs + running.length,
      },
    );
    if (excess) throw new Error(excess.message);
    const pps = cmd.rate * dests;
    this.#starting.pps += pps;
    this.#starting.jobs += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#starting.pps -= pps;
      this.#starting.jobs -= 1;
    };
  }
}

/** A job's default grace past its warm-up and duration, ms. */
const DEFAULT_GRACE_MS = 30_000;

/**
 * How long a COMMAND's job may live: its timeout, or by default its
 * warm-up and duration and a grace of 30 s.
 */
export function jobTimeoutMs(cmd: Command): number {
  return cmd.timeout > 0
    ? cmd.timeout
    : cmd.warmup + cmd.dur + DEFAULT_GRACE_MS;
}
