/**
 * Per-message figures of a subtree, in parts: for each message (by seq) the
 * worst and best one-way delay over the receivers below a node, and how many
 * of them got it; per window of W messages, the largest of the receivers'
 * per-window percentile (for an adaptive hold-and-release deadline). A leaf
 * builds its part from its message log (`core/message_log.ts`); each proxy
 * merges its children's parts into its subtree's and sends that up, so a
 * part's size depends on the part's messages, never on the tree's size.
 *
 * Seqs are absolute: part k covers seqs `[k·S, (k+1)·S)` and window j covers
 * `[j·W, (j+1)·W)`, S a multiple of W, so windows never straddle parts. A
 * part's arrays cover `[firstSeq, firstSeq + count)`, the part's seqs that
 * some leaf below logged. Pure: no I/O.
 *
 * @module
 */
import { nearestRank } from "./quantile.ts";
import { delayEntry, type MessageLog, NOT_RECEIVED } from "./message_log.ts";
import type { MessagePartWire } from "../proto/codec.ts";

export { NOT_RECEIVED };

/** The most messages one part holds (10 bytes each, plus its windows). */
export const MAX_PART_MESSAGES = 32_768;
/** The most receivers a part counts below one node (`receivers` is u16). */
export const MAX_LEAVES = 65_535;
/** The most addresses a part names in `missing` or `uncorrected`. */
export const MAX_NAMED = 1024;

/** A subtree's per-message figures for one part of the stream. */
export interface MessagePart {
  /** The seq of entry 0. */
  firstSeq: number;
  /** Per message: the largest delay below, ns, or NOT_RECEIVED if none got it. */
  worstNs: Int32Array;
  /** Per message: the smallest delay below, ns, or NOT_RECEIVED. */
  bestNs: Int32Array;
  /** Per message: how many receivers below got it. */
  receivers: Uint16Array;
  /** Receivers expected below (missing ones included). */
  leaves: number;
  /** Messages per window (W). */
  window: number;
  /**
   * Per window from `floor(firstSeq / W)` to the last window with an entry:
   * the largest over the receivers below of each one's percentile of its
   * delays in that window, ns (NOT_RECEIVED: no receiver below got any).
   */
  windowMaxNs: Int32Array;
  /** The largest sum of offset bounds along a path below, ns (0 uncorrected). */
  boundNs: number;
  /** Workers below whose data never came: their leaves did not receive. */
  missing: string[];
  /** Workers below whose clock offset was unknown: not corrected at that hop. */
  uncorrected: string[];
  /** The stream's extent as the logs below know it: smallest first seq. */
  startSeq: number;
  /** ... and the largest end seq (one past the last logged message). */
  endSeq: number;
}

/** The window index of the first and past-the-last window of a range. */
export function windowSpan(
  firstSeq: number,
  count: number,
  window: number,
): [number, number] {
  if (count === 0) return [0, 0];
  return [
    Math.floor(firstSeq / window),
    Math.ceil((firstSeq + count) / window),
  ];
}

/**
 * A leaf's part: `log` holds the entries of its log within the part (read
 * by the worker); `extent` is the whole log's `[firstSeq, endSeq)`.
 */
export function leafPart(
  log: MessageLog,
  window: number,
  pct: number,
  extent: { startSeq: number; endSeq: number },
): MessagePart {
  const n = log.delaysNs.length;
  const receivers = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    receivers[i] = log.delaysNs[i] === NOT_RECEIVED ? 0 : 1;
  }
  const [w0, w1] = windowSpan(log.firstSeq, n, window);
  const windowMaxNs = new Int32Array(w1 - w0);
  const got = new Int32Array(window);
  for (let w = w0; w < w1; w++) {
    let k = 0;
    const lo = Math.max(0, w * window - log.firstSeq);
    const hi = Math.min(n, (w + 1) * window - log.firstSeq);
    for (let i = lo; i < hi; i++) {
      const d = log.delaysNs[i]!;
      if (d !== NOT_RECEIVED) got[k++] = d;
    }
    // A typed array sorts numerically.
    windowMaxNs[w - w0] = k === 0
      ? NOT_RECEIVED
      : got.subarray(0, k).sort()[nearestRank(pct, k) - 1]!;
  }
  return {
    firstSeq: log.firstSeq,
    worstNs: log.delaysNs.slice(),
    bestNs: log.delaysNs.slice(),
    receivers,
    leaves: 1,
    window,
    windowMaxNs,
    boundNs: 0,
    missing: [],
    uncorrected: [],
    startSeq: extent.startSeq,
    endSeq: extent.endSeq,
  };
}

