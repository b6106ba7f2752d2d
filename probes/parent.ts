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
 * ts_ns, taken from the realtime clock just before the sends). The
 * children's echoes (one datagram in `ECHO_EVERY`) arrive on the socket it
 * sends from and give each child's clock offset (`peers`, `echo.ts`).
 *
 * Pacing sleeps, never spins (a spinning sender takes a core and delays
 * its receivers' wake-ups on small VMs): while the next due time is more
 * than {@link PACE_TIMER_MS} away it sleeps on a timer (event loop free,
 * Ctrl-C honoured); closer, it blocks the thread in `Atomics.wait` to the
 * due time, after asking for a 1 ns timer slack. This is the Deno backend;
 * `--io native` sends from a Worker with `clock_nanosleep` and `sendmmsg`
 * (`native/send.ts`). Both share the schedule and the result
 * ({@link SendLog}).
 *
 * @module
 */
import { joinHostPort } from "../core/cli.ts";
import { RealtimeClock } from "./clock.ts";
import { END_COPIES, END_GAP_MS, PACE_TIMER_MS } from "./defaults.ts";
import { resolveIo } from "./io.ts";
import { openLibc } from "./native/libc.ts";
import { nativeAddrs, runNative } from "./native/run.ts";
import { bindUdp, formatAddr, resolveTargets, sendFrom } from "./net.ts";
import { EchoBook, PeerIndex } from "./echo.ts";
import type { ParentOptions, ParentResult } from "./roles.ts";
import { SendLog } from "./sender.ts";
import { ECHO_BYTES, isEchoDatagram, OFF_TS_LO } from "./wire.ts";

/**
 * Sends a stream from `opts.bind` (or the wildcard); see the module doc.
 * Throws only when it cannot resolve or bind.
 */
export async function runParent(
  opts: ParentOptions,
  ctx: { signal?: AbortSignal; onReady?: (bind: string) => void } = {},
): Promise<ParentResult> {
  const targets = await resolveTargets(opts.to);
  const from = await sendFrom(opts.bind, targets);
  const native = resolveIo(opts.io) === "native"
    ? nativeAddrs(opts.io, [from, ...targets])
    : null;
  if (native !== null) {
    const [bind, ...to] = native;
    return await runNative(
      { role: "parent", opts, bind: bind!, targets: to },
      ctx,
    );
  }
  const conn = bindUdp("parent probe", from);
  ctx.onReady?.(formatAddr(conn.addr));
  const signal = ctx.signal;
  const clock = new RealtimeClock();
  const log = new SendLog(opts);
  const buf = new Uint8Array(log.size);
  const view = new DataView(buf.buffer);
  const pending: Promise<number>[] = new Array(targets.length);
  // The children's echoes come back to this socket while it sends.
  const echoes = new EchoBook(targets.length, clock);
  const echoLoop = _receiveEchoes(conn, echoes, new PeerIndex(targets));

  const sendAll = async () => {
    for (let j = 0; j < targets.length; j++) {
      pending[j] = conn.send(buf, targets[j]!);
    }
    for (let j = 0; j < targets.length; j++) {
      try {
        await pending[j];
      } catch {
        log.errors++;
      }
    }
    log.sent++;
  };

  _tightenTimerSlack();
  const start = performance.now() + 1;
  let i = 0;
  try {
    for (; i <= log.total && !signal?.aborted; i++) {
      const due = start + i * log.period;
      const now = await _pace(due, signal);
      log.stamp(view, i, clock, now);
      await sendAll();
      log.lag(now - due);
    }
    if (i <= log.total) { // interrupted: still close the stream
      log.stamp(view, i, clock, performance.now(), true);
      await sendAll();
    }
    for (let k = 1; k < END_COPIES; k++) {
      await new Promise((r) => setTimeout(r, END_GAP_MS));
      clock.writeNs(view, OFF_TS_LO, performance.now());
      await sendAll();
    }
  } finally {
    conn.close();
    await echoLoop;
  }
  return log.result({
    children: targets.length,
    interrupted: i <= log.total,
    elapsedMs: performance.now() - start,
    io: "deno",
    echoes,
    to: opts.to.map(joinHostPort),
  });
}

/** Hands every echo arriving on `conn` to `book`, until `conn` closes. */
async function _receiveEchoes(
  conn: Deno.DatagramConn,
  book: EchoBook,
  peers: PeerIndex,
): Promise<void> {
  const buf = new Uint8Array(ECHO_BYTES + 24);
  const view = new DataView(buf.buffer);
  for (;;) {
    let got: [Uint8Array, Deno.Addr];
    try {
      got = await conn.receive(buf);
    } catch {
      return; // closed
    }
    const now = performance.now();
    const from = got[1] as Deno.NetAddr;
    if (isEchoDatagram(view, got[0].length)) {
      book.take(view, peers.of(from.hostname, from.port), now);
    } else book.stray++;
  }
}

const _sab = new Int32Array(new SharedArrayBuffer(4));

/**
 * Asks Linux for a 1 ns timer slack on this (the main) thread, as the C
 * reference does with prctl(PR_SET_TIMERSLACK): a futex wait then overshoots
 * by ~20-40 µs instead of ~90 µs. Best effort: prctl through FFI where libc
 * loads, else /proc/self/timerslack_ns when write access was granted up
 * front (it never prompts); returns whether it took.
 */
function _tightenTimerSlack(): boolean {
  const libc = openLibc();
  if (libc !== null) {
    try {
      return libc.fn.prctl(libc.abi.PR_SET_TIMERSLACK, 1n, 0n, 0n, 0n) === 0;
    } finally {
      libc.close();
    }
  }
  const path = "/proc/self/timerslack_ns";
  try {
    if (
      Deno.permissions.querySync({ name: "write", path }).state !== "granted"
    ) return false;
    Deno.writeTextFileSync(path, "1");
    return Deno.readTextFileSync(path).trim() === "1";
  } catch {
    return false;
  }
}

/** Sleeps until monotonic `due` (ms): on a timer while far, then in `Atomics.wait`; returns the time it woke. */
async function _pace(due: number, signal?: AbortSignal): Promise<number> {
  let left = due - performance.now();
  while (left > PACE_TIMER_MS && !signal?.aborted) {
    // A timer wakes 1-2 ms late: aim PACE_TIMER_MS early, never more than 100 ms at once.
    await new Promise((r) =>
      setTimeout(r, Math.min(100, left - PACE_TIMER_MS + 1))
    );
    left = due - performance.now();
  }
  let now = performance.now();
  while (now < due) {
    Atomics.wait(_sab, 0, 0, due - now);
    now = performance.now();
  }
  return now;
}
