/**
 * Echoes (`probes/WIRE.md`): a receiver's echo of one stream datagram in
 * {@link ECHO_EVERY} ({@link EchoReply}), and the sender's book of the
 * echoes it gets back, one {@link OffsetEstimator} per child
 * ({@link EchoBook}). No I/O: the backends send {@link EchoReply.bytes} to
 * the datagram's source and hand every arriving echo to
 * {@link EchoBook.take}, with the child it came from ({@link PeerIndex}).
 *
 * Times are taken on the node's {@link RealtimeClock}, shifted by its
 * emulated clock offset (`--emulate offset=...`), so that a test can fake a
 * skewed host: the shift moves its receive times and its echo times alike.
 *
 * @module
 */
import type { RealtimeClock } from "./clock.ts";
import { ECHO_EVERY } from "./defaults.ts";
import { OffsetEstimator } from "./offset.ts";
import {
  ECHO_BYTES,
  FLAG_END,
  KIND_ECHO,
  OFF_ECHO_NS,
  OFF_FLAGS,
  OFF_KIND,
  OFF_RECV_NS,
  OFF_SEQ,
  OFF_TS_HI,
  OFF_TS_LO,
} from "./wire.ts";

/** One child's offset in a sender's result line (nulls when no echo came). */
export interface PeerOffset {
  /** The child's address, as the sender was given it. */
  to: string;
  offset_us: number | null;
  bound_us: number | null;
  rtt_us: number | null;
  samples: number;
}

/** Slots of a proxy's table of its own forwarding times (a power of two), END's after them. */
const SENT_SLOTS = 64;

/** The slot of a proxy's forwarding time of the datagram under `v` (END has its own), or -1. */
function _slot(v: DataView): number {
  if (v.getUint32(OFF_FLAGS, true) & FLAG_END) return SENT_SLOTS * 12;
  const seq = v.getUint32(OFF_SEQ, true);
  return seq % ECHO_EVERY === 0
    ? ((seq / ECHO_EVERY) & (SENT_SLOTS - 1)) * 12
    : -1;
}

/** A realtime time in ns since `c`'s base: a kernel timestamp when `kSec` >= 0, else monotonic `nowMs`. */
function _arrival(
  c: RealtimeClock,
  nowMs: number,
  kSec: number,
  kNsec: number,
) {
  return kSec < 0 ? c.sinceBase(nowMs) : c.timespecSinceBase(kSec, kNsec);
}

/** The receiver's side: writes the echo of each sampled datagram. */
export class EchoReply {
  /** The echo to send (valid after {@link of} returned true). */
  readonly bytes: Uint8Array = new Uint8Array(ECHO_BYTES);
  #view = new DataView(this.bytes.buffer);
  #clock: RealtimeClock;
  #shiftNs: number;
  /** Echoes written. */
  count = 0;

  /** Echoes stamped on `clock`, read as shifted by `shiftNs`. */
  constructor(clock: RealtimeClock, shiftNs = 0) {
    this.#clock = clock;
    this.#shiftNs = shiftNs;
    this.#view.setUint16(OFF_KIND, KIND_ECHO, true);
  }

  /**
   * Writes the echo of the stream datagram under `v` when it is sampled
   * (its seq a multiple of {@link ECHO_EVERY}, or END), arrived at monotonic
   * `nowMs` (or kernel time `kSec`/`kNsec` when `kSec` >= 0); true when
   * there is an echo to send.
   */
  of(v: DataView, nowMs: number, kSec = -1, kNsec = 0): boolean {
    const seq = v.getUint32(OFF_SEQ, true);
    const end = v.getUint32(OFF_FLAGS, true) & FLAG_END;
    if (end === 0 && seq % ECHO_EVERY !== 0) return false;
    const e = this.#view, c = this.#clock;
    e.setUint32(OFF_SEQ, seq, true);
    e.setUint32(OFF_FLAGS, end, true);
    e.setUint32(OFF_TS_LO, v.getUint32(OFF_TS_LO, true), true);
    e.setUint32(OFF_TS_HI, v.getUint32(OFF_TS_HI, true), true);
    c.writeSinceBase(
      e,
      OFF_RECV_NS,
      _arrival(c, nowMs, kSec, kNsec) + this.#shiftNs,
    );
    // t3 is taken before the send: never later than the echo leaves.
    c.writeSinceBase(
      e,
      OFF_ECHO_NS,
      c.sinceBase(performance.now()) + this.#shiftNs,
    );
    this.count++;
    return true;
  }
}