/** A child's answer to a part request, as its parent's worker merges it. */
export type ChildPart =
  | {
    /** The child's control address (named when uncorrected). */
    addr: string;
    part: MessagePart;
    /** The child's clock minus this node's, ns (undefined: unknown). */
    offsetNs?: number;
    /** The offset's error bound, ns. */
    boundNs?: number;
  }
  | {
    /** A child whose data never came. */
    addr: string;
    /** The receivers below it (1 when unknown). */
    lostLeaves: number;
  };

/**
 * Merges children's parts into this node's: per message the worst and best
 * over the children (each minus its offset when `correct`), the receivers
 * summed; per window the largest. `firstSeq` places an empty part.
 */
export function mergeParts(
  children: readonly ChildPart[],
  opts: { correct: boolean; window: number; firstSeq: number },
): MessagePart {
  const got = children.filter((c) => "part" in c);
  const W = opts.window;
  let lo = Infinity, hi = -Infinity, start = Infinity, end = -Infinity;
  for (const c of got) {
    const p = c.part;
    if (p.window !== W) {
      throw new Error(`Part of "${c.addr}" has window ${p.window}, not ${W}`);
    }
    if (p.worstNs.length > 0) {
      lo = Math.min(lo, p.firstSeq);
      hi = Math.max(hi, p.firstSeq + p.worstNs.length);
    }
    if (p.endSeq > p.startSeq) {
      start = Math.min(start, p.startSeq);
      end = Math.max(end, p.endSeq);
    }
  }
  const firstSeq = lo === Infinity ? opts.firstSeq : lo;
  const n = lo === Infinity ? 0 : hi - lo;
  const worstNs = new Int32Array(n).fill(NOT_RECEIVED);
  const bestNs = new Int32Array(n).fill(NOT_RECEIVED);
  const receivers = new Uint16Array(n);
  const [w0, w1] = windowSpan(firstSeq, n, W);
  const windowMaxNs = new Int32Array(w1 - w0).fill(NOT_RECEIVED);
  const out: MessagePart = {
    firstSeq,
    worstNs,
    bestNs,
    receivers,
    leaves: 0,
    window: W,
    windowMaxNs,
    boundNs: 0,
    missing: [],
    uncorrected: [],
    startSeq: start === Infinity ? 0 : start,
    endSeq: end === -Infinity ? 0 : end,
  };
  for (const c of children) {
    if (!("part" in c)) {
      out.leaves += c.lostLeaves;
      _name(out.missing, [c.addr]);
      continue;
    }
    const p = c.part;
    out.leaves += p.leaves;
    _name(out.missing, p.missing);
    _name(out.uncorrected, p.uncorrected);
    let off = 0;
    if (opts.correct) {
      if (c.offsetNs === undefined) _name(out.uncorrected, [c.addr]);
      else off = c.offsetNs;
      out.boundNs = Math.max(out.boundNs, p.boundNs + (c.boundNs ?? 0));
    }
    const shift = p.firstSeq - firstSeq;
    for (let i = 0; i < p.worstNs.length; i++) {
      const r = p.receivers[i]!;
      if (r === 0) continue;
      const j = i + shift;
      const worst = delayEntry(p.worstNs[i]! - off);
      const best = delayEntry(p.bestNs[i]! - off);
      if (receivers[j] === 0 || worst > worstNs[j]!) worstNs[j] = worst;
      if (receivers[j] === 0 || best < bestNs[j]!) bestNs[j] = best;
      receivers[j] = Math.min(MAX_LEAVES, receivers[j]! + r);
    }
    const wShift = windowSpan(p.firstSeq, p.worstNs.length, W)[0] - w0;
    for (let i = 0; i < p.windowMaxNs.length; i++) {
      const v = p.windowMaxNs[i]!;
      if (v === NOT_RECEIVED) continue;
      const m = delayEntry(v - off);
      const j = i + wShift;
      if (windowMaxNs[j] === NOT_RECEIVED || m > windowMaxNs[j]!) {
        windowMaxNs[j] = m;
      }
    }
  }
  out.leaves = Math.min(MAX_LEAVES, out.leaves);
  return out;
}

