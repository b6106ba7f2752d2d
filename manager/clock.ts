/**
 * Time as the manager's workflow sees it; tests inject their own.
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
