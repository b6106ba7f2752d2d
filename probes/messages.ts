/**
 * A child's per-message log (`treecast child --messages PATH`): the one-way
 * delay of every measured message of its stream, by seq, written at the end
 * of the stream in the format of `core/message_log.ts`.
 *
 * In memory it is one Int32Array indexed by seq from 0 (WARMUP packets
 * included: a stream numbers them first, `probes/WIRE.md`), so a datagram
 * costs one compare and one store, the smaller of its copies kept. Its size
 * is bounded: with the stream's rate known (`--rate`), it is allocated once
 * for `rate × duration` entries plus 1% and {@link SIZE_SLACK}; without, it
 * grows by doubling from {@link INITIAL_ENTRIES} as seqs come. Never beyond
 * `--messages-max` ({@link MESSAGES_MAX}) entries: datagrams with a seq
 * beyond the bound are counted (`dropped`), not stored.
 *
 * ## The range written
 * From `first` to `last`, both from what the stream showed (the same
 * evidence as `probes/seq.ts`'s `first_seq`/`last_seq`) and, when the child
 * was told the stream's shape (`--rate`, `--warmup`), from what its parent
 * sends (`round(rate × warmup)` WARMUP packets, then
 * `round(rate × (duration − warmup))` measured ones):
 * - `first`: the expected first measured seq, moved into what the stream
 *   showed (after the last WARMUP seen, at most the lowest measured seq or
 *   END's); without the shape, after the last WARMUP seen, else the lowest
 *   measured seq seen, else END's.
 * - `last`: one before END's seq when END came (or the highest measured seq
 *   if higher); else the highest measured seq seen or the expected last,
 *   whichever is higher (so a stream cut short, or never started, reads as
 *   not received up to its expected end).
 * So every leaf of one evaluation writes the same range whenever END
 * reached it or it was told the shape. A range beyond the bound is cut at
 * it; an unknown range (nothing seen, no shape) is written with count 0.
 *
 * @module
 */
import {
  delayEntry,
  encodeMessageLog,
  type MessageLog,
  NOT_RECEIVED,
} from "../core/message_log.ts";
import { MESSAGES_MAX } from "./defaults.ts";
import type { SeqBounds } from "./seq.ts";

/** Entries a log without a known rate starts with. */
export const INITIAL_ENTRIES = 4096;
/** Entries allocated beyond `rate × duration × 1.01`. */
export const SIZE_SLACK = 64;

/** What `--messages` and the flags describing the stream ask for. */
export interface MessageLogSpec {
  /** Where the log is written. */
  path: string;
  /** Entries kept at most (default {@link MESSAGES_MAX}). */
  max?: number;
  /** The stream's rate, packets per second (sizes the log, gives the expected range). */
  rate?: number;
  /** The stream's warm-up, s, part of the child's duration (with `rate`; default 0). */
  warmup?: number;
}

/** The `messages` field of a child's result line. */
export interface MessagesReport {
  path: string;
  /** The seq of the first entry. */
  first_seq: number;
  /** Entries written. */
  count: number;
  /** Measured datagrams whose seq was beyond the log's bound: counted, not stored. */
  dropped: number;
}

/** A seq range, `end` exclusive. */
interface Range {
  first: number;
  end: number;
}

/** The log `opts.messages` asks for, or null without one. */
export function messageBook(
  opts: { messages?: MessageLogSpec; duration: number },
): MessageBook | null {
  return opts.messages ? new MessageBook(opts.messages, opts.duration) : null;
}

/** Creates (or empties) the log file now, so that a path that cannot be written fails before the stream. */
export function prepareMessageLog(path: string): void {
  try {
    Deno.writeFileSync(path, new Uint8Array(0));
  } catch (e) {
    throw new Error(_cannot(path, e));
  }
}

/** The per-message delays of one stream; see the module doc. */
export class MessageBook {
  readonly path: string;
  #delays: Int32Array;
  /** Entries at most (seqs `[0, limit)`). */
  readonly limit: number;
  #expected: Range | null;
  #dropped = 0;

