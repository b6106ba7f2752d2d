/**
 * The senders a receiver takes datagrams from (`--from`, issue #20):
 * without it anyone could end a child's stream with a forged END.
 *
 * The rule: each entry names a host and a port. A bare HOST (port 0) is
 * for a sender whose port is not known in advance (a worker starts a
 * child before its parent's probe exists): the first datagram of the probe
 * format from that host pins the entry to its source port. A datagram
 * that no entry admits is foreign: the receiver drops it before anything
 * else looks at it (never recorded, forwarded or echoed, never ending or
 * starting the stream) and only counts it (`foreign` in the result line).
 * Several entries may name one host (two parents on one VM): each pins a
 * port of its own. Without entries (no `--from`) every source is taken.
 *
 * Only a sender that can forge its source address (or that pins a port
 * before the real parent's first datagram) gets past it.
 *
 * @module
 */
import {
  type HostPort,
  parseHost,
  parseHostPort,
  UsageError,
} from "../core/cli.ts";
import { isIpv4, resolveTargets } from "./net.ts";
import { isProbeDatagram } from "./wire.ts";

/** The help of `--from`, for the receivers' help pages. */
export const FROM_HELP =
  `--from HOST[:PORT][,...] takes datagrams only from these senders (a worker
passes the host of the job's parent): a bare HOST is pinned to the source port
of the first datagram of the probe format from it. Any other datagram is
dropped and counted ("foreign" in the result), never recorded, forwarded or
echoed, never ending the stream. Without --from every source is taken.`;

/** The `--from` flag of the receivers. */
export const FROM_FLAG = {
  type: "string",
  arg: "HOST[:PORT][,...]",
  help: "Take datagrams only from these senders (see above)",
  defaultText: "any",
} as const;

/** Parses `--from`: HOST:PORT or a bare HOST (port 0: pinned), comma-separated. */
export function parseSources(flag: string, text: string): HostPort[] {
  const parts = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (parts.length === 0) {
    throw new UsageError(`Flag "--${flag}" needs at least one HOST[:PORT]`);
  }
  // HOST:PORT or [IPv6]:PORT; anything else (an IPv6 address included) is a host.
  return parts.map((p) =>
    /^\[.*\]:\d+$|^[^:]*:\d+$/.test(p)
      ? parseHostPort(flag, p)
      : { hostname: parseHost(flag, p), port: 0 }
  );
}

/** Which sources a receiver admits; see the module doc. */
export class SourceFilter {
  /** The entries, their hosts resolved, their ports as given (0: to pin). */
  readonly entries: readonly HostPort[];
  readonly #hosts: string[];
  /** Each entry's IPv4 address as a u32 (0 for another family), for native I/O. */
  readonly #ip4: Uint32Array;
  /** Each entry's port: given, pinned, or 0 (not yet pinned). */
  readonly #ports: Int32Array;

  private constructor(hosts: readonly HostPort[]) {
    this.entries = hosts.map((h) => ({ hostname: h.hostname, port: h.port }));
    this.#hosts = hosts.map((h) => h.hostname);
    this.#ip4 = new Uint32Array(hosts.map((h) => _ip4(h.hostname)));
    this.#ports = new Int32Array(hosts.map((h) => h.port));
  }

  /** The filter of `from` (names resolved once), or null without entries: every source taken. */
  static async of(
    from: readonly HostPort[] | undefined,
  ): Promise<SourceFilter | null> {
    if (from === undefined || from.length === 0) return null;
    const hosts: HostPort[] = [];
    // One at a time: senders of both families are allowed, unlike targets.
    for (const f of from) hosts.push(...await resolveTargets([f]));
    return new SourceFilter(hosts);
  }

  /** The filter of {@link entries} resolved already (in the native Worker), or null. */
  static resolved(from: readonly HostPort[] | undefined): SourceFilter | null {
    return from === undefined || from.length === 0
      ? null
      : new SourceFilter(from);
  }

  /**
   * Whether the `n` bytes under `view` from `from` are admitted (pinning
   * an entry's port when they are the first of the format from its host).
   */
  admits(from: Deno.NetAddr, view: DataView, n: number): boolean {
    let host = from.hostname;
    if (host.startsWith("::ffff:") && isIpv4(host.slice(7))) {
      host = host.slice(7); // an IPv4 sender seen by a dual-stack socket
    }
    let free = -1;
    for (let i = 0; i < this.#hosts.length; i++) {
      if (this.#hosts[i] !== host) continue;
      const p = this.#ports[i]!;
      if (p === from.port) return true;
      if (p === 0 && free < 0) free = i;
    }
    return this.#pin(free, from.port, view, n);
  }

  /** {@link admits} for a native `sockaddr_in`: `ip` a u32, no allocation. */
  admitsIp4(ip: number, port: number, view: DataView, n: number): boolean {
    let free = -1;
    for (let i = 0; i < this.#ip4.length; i++) {
      if (this.#ip4[i] !== ip) continue;
      const p = this.#ports[i]!;
      if (p === port) return true;
      if (p === 0 && free < 0) free = i;
    }
    return this.#pin(free, port, view, n);
  }

  /** An entry `i` not yet pinned admits the datagram; one of the format pins it. */
  #pin(i: number, port: number, view: DataView, n: number): boolean {
    if (i < 0) return false;
    if (isProbeDatagram(view, n)) this.#ports[i] = port;
    return true;
  }
}

/** `host` as a u32 when it is an IPv4 literal, else 0 (never a source). */
function _ip4(host: string): number {
  if (!isIpv4(host)) return 0;
  return host.split(".").reduce((a, p) => a * 256 + Number(p), 0);
}
