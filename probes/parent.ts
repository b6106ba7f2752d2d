/**
 * The parent probe's core: sends one paced stream to its children.
 *
 * Packet `i` (from 0) is due at `start + i / rate` on the monotonic clock:
 * an absolute schedule, so lateness never accumulates into drift. A packet
 * due while the sender was late goes out at once; its lateness (send time -
 * due time) is recorded. The first `round(rate x warmup)` packets carry
 * WARMUP, the next `round(rate x duration)` are measured, then END (seq one
 * past the last packet) goes out {@link END_COPIES} times, {@link END_GAP_MS}
 * apart, as END can be lost. Every child gets the same bytes (same seq and
 * ts_ns, taken from the realtime clock just before the sends).
 *
 * Pacing: while the next due time is more than {@link PACE_TIMER_MS} away it
 * sleeps on a timer (event loop free, Ctrl-C honoured); closer, it blocks the
 * thread in `Atomics.wait` down to {@link PACE_WAIT_MS} before (or
 * {@link PACE_WAIT_TIGHT_MS} when the thread's timer slack could be set to
 * 1 ns); then it spins on `performance.now()` to the due time. Deno timers
 * overshoot by 1-2 ms and a futex wait by ~90 µs (~20-40 µs with 1 ns
 * slack), so at 10k pps (a 100 µs gap) it sleeps about half of each gap and
 * spins the rest.
 *
 * @module
 */
import type { HostPort } from "../core/cli.ts";
import { RealtimeClock } from "./clock.ts";
import {
  END_COPIES,
  END_GAP_MS,
  HISTOGRAM_MAX_NS,
  LATE_THRESHOLD_US,
  PACE_TIMER_MS,
  PACE_WAIT_MS,
  PACE_WAIT_TIGHT_MS,
} from "./defaults.ts";
import { bindUdp, formatAddr, resolveTargets, wildcardFor } from "./net.ts";
import { histogramPercentiles, newHistogram } from "./stats.ts";
import {
  FLAG_END,
  FLAG_WARMUP,
  HEADER_BYTES,
  OFF_FLAGS,
  OFF_SEQ,
  OFF_TS_LO,
} from "./wire.ts";

/** What a parent is told to do. */
export interface ParentOptions {
  to: readonly HostPort[];
  /** Packets per second to each child. */
  rate: number;
  /** Measured stream duration, s. */
  duration: number;
  /** Warm-up before it, s (default 0). */
  warmup?: number;
  /** Datagram size, bytes (default and minimum: the 24-byte header). */
  size?: number;
}

/** A parent's result line (without `event` and `probe`). */
export interface ParentResult {
  /** Datagrams sent to each child, WARMUP and END copies included. */
  sent: number;
  children: number;
  /** Share of scheduled packets sent more than {@link LATE_THRESHOLD_US} late. */
  late_share: number;
  /** Lateness of the scheduled packets (END copies after the first excluded), µs. */
  lateness_us: { p50: number | null; p99: number | null; max: number | null };
  rate: number;
  duration: number;
  /** WARMUP packets in `sent`. */
  warmup: number;
  size: number;
  /** Sends that failed (all children counted). */
  send_errors: number;
  /** "end", or "interrupted" when the signal stopped it early (END was still sent). */
  stop: "end" | "interrupted";
  /** Seconds from the first due time to the last END. */
  elapsed_s: number;
}

