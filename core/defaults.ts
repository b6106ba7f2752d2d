/**
 * Control-plane defaults shared by manager and worker. Script defaults live
 * in `manager/defaults.ts`; probe defaults in `probes/`.
 *
 * @module
 */

/** Deadline of one control request attempt, ms. */
export const REQUEST_TIMEOUT_MS = 3000;

/** Retries after a timed-out request (Lazy Pirate) before a worker is unreachable. */
export const REQUEST_RETRIES = 2;

/** A worker clock offset beyond this (after its error bound) gets a warning, us. */
export const CLOCK_WARN_US = 100;

/** Job kinds a worker can run, as announced in its CONNECT ACK. */
export const CAPABILITIES: readonly string[] = [
  "parent",
  "child",
  "proxy",
  "emulate",
];

/** Deadline of a request a worker relays to the layer below, ms (per layer below it). */
export const RELAY_TIMEOUT_MS = 2000;

/** Retries of a relayed request. */
export const RELAY_RETRIES = 1;

/**
 * The time a COMMAND's deadline allows each layer for starting its probe,
 * ms (a probe usually starts well within it; the worker itself waits up to
 * 10 s for a probe to be ready, `worker/jobs.ts`). Kept short because the
 * deadlines multiply with the layers and the retries: a slower machine
 * needs a longer `--relay-timeout` and manager `--timeout`.
 */
export const PROBE_START_MS = 2000;

/**
 * The deadline of one attempt of a request (COMMAND, REPORT or STOP) to a
 * worker with `layers` layers of workers below it, ms: its own share
 * `baseMs` (plus, for a COMMAND, `startMs`: the time its own probe may take
 * to be ready, {@link PROBE_START_MS}) plus every attempt of its relay one
 * layer down, whose deadline grows the same way. A worker therefore always
 * gives up on a dead worker below it (and answers, naming it) before the
 * layer above gives up on it, and a slow but healthy probe start is not
 * taken for a dead worker. The one rule for the manager (base: its request
 * timeout) and the workers (base: their relay timeout, which must not exceed
 * the manager's).
 */
export function relayedDeadlineMs(
  baseMs: number,
  layers: number,
  startMs = 0,
): number {
  let ms = baseMs + startMs;
  for (let i = 0; i < layers; i++) {
    ms = baseMs + startMs + (1 + RELAY_RETRIES) * ms;
  }
  return ms;
}
