/**
 * The native child and proxy loops (run in the Worker): a blocking
 * `recvmmsg` bounded by SO_RCVTIMEO, every datagram of the batch handed to
 * the shared core (`../receive.ts`) with its kernel receive timestamp when
 * the socket has them (else the user-space time the call returned), the
 * stop flag and the stream's timeouts looked at after every call.
 *
 * The proxy patches each datagram in its receive slot and sends the batch
 * to all its children in one `sendmmsg`, the children's order rotating by
 * one per datagram (so no child is always last); bookkeeping comes after
 * the send. END is sent {@link END_COPIES} times, {@link END_GAP_MS} apart.
 *
 * A child's per-message log (`--messages`) lives in the Worker: one store
 * per datagram, the file written by the Worker at the end.
 *
 * With `--from` each datagram's source (`msg_name`, read as a u32 and a
 * port: no allocation) goes through the shared `../sources.ts` filter
 * first; a foreign one is counted and skipped.
 *
 * Both echo one datagram in `ECHO_EVERY` to its source with one `sendto`
 * from the receiving socket (`../echo.ts`); a proxy takes its children's
 * echoes out of its batches (never forwarded), after the batch's sends.
 *
 * @module
 */
import {
  CHILD_BUFFER_BYTES,
  END_COPIES,
  END_GAP_MS,
  NATIVE_CHILD_BATCH,
  NATIVE_PROXY_BATCH,
  PROXY_BUFFER_BYTES,
  START_TIMEOUT_S,
} from "../defaults.ts";
import type {
  ChildOptions,
  ChildResult,
  ProxyOptions,
  ProxyResult,
} from "../roles.ts";
import { messageBook } from "../messages.ts";
import { ChildCore, ProxyCore, type ReceiveOutcome } from "../receive.ts";
import { streamOutcome, StreamTimer } from "../watch.ts";
import { joinHostPort } from "../../core/cli.ts";
import { PeerIndex } from "../echo.ts";
import { SourceFilter } from "../sources.ts";
import { ECHO_BYTES, FLAG_END, isEchoDatagram, OFF_FLAGS } from "../wire.ts";
import { type Ip4Addr, type NativeUdp, RecvRing, SendList } from "./socket.ts";

/** Receives and measures one stream; see the module doc. */
export function childLoop(
  sock: NativeUdp,
  bind: string,
  opts: ChildOptions,
  stop: Int32Array,
  running: () => void,
): ChildResult {
  const timer = _timer(opts, opts.duration);
  const core = new ChildCore(timer, opts.emulate ?? null, messageBook(opts));
  const ring = new RecvRing(sock, NATIVE_CHILD_BATCH, CHILD_BUFFER_BYTES);
  const views = ring.views;
  const src = SourceFilter.resolved(opts.from);
  const end = _receive(
    sock,
    ring,
    timer,
    { bind, opts, stop, running },
    (n, now) => {
      for (let i = 0; i < n; i++) {
        if (src !== null && !_admits(src, ring, i)) {
          core.foreign++;
          continue;
        }
        ring.stamp(i);
        const end = core.take(
          views[i]!,
          ring.length(i),
          now,
          ring.sec,
          ring.nsec,
        );
        if (core.echoReady) {
          core.echoReady = false;
          ring.reply(i, core.echo.bytes, ECHO_BYTES);
        }
        if (end) {
          timer.stop("end");
          return true;
        }
      }
      return false;
    },
  );
  return core.result(end);
}

