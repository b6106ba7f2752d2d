/**
 * When a receive loop must stop: the start timeout, the idle time, the
 * deadline, END and interruption, as pure bookkeeping (no timer, no socket),
 * so that both I/O backends share one definition. The Deno backend drives
 * it from a timer ({@link import("./net.ts").StreamWatch}); the native one
 * calls {@link StreamTimer.check} after every receive call.
 *
 * @module
 */
import {
  DEADLINE_GRACE_S,
  DEADLINE_GRACE_SHARE,
  IDLE_GAPS,
  IDLE_TIMEOUT_S,
  WATCHDOG_MS,
} from "./defaults.ts";

/** Why a receive loop stopped. */
export type StopReason =
  | "end" // END arrived
  | "idle" // the stream stopped without END
  | "deadline" // the stream outlasted duration + grace
  | "interrupted" // the caller's signal (Ctrl-C)
  | "no_stream" // nothing arrived before the start timeout
  | "error"; // the socket failed

/** Timeouts of a receive loop, seconds. */
export interface WatchTimeouts {
  /** Wait for the first datagram. */
  start: number;
  /** Expected stream duration, or null for none (no deadline). */
  duration: number | null;
  /** Least idle time that ends a started stream (default {@link IDLE_TIMEOUT_S}). */
  idle?: number;
}

/** The stream deadline after the first datagram for `duration`, s. */
export function deadlineFor(duration: number): number {
  return duration + Math.max(DEADLINE_GRACE_S, DEADLINE_GRACE_SHARE * duration);
}

/**
 * The stop decision of one receive loop. Semantics: before the first
 * datagram, the stream must start within `start` s (else `no_stream`);
 * after it, the stream is over when nothing arrived for max(`idle` =
 * {@link IDLE_TIMEOUT_S}, {@link IDLE_GAPS} x the mean gap) (`idle`), or,
 * with a duration, at {@link deadlineFor}(duration) after the first
 * datagram (`deadline`). The first reason given wins.
 */
export class StreamTimer {
  #t: WatchTimeouts;
  #opened: number;
  #first = -1;
  #last = -1;
  #count = 0;
  #reason: StopReason | null = null;

  /** Starts the start timeout at monotonic `openedMs`. */
  constructor(timeouts: WatchTimeouts, openedMs: number = performance.now()) {
    this.#t = timeouts;
    this.#opened = openedMs;
  }

  /** How often {@link check} should run, ms. */
  get tickMs(): number {
    return Math.max(1, Math.min(WATCHDOG_MS, this.#t.start * 250));
  }
  /** Monotonic ms of the first datagram, or -1. */
  get first(): number {
    return this.#first;
  }
  /** Monotonic ms of the latest datagram, or -1. */
  get last(): number {
    return this.#last;
  }
  /** Why the loop must stop, once it must (null until then). */
  get reason(): StopReason | null {
    return this.#reason;
  }
  /** Seconds from the first datagram to the last (0 before any). */
  get elapsedS(): number {
    return this.#first < 0 ? 0 : Math.round(this.#last - this.#first) / 1000;
  }

  /** Notes a datagram of the format that arrived at monotonic `nowMs`. */
  packet(nowMs: number): void {
    if (this.#first < 0) this.#first = nowMs;
    this.#last = nowMs;
    this.#count++;
  }

  /** Sets the stop reason; false if one was set already (the first wins). */
  stop(reason: StopReason): boolean {
    if (this.#reason !== null) return false;
    this.#reason = reason;
    return true;
  }

  /** Stops for a timeout that has passed at monotonic `nowMs`; returns the reason, if any. */
  check(nowMs: number): StopReason | null {
    if (this.#reason !== null) return this.#reason;
    if (this.#first < 0) {
      if (nowMs - this.#opened > this.#t.start * 1000) this.stop("no_stream");
      return this.#reason;
    }
    const meanGap = this.#count > 1
      ? (this.#last - this.#first) / (this.#count - 1)
      : 0;
    if (
      nowMs - this.#last >
        Math.max((this.#t.idle ?? IDLE_TIMEOUT_S) * 1000, IDLE_GAPS * meanGap)
    ) {
      this.stop("idle");
    } else if (
      this.#t.duration !== null &&
      nowMs - this.#first > deadlineFor(this.#t.duration) * 1000
    ) {
      this.stop("deadline");
    }
    return this.#reason;
  }
}

/**
 * How a receiver's stream ended: the stop reason (`error` when none was
 * set) and the failure to report; a stream that never started is the
 * failure (otherwise `failure` is passed through).
 */
export function streamOutcome(
  reason: StopReason | null,
  o: { bind: string; timeout: number; failure: string | null },
): { stop: StopReason; failure: string | null } {
  const stop = reason ?? "error";
  return {
    stop,
    failure: stop === "no_stream"
      ? `No stream arrived at "${o.bind}" within ${o.timeout} s`
      : o.failure,
  };
}
