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
 * | 22     | 2    | reserved, 0 |
 *
 * Bytes after the header are padding, ignored. The object codec
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
/** Offset of `reserved` (u16, 0). */
export const OFF_RESERVED = 22;

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

/** A datagram that is not of the probe format. */
export class WireError extends Error {
  override name = "WireError";
}

/**
 * Whether the first `length` bytes under `view` are a probe datagram:
 * at least {@link HEADER_BYTES} long, no unknown flag, reserved 0.
 * Allocation-free, for the receive loops.
 */
export function isProbeDatagram(view: DataView, length: number): boolean {
  return length >= HEADER_BYTES &&
    (view.getUint32(OFF_FLAGS, true) & ~KNOWN_FLAGS) === 0 &&
    view.getUint16(OFF_RESERVED, true) === 0;
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
  if (h.tsNs < 0n || h.tsNs > 0xffff_ffff_ffff_ffffn) {
    throw new RangeError(`"tsNs" must be a u64, got ${h.tsNs}`);
  }
  const v = new DataView(out.buffer, out.byteOffset, HEADER_BYTES);
  v.setUint32(OFF_SEQ, h.seq, true);
  v.setUint32(OFF_FLAGS, h.flags, true);
  v.setBigUint64(OFF_TS_LO, h.tsNs, true);
  v.setUint32(OFF_EMU, h.emuNs, true);
  v.setUint16(OFF_HOPS, h.hops, true);
  v.setUint16(OFF_RESERVED, 0, true);
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
  const reserved = v.getUint16(OFF_RESERVED, true);
  if (reserved !== 0) {
    throw new WireError(
      `Reserved field is ${reserved}, not 0, in a probe datagram`,
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

function _checkUint(name: string, n: number, max: number): void {
  if (!Number.isInteger(n) || n < 0 || n > max) {
    throw new RangeError(`"${name}" must be an integer in 0..${max}, got ${n}`);
  }
}
