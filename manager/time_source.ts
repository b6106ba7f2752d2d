/**
 * The manager's time source: the workflow reads the time and sleeps only
 * through an injected {@link Clock}, so tests cross deadlines with a fake
 * one instead of waiting (`_testing.ts`). Not the workers' clocks (those
 * are `clock_checks.ts`).
 *
 * @module
 */
import { Interrupted } from "../core/cli.ts";

/** Time as the workflow sees it; tests inject their own. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Sleeps `ms`; rejects with {@link Interrupted} when the signal aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock. */
export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new Interrupted());
      const t = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, Math.max(0, ms));
      const onAbort = () => {
        clearTimeout(t);
        reject(new Interrupted());
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    }),
};
