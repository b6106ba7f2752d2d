/**
 * Waiting for a ZeroMQ socket under Deno: ONE readiness loop per process.
 *
 * Under Deno 2.9.6, `npm:zeromq`'s native poller fires once: Deno's
 * `uv_poll_start` shim stops watching after its first callback
 * (denoland/deno#36317), and zeromq.js starts it again only once its own
 * wait has ended, which a spurious first wake-up (ZMQ_FD signals any
 * internal event) never does; the one other way to end that wait, a
 * receive/send timeout, crashes the process (uv timers). So a `receive()`
 * that has to wait never resolves. Every wait instead registers here, and
 * one loop checks the waiting sockets' `readable` / `writable` flags
 * (ZMQ_EVENTS); callers then `receive()` / `send()`, which complete at
 * once. The loop runs only while something waits, and adapts:
 * `setImmediate` turns for ~2 ms after any activity, then timers backing
 * off to 10 ms while a reply is expected (a `hot` wait) or within 1 s of
 * the last activity, and to 200 ms when only servers wait idle: an idle
 * worker wakes 5 times a second (each Deno timer wake-up costs ~0.2-0.4 ms
 * of CPU here, whatever it checks) and notices its first request after a
 * quiet second up to 200 ms late. A process that calls
 * {@link wakeOnSocketEvents} (the worker command does) waits its timer turns
 * in `poll(2)` on the sockets' ZMQ_FD instead (`fd_wait.ts`): a turn ends as
 * soon as a socket signals, so an idle worker notices a request at once,
 * and idle turns last 1 s (one wake-up a second). `transport_test.ts` holds a
 * canary that tells when a plain `await receive()` works again.
 *
 * @module
 */
import type * as zmq from "zeromq";
import { clearImmediate, setImmediate } from "node:timers";
import { type FdWait, openFdWait } from "./fd_wait.ts";

/** A transport failure. */
export class TransportError extends Error {
  override name = "TransportError";
}

/** A wait passed its deadline. */
export class Timeout extends TransportError {
  override name = "Timeout";
}

/** The socket was closed (or the wait aborted) while waiting. */
export class Closed extends TransportError {
  override name = "Closed";
}

const SPIN_MS = 2;
const MAX_BACKOFF_MS = 10;
const WARM_MS = 1000;
const IDLE_MS = 200;
/**
 * An idle turn waited in poll(2): a socket's signal ends it at once, so its
 * timeout only bounds how late a socket closed under a waiter is seen.
 */
const IDLE_POLL_MS = 1000;

interface Waiter {
  socket: zmq.Socket;
  want: "readable" | "writable";
  hot: boolean;
  done(e?: Error): void;
}

/** The one readiness loop of the process (see the module comment). */
const loop = {
  waiters: new Set<Waiter>(),
  hot: 0,
  lastActivity: 0,
  backoff: 1,
  timer: undefined as ReturnType<typeof setTimeout> | undefined,
  immediate: undefined as ReturnType<typeof setImmediate> | undefined,
  /** Turns waited in poll(2) (see {@link wakeOnSocketEvents}). */
  fdWait: undefined as FdWait | undefined,
  /** A poll(2) is in flight (it cannot be cancelled: it is made stale). */
  polling: false,
  /** The scheduled poll's turn; `_unschedule` makes it stale. */
  turn: 0,
  pollTurn: -1,
};

/**
 * From now on this process waits its readiness turns on the sockets' ZMQ_FD
 * with poll(2) where it can (Linux, FFI allowed); true if so. Not for tests:
 * a poll in flight is an async op until its turn's timeout.
 */
export function wakeOnSocketEvents(wait = openFdWait()): boolean {
  loop.fdWait = wait;
  return wait !== undefined;
}

const fds = new WeakMap<zmq.Socket, number>();
const ZMQ_FD = 14;

function _fd(s: zmq.Socket): number {
  let fd = fds.get(s);
  if (fd === undefined) {
    // ZMQ_FD is not among zeromq.js's typed options.
    const get = (s as unknown as { getInt32Option(o: number): number })
      .getInt32Option;
    fds.set(s, fd = get.call(s, ZMQ_FD));
  }
  return fd;
}

