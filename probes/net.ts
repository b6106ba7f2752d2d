/**
 * UDP plumbing shared by the probes: binding, resolving targets once,
 * and the watchdog that ends a receive loop (timeouts, Ctrl-C).
 *
 * @module
 */
import { lookup } from "node:dns/promises";
import { type HostPort, joinHostPort } from "../core/cli.ts";
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

/** A bind or send address as text, e.g. `127.0.0.1:40123`. */
export function formatAddr(a: Deno.Addr): string {
  return a.transport === "udp" || a.transport === "tcp"
    ? joinHostPort(a)
    : String(a);
}

/** Binds a UDP socket for `role`; a failure says what and where. */
export function bindUdp(role: string, at: HostPort): Deno.DatagramConn {
  try {
    return Deno.listenDatagram({
      transport: "udp",
      hostname: at.hostname,
      port: at.port,
    });
  } catch (e) {
    const why = e instanceof Deno.errors.AddrInUse
      ? "address in use"
      : e instanceof Deno.errors.AddrNotAvailable
      ? "address not available on this host"
      : (e as Error).message;
    throw new Error(`Cannot bind ${role} to "${joinHostPort(at)}": ${why}`);
  }
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * Resolves target names once (a name in every `send` would be looked up per
 * datagram). IP literals pass through; all targets must share one family.
 */
export async function resolveTargets(
  targets: readonly HostPort[],
): Promise<Deno.NetAddr[]> {
  const out: Deno.NetAddr[] = [];
  for (const t of targets) {
    let hostname = t.hostname;
    if (!IPV4.test(hostname) && !hostname.includes(":")) {
      try {
        // IPv4 first: `localhost` then matches a child bound to 127.0.0.1.
        hostname = (await lookup(hostname, { family: 4 }).catch(() =>
          lookup(hostname)
        )).address;
      } catch (e) {
        throw new Error(
          `Cannot resolve "${t.hostname}": ${(e as Error).message}`,
        );
      }
    }
    out.push({ transport: "udp", hostname, port: t.port });
  }
  const v6 = out.filter((a) => a.hostname.includes(":")).length;
  if (v6 !== 0 && v6 !== out.length) {
    throw new Error(
      `Cannot send to IPv4 and IPv6 targets from one socket: ${
        out.map(formatAddr).join(", ")
      }`,
    );
  }
  return out;
}

/** The wildcard address of the family of `targets`, to send from. */
export function wildcardFor(targets: readonly Deno.NetAddr[]): HostPort {
  return {
    hostname: targets[0]?.hostname.includes(":") ? "::" : "0.0.0.0",
    port: 0,
  };
}

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
 * Ends a receive loop by closing its socket (which makes the pending
 * `receive` reject) when a timeout passes or `signal` aborts; `reason`
 * then says why. The loop calls {@link packet} per datagram of the format
 * (two stores, nothing else on the hot path); a timer checks the rest.
 *
 * Semantics: before the first datagram, the stream must start within
 * `start` s (else `no_stream`); after it, the stream is over when nothing
 * arrived for max(`idle` = {@link IDLE_TIMEOUT_S}, {@link IDLE_GAPS} x the mean gap)
 * (`idle`), or, with a duration, at {@link deadlineFor}(duration) after the
 * first datagram (`deadline`).
 */
export class StreamWatch {
  #conn: Deno.DatagramConn;
  #t: WatchTimeouts;
  #signal: AbortSignal | undefined;
  #timer: ReturnType<typeof setInterval>;
  #opened = performance.now();
  #onAbort = () => this.stop("interrupted");
  #first = -1;
  #last = -1;
  #count = 0;
  #reason: StopReason | null = null;

  /** Watches `conn` with `timeouts`; `signal` interrupts. */
  constructor(
    conn: Deno.DatagramConn,
    timeouts: WatchTimeouts,
    signal?: AbortSignal,
  ) {
    this.#conn = conn;
    this.#t = timeouts;
    this.#signal = signal;
    const tick = Math.max(1, Math.min(WATCHDOG_MS, timeouts.start * 250));
    this.#timer = setInterval(() => this.#check(), tick);
    if (signal?.aborted) this.stop("interrupted");
    signal?.addEventListener("abort", this.#onAbort);
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

  /** Notes a datagram of the format that arrived at monotonic `nowMs`. */
  packet(nowMs: number): void {
    if (this.#first < 0) this.#first = nowMs;
    this.#last = nowMs;
    this.#count++;
  }

  /** Stops the loop for `reason` (the first reason wins) by closing the socket. */
  stop(reason: StopReason): void {
    if (this.#reason !== null) return;
    this.#reason = reason;
    this.dispose();
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }

  /** Stops the timer and the signal listener (the socket stays as it is). */
  dispose(): void {
    clearInterval(this.#timer);
    this.#signal?.removeEventListener("abort", this.#onAbort);
  }

  #check(): void {
    const now = performance.now();
    if (this.#first < 0) {
      if (now - this.#opened > this.#t.start * 1000) this.stop("no_stream");
      return;
    }
    const meanGap = this.#count > 1
      ? (this.#last - this.#first) / (this.#count - 1)
      : 0;
    if (
      now - this.#last >
        Math.max((this.#t.idle ?? IDLE_TIMEOUT_S) * 1000, IDLE_GAPS * meanGap)
    ) {
      this.stop("idle");
    } else if (
      this.#t.duration !== null &&
      now - this.#first > deadlineFor(this.#t.duration) * 1000
    ) {
      this.stop("deadline");
    }
  }
}

/**
 * Ends a receiver's stream: stops the watch, closes the socket, and says
 * why it stopped; a stream that never started is the failure it reports
 * (otherwise `failure` is passed through).
 */
export function endStream(
  watch: StreamWatch,
  conn: Deno.DatagramConn,
  o: { bind: string; timeout: number; failure: string | null },
): { stop: StopReason | "error"; failure: string | null } {
  watch.dispose();
  try {
    conn.close();
  } catch { /* closed by the watch */ }
  const stop = watch.reason ?? "error";
  return {
    stop,
    failure: stop === "no_stream"
      ? `No stream arrived at "${o.bind}" within ${o.timeout} s`
      : o.failure,
  };
}
