/**
 * The native parent loop (run in the Worker): the shared schedule
 * (`../sender.ts`), sleeping to each due time with
 * `clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME)` after
 * `prctl(PR_SET_TIMERSLACK, 1)` (never spinning), and one `sendmmsg` per
 * packet for the whole fan-out, the children's order rotating by one per
 * packet (with a fixed order a later child is always a few µs later).
 * Sleeps are cut into {@link NATIVE_SLEEP_SLICE_MS} slices so that the stop
 * flag is seen.
 *
 * Due times are kept in `performance.now()` milliseconds and turned into a
 * monotonic `timespec` from one pairing of both clocks taken at the start
 * (whole seconds and nanoseconds apart, no BigInt).
 *
 * The children's echoes arrive on the same socket (with kernel receive
 * timestamps where the kernel gives them): the loop takes them without
 * blocking, at most every {@link ECHO_POLL_MS} between sends and once more
 * after each END copy (`../echo.ts`).
 *
 * @module
 */
import { joinHostPort } from "../../core/cli.ts";
import { RealtimeClock } from "../clock.ts";
import {
  ECHO_POLL_MS,
  END_COPIES,
  END_GAP_MS,
  NATIVE_SLEEP_SLICE_MS,
} from "../defaults.ts";
import { EchoBook, PeerIndex } from "../echo.ts";
import type { ParentOptions, ParentResult } from "../roles.ts";
import { SendLog } from "../sender.ts";
import { ECHO_BYTES, isEchoDatagram, OFF_TS_LO } from "../wire.ts";
import { type Ip4Addr, type NativeUdp, RecvRing, SendList } from "./socket.ts";

/** Echoes a native sender takes per look at its socket at most. */
const ECHO_SLOTS = 16;

const TWO_32 = 4294967296;

/** Sends one stream to `targets`; see the module doc. */
export function parentLoop(
  sock: NativeUdp,
  opts: ParentOptions,
  targets: Ip4Addr[],
  stop: Int32Array,
  running: () => void,
): ParentResult {
  const { abi, fn } = sock.libc;
  fn.prctl(abi.PR_SET_TIMERSLACK, 1n, 0n, 0n, 0n);
  const log = new SendLog(opts);
  const clock = new RealtimeClock();
  const k = targets.length;
  // One large arena (off the JS heap): the datagram, then a timespec.
  const arena = new ArrayBuffer(Math.max(log.size + 64, 1 << 16));
  const view = new DataView(arena, 0, log.size);
  const ts = new Uint8Array(arena, arena.byteLength - 16, 16);
  const tv = new DataView(arena, arena.byteLength - 16, 16);
  const out = new SendList(sock, targets, [view], k);
  const echoes = new EchoBook(k, clock);
  const peers = new PeerIndex(targets);
  const ring = new RecvRing(sock, ECHO_SLOTS, ECHO_BYTES + 24);
  let polled = 0;
  /** Takes the echoes that have arrived (at monotonic `now`, or their kernel times). */
  const takeEchoes = (now: number) => {
    polled = now;
    for (;;) {
      let n: number;
      try {
        n = ring.recvNow();
      } catch {
        return; // e.g. ECONNREFUSED from a child gone: echoes are best effort
      }
      for (let e = 0; e < n; e++) {
        const v = ring.views[e]!;
        if (!isEchoDatagram(v, ring.length(e))) {
          echoes.stray++;
          continue;
        }
        ring.stamp(e);
        const from = ring.source(e);
        echoes.take(
          v,
          peers.of(from.hostname, from.port),
          now,
          ring.sec,
          ring.nsec,
        );
      }
      if (n < ECHO_SLOTS) return;
    }
  };

  const pA = performance.now();
  fn.clock_gettime(abi.CLOCK_MONOTONIC, ts);
  const p0 = (pA + performance.now()) / 2; // the reading's middle
  const sec0 = tv.getUint32(0, true) + tv.getUint32(4, true) * TWO_32;
  const nsec0 = tv.getUint32(8, true);
  /** Sleeps until performance.now() reaches `ms` (or, if `stoppable`, the stop flag is set). */
  const sleepTo = (ms: number, stoppable = true) => {
    for (;;) {
      const now = performance.now();
      if (now >= ms || (stoppable && Atomics.load(stop, 0) !== 0)) return;
      const target = Math.min(ms, now + NATIVE_SLEEP_SLICE_MS);
      const off = Math.round((target - p0) * 1e6) + nsec0;
      const s = Math.floor(off / 1e9);
      const sec = sec0 + s;
      tv.setUint32(0, sec % TWO_32, true);
      tv.setUint32(4, Math.floor(sec / TWO_32), true);
      tv.setUint32(8, off - s * 1e9, true);
      tv.setUint32(12, 0, true);
      fn.clock_nanosleep(abi.CLOCK_MONOTONIC, abi.TIMER_ABSTIME, ts, null);
    }
  };
  const sendAll = (rot: number) => {
    for (let j = 0; j < k; j++) {
      out.set(j, rot + j < k ? rot + j : rot + j - k, 0, log.size);
    }
    log.errors += out.send(k);
    log.sent++;
  };

  running();
  const start = performance.now() + 1;
  let i = 0, rot = 0;
  for (; i <= log.total && Atomics.load(stop, 0) === 0; i++) {
    const due = start + i * log.period;
    sleepTo(due);
    if (Atomics.load(stop, 0) !== 0) break;
    const now = performance.now();
    log.stamp(view, i, clock, now);
    sendAll(rot);
    rot = rot + 1 === k ? 0 : rot + 1;
    log.lag(now - due);
    if (now - polled >= ECHO_POLL_MS) takeEchoes(performance.now());
  }
  if (i <= log.total) { // interrupted: still close the stream
    log.stamp(view, i, clock, performance.now(), true);
    sendAll(rot);
  }
  for (let c = 1; c < END_COPIES; c++) {
    sleepTo(performance.now() + END_GAP_MS, false);
    clock.writeNs(view, OFF_TS_LO, performance.now());
    sendAll(rot);
    takeEchoes(performance.now());
  }
  takeEchoes(performance.now());
  return log.result({
    children: k,
    interrupted: i <= log.total,
    elapsedMs: performance.now() - start,
    io: "native",
    echoes,
    to: opts.to.map(joinHostPort),
  });
}
