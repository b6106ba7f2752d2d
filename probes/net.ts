/**
 * UDP plumbing shared by the probes: binding, resolving targets once,
 * and the watchdog that ends a receive loop (timeouts, Ctrl-C).
 *
 * @module
 */
import { lookup } from "node:dns/promises";
import { type HostPort, joinHostPort } from "../core/cli.ts";
import {
  type StopReason,
  streamOutcome,
  StreamTimer,
  type WatchTimeouts,
} from "./watch.ts";

export { type StopReason, type WatchTimeouts } from "./watch.ts";

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
    throw bindError(
      role,
      at,
      e instanceof Deno.errors.AddrInUse
        ? "in_use"
        : e instanceof Deno.errors.AddrNotAvailable
        ? "not_available"
        : (e as Error).message,
    );
  }
}

/** The error of a failed bind for `role` at `at`: address in use, not on this host, or `why`. */
export function bindError(
  role: string,
  at: HostPort,
  why: "in_use" | "not_available" | string,
): Error {
  const text = why === "in_use"
    ? "address in use"
    : why === "not_available"
    ? "address not available on this host"
    : why;
  return new Error(`Cannot bind ${role} to "${joinHostPort(at)}": ${text}`);
}

/** Whether `hostname` is an IPv4 literal. */
export function isIpv4(hostname: string): boolean {
  return IPV4.test(hostname);
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
    if (!isIpv4(hostname) && !hostname.includes(":")) {
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

/**
 * The address a sender binds to reach `targets` (resolved): `bind`
 * (resolved once), or without one the wildcard of their family. A `bind`
 * of the other family throws, naming both.
 */
export async function sendFrom(
  bind: HostPort | undefined,
  targets: readonly Deno.NetAddr[],
): Promise<HostPort> {
  if (bind === undefined) return wildcardFor(targets);
  const [at] = await resolveTargets([bind]);
  const v6 = at!.hostname.includes(":");
  const other = targets.find((t) => t.hostname.includes(":") !== v6);
  if (other !== undefined) {
    throw new Error(
      `Cannot send to "${formatAddr(other)}" from "${
        joinHostPort(bind)
      }": another address family`,
    );
  }
  return { hostname: at!.hostname, port: at!.port };
}

/**
 * Ends a Deno receive loop by closing its socket (which makes the pending
 * `receive` reject) when a timeout of its {@link StreamTimer} passes or
 * `signal` aborts; `reason` then says why. The loop calls `packet` per
 * datagram of the format (two stores, nothing else on the hot path); a
 * timer checks the rest.
 */
export class StreamWatch extends StreamTimer {
  #conn: Deno.DatagramConn;
  #signal: AbortSignal | undefined;
  #timer: ReturnType<typeof setInterval>;
  #onAbort = () => this.stop("interrupted");

  /** Watches `conn` with `timeouts`; `signal` interrupts. */
  constructor(
    conn: Deno.DatagramConn,
    timeouts: WatchTimeouts,
    signal?: AbortSignal,
  ) {
    super(timeouts);
    this.#conn = conn;
    this.#signal = signal;
    this.#timer = setInterval(() => this.check(performance.now()), this.tickMs);
    if (signal?.aborted) this.stop("interrupted");
    signal?.addEventListener("abort", this.#onAbort);
  }

  /** Stops the loop for `reason` (the first reason wins) by closing the socket. */
  override stop(reason: StopReason): boolean {
    if (!super.stop(reason)) return false;
    this.dispose();
    try {
      this.#conn.close();
    } catch { /* already closed */ }
    return true;
  }

  /** Stops the timer and the signal listener (the socket stays as it is). */
  dispose(): void {
    clearInterval(this.#timer);
    this.#signal?.removeEventListener("abort", this.#onAbort);
  }
}

/**
 * Ends a receiver's stream: stops the watch, closes the socket, and says
 * why it stopped ({@link streamOutcome}).
 */
export function endStream(
  watch: StreamWatch,
  conn: Deno.DatagramConn,
  o: { bind: string; timeout: number; failure: string | null },
): { stop: StopReason; failure: string | null } {
  watch.dispose();
  try {
    conn.close();
  } catch { /* closed by the watch */ }
  return streamOutcome(watch.reason, o);
}
