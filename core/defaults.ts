/**
 * Control-plane defaults shared by manager and worker. Script defaults live
 * in `manager/defaults.ts`; probe defaults in `probes/`.
 *
 * @module
 */
import { LIMITS } from "./limits.ts";

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
 * 10 s for a probe to be ready, `worker/jobs.ts`). A slower machine needs a
 * longer `--relay-timeout` and manager `--timeout`.
 */
export const PROBE_START_MS = 2000;

/**
 * Retries of a request a worker relays to a worker with `layers` layers
 * below it: {@link RELAY_RETRIES} to a leaf, none to a proxy. A retry of a
 * proxy would cost the whole subtree's time again, so that the deadlines
 * above it would double per layer; a proxy that does not answer in time is
 * named in the ERR, and the manager's own retry resends the whole request.
 */
export function relayRetries(layers: number): number {
  return layers === 0 ? RELAY_RETRIES : 0;
}

/**
 * The deadline of one attempt of a request (COMMAND, REPORT or STOP) to a
 * worker with `layers` layers of workers below it, ms. Each layer is allowed
 * one hop, `baseMs` (plus, for a COMMAND, `startMs`: the time its own probe
 * may take to be ready, {@link PROBE_START_MS}), and the layer just above
 * the leaves every attempt of its relay to them ({@link relayRetries}):
 * `hop x (layers + 1 + RELAY_RETRIES)`, `hop` for a leaf. It grows linearly
 * with the layers and is capped by the deepest a command may be
 * (`LIMITS.layer`, 16: 18 hops, 72 s at the defaults). A worker therefore
 * always gives up on a dead worker below it (and answers, naming it) at
 * least `baseMs` before the layer above gives up on it, and a slow but
 * healthy probe start is not taken for a dead worker. The one rule for the
 * manager (base: its request timeout) and the workers (base: their relay
 * timeout, which must not exceed the manager's).
 */
export function relayedDeadlineMs(
  baseMs: number,
  layers: number,
  startMs = 0,
): number {
  const hop = baseMs + startMs;
  const h = Math.min(Math.max(0, layers), LIMITS.layer[1]);
  return h === 0 ? hop : hop * (h + 1 + RELAY_RETRIES);
}