/** Forwards one stream to `targets`; see the module doc. */
export function proxyLoop(
  sock: NativeUdp,
  bind: string,
  opts: ProxyOptions,
  targets: Ip4Addr[],
  stop: Int32Array,
  running: () => void,
): ProxyResult {
  const timer = _timer(opts, opts.duration ?? null);
  const k = targets.length;
  const peers = new PeerIndex(targets);
  const core = new ProxyCore(timer, {
    to: opts.to.map(joinHostPort),
    record: opts.record ?? false,
    emulate: opts.emulate ?? null,
  });
  const ring = new RecvRing(sock, NATIVE_PROXY_BATCH, PROXY_BUFFER_BYTES);
  const views = ring.views;
  const out = new SendList(sock, targets, views, NATIVE_PROXY_BATCH * k);
  const hops = new Int32Array(NATIVE_PROXY_BATCH);
  const src = SourceFilter.resolved(opts.from);
  let rot = 0;
  const end = _receive(
    sock,
    ring,
    timer,
    { bind, opts, stop, running },
    (n, now) => {
      let msgs = 0, last = n - 1;
      for (let i = 0; i < n; i++) {
        const len = ring.length(i);
        if (isEchoDatagram(views[i]!, len)) {
          hops[i] = ECHO; // a child's: taken after the sends
          continue;
        }
        if (src !== null && !_admits(src, ring, i)) {
          core.foreign++;
          hops[i] = -1;
          continue;
        }
        const h = hops[i] = core.take(views[i]!, len, now);
        if (h < 0) continue;
        for (let j = 0; j < k; j++) out.set(msgs++, (j + rot) % k, i, len);
        rot = rot + 1 === k ? 0 : rot + 1;
        if (views[i]!.getUint32(OFF_FLAGS, true) & FLAG_END) {
          last = i; // the stream is over: the rest of the batch is not of it
          break;
        }
      }
      if (msgs > 0) core.sendErrors += out.send(msgs);
      for (let i = 0; i <= last; i++) {
        const h = hops[i]!;
        if (h === ECHO) {
          ring.stamp(i);
          const from = ring.source(i);
          const j = peers.of(from.hostname, from.port);
          core.book.take(views[i]!, j, now, ring.sec, ring.nsec);
          continue;
        }
        if (h < 0) continue;
        ring.stamp(i);
        const end = core.account(views[i]!, h, now, ring.sec, ring.nsec);
        if (core.echoReady) {
          core.echoReady = false;
          ring.reply(i, core.echo.bytes, ECHO_BYTES);
        }
        if (end) {
          for (let c = 1; c < END_COPIES; c++) {
            _sleepMs(END_GAP_MS);
            for (let j = 0; j < k; j++) out.set(j, j, i, ring.length(i));
            core.sendErrors += out.send(k);
          }
          timer.stop("end");
          return true;
        }
      }
      return false;
    },
  );
  return core.result(end);
}

/** Whether `src` admits slot `i` of `ring` (allocation-free). */
function _admits(src: SourceFilter, ring: RecvRing, i: number): boolean {
  const v = ring.views[i]!;
  return src.admitsIp4(
    ring.sourceIp4(i),
    ring.sourcePort(i),
    v,
    ring.length(i),
  );
}

/** A proxy's mark, in its batch's hops, of an echo from one of its children. */
const ECHO = -2;

/** The stop bookkeeping of a receiver with these timeouts. */
function _timer(
  opts: { timeout?: number; idle?: number },
  duration: number | null,
): StreamTimer {
  return new StreamTimer({
    start: opts.timeout ?? START_TIMEOUT_S,
    duration,
    ...(opts.idle !== undefined ? { idle: opts.idle } : {}),
  });
}

/**
 * The receive loop both roles share: blocks in `recvmmsg` (at most one
 * watchdog tick), hands each batch to `batch` (true: END, the stream is
 * over), then looks at the stop flag and the timeouts. Returns how it ended.
 */
function _receive(
  sock: NativeUdp,
  ring: RecvRing,
  timer: StreamTimer,
  o: {
    bind: string;
    opts: { timeout?: number };
    stop: Int32Array;
    running: () => void;
  },
  batch: (n: number, nowMs: number) => boolean,
): ReceiveOutcome {
  sock.recvTimeout(timer.tickMs);
  let failure: string | null = null;
  o.running();
  for (;;) {
    let n: number;
    try {
      n = ring.recv();
    } catch (e) {
      failure = `Cannot receive on "${o.bind}": ${(e as Error).message}`;
      break;
    }
    const now = performance.now();
    if (n > 0 && batch(n, now)) break;
    if (Atomics.load(o.stop, 0) !== 0) timer.stop("interrupted");
    if (timer.check(now) !== null) break;
  }
  const timeout = o.opts.timeout ?? START_TIMEOUT_S;
  return {
    bind: o.bind,
    ...streamOutcome(timer.reason, { bind: o.bind, timeout, failure }),
    io: "native",
    timestamps: sock.kernelTs ? "kernel" : "user",
  };
}

const _nap = new Int32Array(new SharedArrayBuffer(4));

/** Blocks this (the Worker's) thread for `ms`. */
function _sleepMs(ms: number): void {
  Atomics.wait(_nap, 0, 0, ms);
}
