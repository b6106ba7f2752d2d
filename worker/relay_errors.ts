/**
 * The ways a relay to the layer below fails, as the worker answers them.
 *
 * @module
 */
import type { Job } from "../proto/codec.ts";

/** A worker below started its job but answered what cannot be used. */
export class BadAnswer extends Error {
  override name = "BadAnswer";
  /** The job it started (to stop). */
  readonly job: Job;
  constructor(job: Job, message: string) {
    super(message);
    this.job = job;
  }
}

/** A relay to the worker at `addr` failed: answered as ERR naming it. */
export class RelayError extends Error {
  override name = "RelayError";
  /** The worker below that failed. */
  readonly addr: string;
  constructor(addr: string, message: string) {
    super(message);
    this.addr = addr;
  }
}