/** Sends a stream; see the module doc. Throws only when it cannot resolve or bind. */
export async function runParent(
  opts: ParentOptions,
  ctx: { signal?: AbortSignal; onReady?: (bind: string) => void } = {},
): Promise<ParentResult> {
  const targets = await resolveTargets(opts.to);
  const conn = bindUdp("parent probe", wildcardFor(targets));
  ctx.onReady?.(formatAddr(conn.addr));
  const signal = ctx.signal;
  const clock = new RealtimeClock();
  const size = Math.max(HEADER_BYTES, opts.size ?? HEADER_BYTES);
  const buf = new Uint8Array(size);
  const view = new DataView(buf.buffer);
  const pending: Promise<number>[] = new Array(targets.length);
  const lateness = newHistogram();
  const period = 1000 / opts.rate;
  const nWarm = Math.round(opts.rate * (opts.warmup ?? 0));
  const total = nWarm + Math.round(opts.rate * opts.duration);
  let sent = 0, late = 0, worst = 0, errors = 0;

  const sendAll = async (now: number) => {
    clock.writeNs(view, OFF_TS_LO, now);
    for (let j = 0; j < targets.length; j++) {
      pending[j] = conn.send(buf, targets[j]!);
    }
    for (let j = 0; j < targets.length; j++) {
      try {
        await pending[j];
      } catch {
        errors++;
      }
    }
    sent++;
  };

  const margin = _tightenTimerSlack() ? PACE_WAIT_TIGHT_MS : PACE_WAIT_MS;
  const start = performance.now() + 1;
  let i = 0;
  try {
    for (; i <= total && !signal?.aborted; i++) {
      const due = start + i * period;
      const now = await _pace(due, margin, signal);
      const lag = now - due; // ms
      view.setUint32(OFF_SEQ, i, true);
      view.setUint32(
        OFF_FLAGS,
        i === total ? FLAG_END : i < nWarm ? FLAG_WARMUP : 0,
        true,
      );
      await sendAll(now);
      lateness.recordValue(Math.round(Math.min(lag * 1e6, HISTOGRAM_MAX_NS)));
      if (lag * 1000 > LATE_THRESHOLD_US) late++;
      if (lag > worst) worst = lag;
    }
    if (i <= total) { // interrupted: still close the stream
      view.setUint32(OFF_SEQ, i, true);
      view.setUint32(OFF_FLAGS, FLAG_END, true);
      await sendAll(performance.now());
    }
    for (let k = 1; k < END_COPIES; k++) {
      await new Promise((r) => setTimeout(r, END_GAP_MS));
      await sendAll(performance.now());
    }
  } finally {
    conn.close();
  }
  const scheduled = lateness.totalCount;
  const [p50, p99] = histogramPercentiles(lateness, [50, 99]);
  return {
    sent,
    children: targets.length,
    late_share: scheduled ? late / scheduled : 0,
    lateness_us: scheduled
      ? {
        p50: _us(Math.min(p50!, worst * 1e6)),
        p99: _us(Math.min(p99!, worst * 1e6)),
        max: _us(worst * 1e6),
      }
      : { p50: null, p99: null, max: null },
    rate: opts.rate,
    duration: opts.duration,
    warmup: nWarm,
    size,
    send_errors: errors,
    stop: i <= total ? "interrupted" : "end",
    elapsed_s: Math.round(performance.now() - start) / 1000,
  };
}

const _sab = new Int32Array(new SharedArrayBuffer(4));

/**
 * Asks Linux for a 1 ns timer slack on this (the main) thread, as the C
 * reference does with prctl(PR_SET_TIMERSLACK): a futex wait then overshoots
 * by ~20-40 µs instead of ~90 µs. Best effort (Linux, with write access to
 * /proc/self granted); returns whether it took.
 */
function _tightenTimerSlack(): boolean {
  const path = "/proc/self/timerslack_ns";
  try {
    // Never prompt: only when write access was granted up front.
    if (
      Deno.permissions.querySync({ name: "write", path }).state !== "granted"
    ) return false;
    Deno.writeTextFileSync(path, "1");
    return Deno.readTextFileSync(path).trim() === "1";
  } catch {
    return false;
  }
}

/** Waits until monotonic `due` (ms), blocking until `margin` ms before; returns the time it woke. */
async function _pace(
  due: number,
  margin: number,
  signal?: AbortSignal,
): Promise<number> {
  let left = due - performance.now();
  while (left > PACE_TIMER_MS && !signal?.aborted) {
    // A timer wakes 1-2 ms late: aim PACE_TIMER_MS early, never more than 100 ms at once.
    await new Promise((r) =>
      setTimeout(r, Math.min(100, left - PACE_TIMER_MS + 1))
    );
    left = due - performance.now();
  }
  if (left > margin) Atomics.wait(_sab, 0, 0, left - margin);
  let now = performance.now();
  while (now < due) now = performance.now();
  return now;
}

function _us(ns: number): number {
  return Math.round(ns) / 1000;
}