  /** A log as `spec` asks, for a child whose stream lasts `durationS` (warm-up included). */
  constructor(spec: MessageLogSpec, durationS: number) {
    this.path = spec.path;
    const max = spec.max ?? MESSAGES_MAX;
    if (spec.rate !== undefined) {
      const warm = spec.warmup ?? 0;
      const first = Math.round(spec.rate * warm);
      const n = Math.round(spec.rate * Math.max(0, durationS - warm));
      this.#expected = { first, end: first + n };
      const size = Math.ceil(spec.rate * durationS * 1.01) + SIZE_SLACK;
      this.limit = Math.min(max, size);
      this.#delays = _filled(this.limit);
    } else {
      this.#expected = null;
      this.limit = max;
      this.#delays = _filled(Math.min(max, INITIAL_ENTRIES));
    }
  }

  /** Datagrams beyond the bound so far. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Notes a measured datagram of `seq` with delay `delayNs` (signed); the hot path. */
  note(seq: number, delayNs: number): void {
    if (seq >= this.#delays.length && !this.#grow(seq)) {
      this.#dropped++;
      return;
    }
    const a = this.#delays;
    const d = delayEntry(delayNs);
    const old = a[seq]!;
    if (old === NOT_RECEIVED || d < old) a[seq] = d;
  }

  /** The log over the range the stream showed (`bounds`); see the module doc. */
  log(bounds: SeqBounds): MessageLog {
    const r = messageRange(bounds, this.#expected);
    if (r === null) return { firstSeq: 0, delaysNs: new Int32Array(0) };
    const end = Math.min(r.end, this.limit);
    if (end <= r.first) {
      return { firstSeq: r.first, delaysNs: new Int32Array(0) };
    }
    const a = this.#delays;
    if (end <= a.length) {
      return { firstSeq: r.first, delaysNs: a.subarray(r.first, end) };
    }
    const out = _filled(end - r.first);
    if (r.first < a.length) out.set(a.subarray(r.first));
    return { firstSeq: r.first, delaysNs: out };
  }

  /** Writes the log file for `bounds`; its report. Throws, naming the path, when it cannot. */
  write(bounds: SeqBounds): MessagesReport {
    const log = this.log(bounds);
    try {
      Deno.writeFileSync(this.path, encodeMessageLog(log));
    } catch (e) {
      throw new Error(_cannot(this.path, e));
    }
    return {
      path: this.path,
      first_seq: log.firstSeq,
      count: log.delaysNs.length,
      dropped: this.#dropped,
    };
  }

  /** Makes room for `seq` if the bound allows; false when beyond it. */
  #grow(seq: number): boolean {
    if (seq >= this.limit) return false;
    let n = this.#delays.length * 2;
    while (n <= seq) n *= 2;
    const a = _filled(Math.min(n, this.limit));
    a.set(this.#delays);
    this.#delays = a;
    return true;
  }
}

/**
 * The range a log covers, from what the stream showed and the expected
 * range (see the module doc); null when unknown.
 */
export function messageRange(
  b: SeqBounds,
  expected: Range | null,
): Range | null {
  const lo = b.warmupMax >= 0 ? b.warmupMax + 1 : 0;
  const hi = Math.min(
    b.measuredMin ?? Infinity,
    b.endSeq >= 0 ? b.endSeq : Infinity,
  );
  const guess = expected?.first ?? (b.warmupMax >= 0 ? lo : hi);
  if (guess === Infinity) return null;
  const first = Math.min(Math.max(guess, lo), hi);
  const seen = b.measuredMax ?? -1;
  const last = b.endSeq >= 0
    ? Math.max(b.endSeq - 1, seen)
    : Math.max(seen, expected !== null ? expected.end - 1 : -1);
  return { first, end: Math.max(first, last + 1) };
}

/** An array of `n` entries, all {@link NOT_RECEIVED}. */
function _filled(n: number): Int32Array {
  return new Int32Array(n).fill(NOT_RECEIVED);
}

function _cannot(path: string, e: unknown): string {
  return `Cannot write the message log "${path}": ${(e as Error).message}`;
}
