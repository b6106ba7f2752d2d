/**
 * The probe datagram: a 24-byte little-endian header (`probes/WIRE.md`).
 *
 * | offset | size | field    |
 * |-------:|-----:|----------|
 * | 0      | 4    | seq      |
 * | 4      | 4    | flags (bit 0 END, bit 1 WARMUP) |
 * | 8      | 8    | ts_ns (realtime send time at the stream's origin) |
 * | 16     | 4    | emu_ns (emulated delay accumulated on the path) |
 * | 20     | 2    | hops (proxies traversed) |
 * | 22     | 2    | kind: 0 a stream datagram, 1 an echo |
 *
 * An echo ({@link KIND_ECHO}, {@link ECHO_BYTES} long) goes from a receiver
 * back to the node that sent it a sampled stream datagram: the datagram's
 * seq and ts_ns, then the receiver's arrival time and the echo's send time
 * (`probes/WIRE.md`). A stream receiver never takes one as stream data
 * ({@link isProbeDatagram} refuses every kind but 0, as the old format's
 * `reserved` check did). Bytes after the header are padding, ignored. The object codec
 * ({@link encodeHeader}, {@link decodeHeader}) is for tests and tools; the
 * probes' hot paths read and write the offsets below through a `DataView`
 * over a reused buffer, without allocating.
 *
 * @module
 */

/** Size of the header; a datagram may be longer (padding). */
export const HEADER_BYTES = 24;
/** Flag: last packet of the stream. */
export const FLAG_END = 1;
/** Flag: warm-up packet, not counted in statistics. */
export const FLAG_WARMUP = 2;
/** Bits a valid datagram may set in `flags`. */
export const KNOWN_FLAGS = FLAG_END | FLAG_WARMUP;

/** Offset of `seq` (u32). */
export const OFF_SEQ = 0;
/** Offset of `flags` (u32). */
export const OFF_FLAGS = 4;
/** Offset of the low 32 bits of `ts_ns`. */
export const OFF_TS_LO = 8;
/** Offset of the high 32 bits of `ts_ns`. */
export const OFF_TS_HI = 12;
/** Offset of `emu_ns` (u32). */
export const OFF_EMU = 16;
/** Offset of `hops` (u16). */
export const OFF_HOPS = 20;
/** Offset of `kind` (u16; `reserved`, always 0, before echoes existed). */
export const OFF_KIND = 22;
/** Kind of a stream datagram. */
export const KIND_STREAM = 0;
/** Kind of an echo. */
export const KIND_ECHO = 1;
/** Size of an echo. */
export const ECHO_BYTES = 40;
/** Offset of an echo's `recv_ns`: the receiver's arrival time (u64). */
export const OFF_RECV_NS = 24;
/** Offset of an echo's `echo_ns`: the receiver's send time of the echo (u64). */
export const OFF_ECHO_NS = 32;

/** Largest `emu_ns`; sums saturate here. */
export const MAX_EMU_NS = 0xffff_ffff;
/** Largest `hops`; a forwarder saturates here. */
export const MAX_HOPS = 0xffff;

/** One decoded header. */
export interface ProbeHeader {
  seq: number;
  flags: number;
  /** Nanoseconds since the Unix epoch (a u64, hence a bigint). */
  tsNs: bigint;
  emuNs: number;
  hops: number;
}

/** One decoded echo. */
export interface EchoDatagram {
  /** The echoed stream datagram's seq and ts_ns, and whether it was END. */
  seq: number;
  tsNs: bigint;
  end: boolean;
  /** The receiver's arrival time of it, and its send time of the echo (its realtime clock, ns). */
  recvNs: bigint;
  echoNs: bigint;
}

/** A datagram that is not of the probe format. */
export class WireError extends Error {
  override name = "WireError";
}

/**
 * Whether the first `length` bytes under `view` are a stream datagram: at
 * least {@link HEADER_BYTES} long, no unknown flag, kind 0.
 * Allocation-free, for the receive loops.
 */
export function isProbeDatagram(view: DataView, length: number): boolean {
  return length >= HEADER_BYTES &&
    (view.getUint32(OFF_FLAGS, true) & ~KNOWN_FLAGS) === 0 &&
    view.getUint16(OFF_KIND, true) === KIND_STREAM;
}

/** Whether the first `length` bytes under `view` are an echo (allocation-free). */
export function isEchoDatagram(view: DataView, length: number): boolean {
  return length >= ECHO_BYTES &&
    (view.getUint32(OFF_FLAGS, true) & ~FLAG_END) === 0 &&
    view.getUint16(OFF_KIND, true) === KIND_ECHO;
}