/** The sender's side: the echoes of its children and their offsets. */
export class EchoBook {
  readonly peers: OffsetEstimator[];
  /** Echoes taken (from a child, of a datagram it knows). */
  echoes = 0;
  /** Echoes from no child of this sender, or of a datagram it has no send time of. */
  stray = 0;
  #clock: RealtimeClock;
  #shiftNs: number;
  /** A proxy's own forwarding times: per slot, seq + 1 (u32) then the time (u64). */
  #sent: DataView | null;

  /**
   * A book for `children` on `clock` (shifted by `shiftNs`). An origin's t1
   * is the echo's ts_ns (its own stamp); a proxy (`ownSendTimes`) keeps its
   * forwarding times, noted with {@link forwarded}.
   */
  constructor(
    children: number,
    clock: RealtimeClock,
    o: { shiftNs?: number; ownSendTimes?: boolean } = {},
  ) {
    this.peers = Array.from({ length: children }, () => new OffsetEstimator());
    this.#clock = clock;
    this.#shiftNs = o.shiftNs ?? 0;
    this.#sent = o.ownSendTimes
      ? new DataView(new ArrayBuffer((SENT_SLOTS + 1) * 12))
      : null;
  }

  /** A proxy notes that it forwards the datagram under `v` at monotonic `nowMs` (sampled ones only). */
  forwarded(v: DataView, nowMs: number): void {
    const t = this.#sent;
    if (t === null) return;
    const at = _slot(v);
    if (at < 0) return;
    t.setUint32(at, (v.getUint32(OFF_SEQ, true) + 1) >>> 0, true);
    const c = this.#clock;
    c.writeSinceBase(t, at + 4, c.sinceBase(nowMs) + this.#shiftNs);
  }

  /**
   * Takes the echo under `v` from child `j` (-1: from no child), arrived at
   * monotonic `nowMs` (or kernel time `kSec`/`kNsec` when `kSec` >= 0).
   */
  take(v: DataView, j: number, nowMs: number, kSec = -1, kNsec = 0): void {
    const est = j >= 0 ? this.peers[j] : undefined;
    if (est === undefined) {
      this.stray++;
      return;
    }
    const c = this.#clock;
    const t4 = _arrival(c, nowMs, kSec, kNsec) + this.#shiftNs;
    let t1: number;
    const t = this.#sent;
    if (t === null) {
      t1 = c.wireSinceBase(
        v.getUint32(OFF_TS_HI, true),
        v.getUint32(OFF_TS_LO, true),
      );
    } else {
      const seq = v.getUint32(OFF_SEQ, true);
      const at = _slot(v);
      if (at < 0 || t.getUint32(at, true) !== (seq + 1) >>> 0) {
        this.stray++;
        return;
      }
      t1 = c.wireSinceBase(
        t.getUint32(at + 8, true),
        t.getUint32(at + 4, true),
      );
    }
    const t2 = c.wireSinceBase(
      v.getUint32(OFF_RECV_NS + 4, true),
      v.getUint32(OFF_RECV_NS, true),
    );
    const t3 = c.wireSinceBase(
      v.getUint32(OFF_ECHO_NS + 4, true),
      v.getUint32(OFF_ECHO_NS, true),
    );
    this.echoes++;
    est.add(t1, t2, t3, t4);
  }

  /** Each child's offset, labelled with `to` (the children's addresses, in order). */
  report(to: readonly string[]): PeerOffset[] {
    return this.peers.map((p, j): PeerOffset => {
      const e = p.estimate();
      return {
        to: to[j] ?? "",
        offset_us: e?.offset_us ?? null,
        bound_us: e?.bound_us ?? null,
        rtt_us: e?.rtt_us ?? null,
        samples: e?.samples ?? 0,
      };
    });
  }
}

/**
 * Which child an echo came from, by its source address: the exact address,
 * else the port alone when one child has it (a child bound to a wildcard
 * may answer from another of its host's addresses).
 */
export class PeerIndex {
  #exact = new Map<string, number>();
  #port = new Map<number, number>();

  /** An index of `targets`, in the sender's order. */
  constructor(targets: readonly { hostname: string; port: number }[]) {
    targets.forEach((t, j) => {
      this.#exact.set(`${t.hostname}:${t.port}`, j);
      this.#port.set(t.port, this.#port.has(t.port) ? -1 : j);
    });
  }

  /** The child at `hostname`:`port`, or -1. */
  of(hostname: string, port: number): number {
    return this.#exact.get(`${hostname}:${port}`) ?? this.#port.get(port) ??
      -1;
  }
}