function _unschedule(): void {
  if (loop.timer !== undefined) clearTimeout(loop.timer);
  if (loop.immediate !== undefined) clearImmediate(loop.immediate);
  loop.timer = loop.immediate = undefined;
  loop.turn++;
}

function _scheduled(): boolean {
  return loop.timer !== undefined || loop.immediate !== undefined ||
    loop.pollTurn === loop.turn;
}

/** Waits the turn in poll(2); false when it cannot (one in flight already). */
function _poll(delay: number): boolean {
  if (!loop.fdWait || loop.polling) return false;
  const open = [...loop.waiters].filter((w) => !w.socket.closed);
  if (open.length < loop.waiters.size) return false; // the tick reports those
  const turn = loop.pollTurn = loop.turn;
  loop.polling = true;
  const ended = () => {
    loop.polling = false;
    if (loop.pollTurn === turn && loop.turn === turn) {
      loop.pollTurn = -1;
      _tick();
    }
  };
  loop.fdWait([...new Set(open.map((w) => _fd(w.socket)))], delay)
    .then(ended, ended);
  return true;
}

function _tick(): void {
  loop.timer = loop.immediate = undefined;
  let woke = false;
  for (const w of loop.waiters) {
    if (w.socket.closed) {
      w.done(new Closed("Socket closed while waiting"));
    } else if (w.want === "readable" ? w.socket.readable : w.socket.writable) {
      w.done();
      woke = true;
    }
  }
  _schedule(woke);
}

function _schedule(activity: boolean): void {
  _unschedule();
  const now = performance.now();
  if (activity) {
    loop.lastActivity = now;
    loop.backoff = 1;
  }
  if (loop.waiters.size === 0) return; // nothing waits: no timer at all
  const quiet = now - loop.lastActivity;
  if (quiet < SPIN_MS) {
    loop.immediate = setImmediate(_tick);
    return;
  }
  const cap = loop.hot > 0 || quiet < WARM_MS ? MAX_BACKOFF_MS : IDLE_MS;
  const delay = Math.min(loop.backoff, cap);
  loop.backoff = Math.min(loop.backoff * 2, cap);
  if (!_poll(delay === IDLE_MS ? IDLE_POLL_MS : delay)) {
    loop.timer = setTimeout(_tick, delay);
  }
}

/**
 * Waits until `socket` is readable (or writable), the deadline passes
 * ({@link Timeout}) or the signal aborts / the socket closes ({@link Closed}).
 * `deadline` is a `performance.now()` value; `Infinity` waits forever.
 * `hot`: a reply is expected soon (the loop stays fast while it waits).
 */
export function waitReady(
  socket: zmq.Socket,
  opts: {
    want: "readable" | "writable";
    deadline: number;
    signal?: AbortSignal;
    hot?: boolean;
  },
): Promise<void> {
  if (socket.closed || opts.signal?.aborted) {
    return Promise.reject(new Closed("Socket closed while waiting"));
  }
  if (opts.want === "readable" ? socket.readable : socket.writable) {
    return Promise.resolve();
  }
  const left = opts.deadline - performance.now();
  if (left <= 0) return Promise.reject(new Timeout("Deadline passed"));
  return new Promise<void>((resolve, reject) => {
    let deadline: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => w.done(new Closed("Wait aborted"));
    const w: Waiter = {
      socket,
      want: opts.want,
      hot: opts.hot ?? false,
      done: (e) => {
        if (!loop.waiters.delete(w)) return;
        if (w.hot) loop.hot--;
        if (deadline !== undefined) clearTimeout(deadline);
        opts.signal?.removeEventListener("abort", onAbort);
        if (loop.waiters.size === 0) _unschedule();
        e ? reject(e) : resolve();
      },
    };
    if (Number.isFinite(left)) {
      deadline = setTimeout(() => w.done(new Timeout("Deadline passed")), left);
    }
    opts.signal?.addEventListener("abort", onAbort);
    loop.waiters.add(w);
    if (w.hot) loop.hot++;
    // A new hot waiter expects its reply soon: back to the fast turns.
    if (w.hot || !_scheduled()) {
      _schedule(w.hot);
    }
  });
}