/** Encodes an echo into a new {@link ECHO_BYTES}-byte array. */
export function encodeEcho(e: EchoDatagram): Uint8Array {
  _checkUint("seq", e.seq, 0xffff_ffff);
  const out = new Uint8Array(ECHO_BYTES);
  const v = new DataView(out.buffer);
  v.setUint32(OFF_SEQ, e.seq, true);
  v.setUint32(OFF_FLAGS, e.end ? FLAG_END : 0, true);
  v.setBigUint64(OFF_TS_LO, _u64("tsNs", e.tsNs), true);
  v.setUint16(OFF_KIND, KIND_ECHO, true);
  v.setBigUint64(OFF_RECV_NS, _u64("recvNs", e.recvNs), true);
  v.setBigUint64(OFF_ECHO_NS, _u64("echoNs", e.echoNs), true);
  return out;
}

/** Decodes an echo; throws {@link WireError} if it is not one. */
export function decodeEcho(bytes: Uint8Array): EchoDatagram {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  if (!isEchoDatagram(v, bytes.length)) {
    throw new WireError(
      `Not an echo: an echo has ${ECHO_BYTES} bytes, no flag but END and ` +
        `kind ${KIND_ECHO}`,
    );
  }
  return {
    seq: v.getUint32(OFF_SEQ, true),
    tsNs: v.getBigUint64(OFF_TS_LO, true),
    end: (v.getUint32(OFF_FLAGS, true) & FLAG_END) !== 0,
    recvNs: v.getBigUint64(OFF_RECV_NS, true),
    echoNs: v.getBigUint64(OFF_ECHO_NS, true),
  };
}

/** Encodes `h` into a new {@link HEADER_BYTES}-byte array (or into `out`, which may be longer). */
export function encodeHeader(
  h: ProbeHeader,
  out: Uint8Array = new Uint8Array(HEADER_BYTES),
): Uint8Array {
  if (out.length < HEADER_BYTES) {
    throw new RangeError(
      `A probe header needs ${HEADER_BYTES} bytes, got ${out.length}`,
    );
  }
  _checkUint("seq", h.seq, 0xffff_ffff);
  _checkUint("flags", h.flags, KNOWN_FLAGS);
  _checkUint("emuNs", h.emuNs, MAX_EMU_NS);
  _checkUint("hops", h.hops, MAX_HOPS);
  _u64("tsNs", h.tsNs);
  const v = new DataView(out.buffer, out.byteOffset, HEADER_BYTES);
  v.setUint32(OFF_SEQ, h.seq, true);
  v.setUint32(OFF_FLAGS, h.flags, true);
  v.setBigUint64(OFF_TS_LO, h.tsNs, true);
  v.setUint32(OFF_EMU, h.emuNs, true);
  v.setUint16(OFF_HOPS, h.hops, true);
  v.setUint16(OFF_KIND, KIND_STREAM, true);
  return out;
}

/** Decodes a datagram's header; throws {@link WireError} if it is not of the format. */
export function decodeHeader(bytes: Uint8Array): ProbeHeader {
  if (bytes.length < HEADER_BYTES) {
    throw new WireError(
      `A probe datagram has at least ${HEADER_BYTES} bytes, got ${bytes.length}`,
    );
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const flags = v.getUint32(OFF_FLAGS, true);
  if ((flags & ~KNOWN_FLAGS) !== 0) {
    throw new WireError(
      `Unknown flags 0x${flags.toString(16)} in a probe datagram`,
    );
  }
  const kind = v.getUint16(OFF_KIND, true);
  if (kind !== KIND_STREAM) {
    throw new WireError(
      kind === KIND_ECHO
        ? "An echo is not a stream datagram"
        : `Unknown kind ${kind}, not 0, in a probe datagram`,
    );
  }
  return {
    seq: v.getUint32(OFF_SEQ, true),
    flags,
    tsNs: v.getBigUint64(OFF_TS_LO, true),
    emuNs: v.getUint32(OFF_EMU, true),
    hops: v.getUint16(OFF_HOPS, true),
  };
}

function _u64(name: string, n: bigint): bigint {
  if (n < 0n || n > 0xffff_ffff_ffff_ffffn) {
    throw new RangeError(`"${name}" must be a u64, got ${n}`);
  }
  return n;
}

function _checkUint(name: string, n: number, max: number): void {
  if (!Number.isInteger(n) || n < 0 || n > max) {
    throw new RangeError(`"${name}" must be an integer in 0..${max}, got ${n}`);
  }
}