function _name(into: string[], names: readonly string[]): void {
  for (const n of names) {
    if (into.length >= MAX_NAMED) return;
    into.push(n);
  }
}

/** Typed arrays are little-endian on this host (a copy is then the wire form). */
const LITTLE = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/**
 * The little-endian bytes of `a` (a fresh copy); `little`: whether the
 * host's typed arrays are (a parameter for the tests of the other path).
 */
export function toLittle(
  a: Int32Array | Uint16Array,
  little = LITTLE,
): Uint8Array {
  if (little) return new Uint8Array(a.slice().buffer);
  const v = new DataView(new ArrayBuffer(a.byteLength));
  const w = a.BYTES_PER_ELEMENT;
  a.forEach((x, i) =>
    w === 4 ? v.setInt32(4 * i, x, true) : v.setUint16(2 * i, x, true)
  );
  return new Uint8Array(v.buffer);
}

/** The entries of little-endian bytes `b`, copied into a typed array of `kind`. */
export function fromLittle<K extends "i32" | "u16">(
  b: Uint8Array,
  kind: K,
  little = LITTLE,
): K extends "i32" ? Int32Array : Uint16Array {
  type T = K extends "i32" ? Int32Array : Uint16Array;
  const make = (x: ArrayBuffer | number) =>
    (kind === "i32"
      ? new Int32Array(x as ArrayBuffer)
      : new Uint16Array(x as ArrayBuffer)) as T;
  if (little) return make(b.slice().buffer); // slice: aligned, owned
  const width = kind === "i32" ? 4 : 2;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out = make(b.byteLength / width);
  for (let i = 0; i < out.length; i++) {
    out[i] = width === 4 ? v.getInt32(4 * i, true) : v.getUint16(2 * i, true);
  }
  return out;
}

/** A part as its protobuf message carries it (little-endian arrays in bytes). */
export function partToWire(p: MessagePart): MessagePartWire {
  return {
    firstSeq: p.firstSeq,
    count: p.worstNs.length,
    worstNs: toLittle(p.worstNs),
    bestNs: toLittle(p.bestNs),
    receivers: toLittle(p.receivers),
    leaves: p.leaves,
    window: p.window,
    windowMaxNs: toLittle(p.windowMaxNs),
    boundNs: p.boundNs,
    missing: p.missing,
    uncorrected: p.uncorrected,
    startSeq: p.startSeq,
    endSeq: p.endSeq,
  };
}

/** A part from its protobuf message (sizes already checked by the codec). */
export function partFromWire(w: MessagePartWire): MessagePart {
  return {
    firstSeq: w.firstSeq,
    worstNs: fromLittle(w.worstNs, "i32"),
    bestNs: fromLittle(w.bestNs, "i32"),
    receivers: fromLittle(w.receivers, "u16"),
    leaves: w.leaves,
    window: w.window,
    windowMaxNs: fromLittle(w.windowMaxNs, "i32"),
    boundNs: w.boundNs,
    missing: [...w.missing],
    uncorrected: [...w.uncorrected],
    startSeq: w.startSeq,
    endSeq: w.endSeq,
  };
}
