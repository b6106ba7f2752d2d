/**
 * A leaf's per-message log: for each measured message of a stream (by seq),
 * the one-way delay this receiver saw, in ns, or {@link NOT_RECEIVED}. The
 * child probe writes it (`treecast child --messages PATH`); the leaf's worker
 * reads it in parts and merges it upward with its siblings' (per-message
 * figures of the evaluation). It lives in core/ because both sides use it.
 *
 * File layout, all little-endian:
 *
 * | offset | size    | field                                              |
 * | -----: | ------: | -------------------------------------------------- |
 * |      0 |       4 | magic `TCML`                                       |
 * |      4 |       4 | u32 version (1)                                    |
 * |      8 |       4 | u32 firstSeq: the seq of the first entry           |
 * |     12 |       4 | u32 count: the number of entries                   |
 * |     16 | 4×count | i32 delay_ns per entry (seq = firstSeq + index)    |
 *
 * A delay is `arrival_ns - ts_ns + emu_ns` as the receiver measured it,
 * before any clock correction (so it may be negative), the smallest over the
 * copies it received, saturated to ±(2^31 − 1) ns.
 *
 * @module
 */

/** The delay entry of a message this receiver never got. */
export const NOT_RECEIVED = -2147483648;
/** The largest delay an entry holds, ns (about 2.1 s); larger ones saturate. */
export const MAX_DELAY_NS = 2147483647;
/** The size of the header, bytes. */
export const LOG_HEADER_BYTES = 16;
const MAGIC = 0x4c4d4354; // "TCML" little-endian
const VERSION = 1;

/** A per-message log, or a part of one. */
export interface MessageLog {
  /** The seq of `delaysNs[0]`. */
  firstSeq: number;
  /** Per message, its delay in ns or {@link NOT_RECEIVED}. */
  delaysNs: Int32Array;
}

/** A delay in ns as an entry: rounded, saturated, never the sentinel. */
export function delayEntry(ns: number): number {
  if (!(ns > -MAX_DELAY_NS)) return -MAX_DELAY_NS;
  if (ns > MAX_DELAY_NS) return MAX_DELAY_NS;
  return Math.round(ns);
}

/** The file's bytes for `log`. */
export function encodeMessageLog(log: MessageLog): Uint8Array {
  const n = log.delaysNs.length;
  const out = new Uint8Array(LOG_HEADER_BYTES + 4 * n);
  const v = new DataView(out.buffer);
  v.setUint32(0, MAGIC, true);
  v.setUint32(4, VERSION, true);
  v.setUint32(8, log.firstSeq >>> 0, true);
  v.setUint32(12, n, true);
  for (let i = 0; i < n; i++) {
    v.setInt32(LOG_HEADER_BYTES + 4 * i, log.delaysNs[i]!, true);
  }
  return out;
}

/** The header of a log file: its first seq and entry count; throws if malformed. */
export function decodeLogHeader(
  head: Uint8Array,
): { firstSeq: number; count: number } {
  if (head.length < LOG_HEADER_BYTES) {
    throw new Error("message log: shorter than its header");
  }
  const v = new DataView(head.buffer, head.byteOffset, LOG_HEADER_BYTES);
  if (v.getUint32(0, true) !== MAGIC) throw new Error("message log: bad magic");
  const version = v.getUint32(4, true);
  if (version !== VERSION) {
    throw new Error(`message log: version ${version}, expected ${VERSION}`);
  }
  return { firstSeq: v.getUint32(8, true), count: v.getUint32(12, true) };
}

/** A whole log from its bytes; throws if malformed or truncated. */
export function decodeMessageLog(bytes: Uint8Array): MessageLog {
  const { firstSeq, count } = decodeLogHeader(bytes);
  if (bytes.length !== LOG_HEADER_BYTES + 4 * count) {
    throw new Error(
      `message log: ${bytes.length} bytes for ${count} entries`,
    );
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const delaysNs = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    delaysNs[i] = v.getInt32(LOG_HEADER_BYTES + 4 * i, true);
  }
  return { firstSeq, delaysNs };
}

/**
 * Entries `[from, from + count)` of the log file at `path` (clipped to the
 * file's entries), read without loading the rest of the file.
 */
export async function readMessageLogPart(
  path: string,
  from: number,
  count: number,
): Promise<MessageLog> {
  const f = await Deno.open(path, { read: true });
  try {
    const head = new Uint8Array(LOG_HEADER_BYTES);
    await _readFull(f, head);
    const h = decodeLogHeader(head);
    const start = Math.min(Math.max(0, from), h.count);
    const n = Math.max(0, Math.min(count, h.count - start));
    const body = new Uint8Array(4 * n);
    await f.seek(LOG_HEADER_BYTES + 4 * start, Deno.SeekMode.Start);
    await _readFull(f, body);
    const v = new DataView(body.buffer);
    const delaysNs = new Int32Array(n);
    for (let i = 0; i < n; i++) delaysNs[i] = v.getInt32(4 * i, true);
    return { firstSeq: h.firstSeq + start, delaysNs };
  } finally {
    f.close();
  }
}

async function _readFull(f: Deno.FsFile, buf: Uint8Array): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const n = await f.read(buf.subarray(off));
    if (n === null) throw new Error("message log: truncated");
    off += n;
  }
}
