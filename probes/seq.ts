/**
 * Loss, duplicates and reordering from sequence numbers, in bounded memory.
 *
 * Definitions (measured packets only: not WARMUP, not END):
 * - **received**: distinct sequence numbers accepted (a duplicate is not
 *   received twice).
 * - **duplicates**: datagrams whose sequence number was already accepted,
 *   detected within the last {@link SEQ_WINDOW} numbers below the highest
 *   seen; an older one cannot be told apart and is counted as reordered.
 * - **reordered**: datagrams accepted after one with a higher number.
 * - **lost**: the numbers in the stream's range never received:
 *   `last - first + 1 - received`, where the range starts after the last
 *   WARMUP packet seen (or, without warm-up, at the first number seen: loss
 *   before the first packet that arrived is unknowable), and ends before the
 *   END packet when one arrived (so a lost tail counts) or else at the
 *   highest number seen.
 *
 * Sequence numbers are u32 and assumed not to wrap (2^32 packets is 5 days
 * at 10k pps).
 *
 * @module
 */
import { SEQ_WINDOW } from "./defaults.ts";

const MASK = SEQ_WINDOW - 1;

/** What a stream showed of its range (-1 or null: not seen). */
export interface SeqBounds {
  /** The highest WARMUP seq. */
  warmupMax: number;
  /** The lowest and highest measured seq. */
  measuredMin: number | null;
  measuredMax: number | null;
  /** END's seq. */
  endSeq: number;
}

/** Per-stream sequence bookkeeping; see the module doc. */
export class SeqTracker {
  #bits = new Uint32Array(SEQ_WINDOW / 32);
  #started = false;
  #first = 0;
  #max = 0;
  #warmupMax = -1;
  #endSeq = -1;
  #received = 0;
  #duplicates = 0;
  #reordered = 0;
  #warmup = 0;

  /** Distinct measured packets accepted. */
  get received(): number {
    return this.#received;
  }
  /** Measured datagrams already accepted before. */
  get duplicates(): number {
    return this.#duplicates;
  }
  /** Measured datagrams accepted after a higher number. */
  get reordered(): number {
    return this.#reordered;
  }
  /** WARMUP datagrams seen. */
  get warmup(): number {
    return this.#warmup;
  }

  /** Notes a measured packet; true if it is new (to be recorded), false for a duplicate. */
  accept(seq: number): boolean {
    if (!this.#started) {
      this.#started = true;
      this.#first = this.#max = seq;
      this.#set(seq);
      this.#received++;
      return true;
    }
    if (seq > this.#max) {
      const gap = seq - this.#max;
      if (gap >= SEQ_WINDOW) this.#bits.fill(0);
      else for (let s = this.#max + 1; s < seq; s++) this.#clear(s);
      this.#set(seq);
      this.#max = seq;
      this.#received++;
      return true;
    }
    if (this.#max - seq < SEQ_WINDOW && this.#has(seq)) {
      this.#duplicates++;
      return false;
    }
    if (this.#max - seq < SEQ_WINDOW) this.#set(seq);
    if (seq < this.#first) this.#first = seq;
    this.#reordered++;
    this.#received++;
    return true;
  }

  /** Notes a WARMUP packet. */
  acceptWarmup(seq: number): void {
    this.#warmup++;
    if (seq > this.#warmupMax) this.#warmupMax = seq;
  }

  /** Notes the END packet's number (the first after the last measured packet). */
  end(seq: number): void {
    if (this.#endSeq < 0) this.#endSeq = seq;
  }

  /** First number of the stream's measured range, or null when unknown. */
  get firstSeq(): number | null {
    const afterWarmup = this.#warmupMax >= 0 ? this.#warmupMax + 1 : null;
    if (!this.#started) {
      return afterWarmup ?? (this.#endSeq >= 0 ? this.#endSeq : null);
    }
    return afterWarmup === null
      ? this.#first
      : Math.min(afterWarmup, this.#first);
  }

  /** Last number of the stream's measured range, or null when unknown. */
  get lastSeq(): number | null {
    const beforeEnd = this.#endSeq >= 0 ? this.#endSeq - 1 : null;
    if (!this.#started) return beforeEnd;
    return beforeEnd === null ? this.#max : Math.max(beforeEnd, this.#max);
  }

  /** The evidence {@link firstSeq} and {@link lastSeq} come from. */
  get bounds(): SeqBounds {
    return {
      warmupMax: this.#warmupMax,
      measuredMin: this.#started ? this.#first : null,
      measuredMax: this.#started ? this.#max : null,
      endSeq: this.#endSeq,
    };
  }

  /** Measured packets of the range never received. */
  get lost(): number {
    const first = this.firstSeq, last = this.lastSeq;
    if (first === null || last === null || last < first) return 0;
    return Math.max(0, last - first + 1 - this.#received);
  }

  #set(s: number): void {
    const i = s & MASK;
    this.#bits[i >>> 5]! |= 1 << (i & 31);
  }
  #clear(s: number): void {
    const i = s & MASK;
    this.#bits[i >>> 5]! &= ~(1 << (i & 31));
  }
  #has(s: number): boolean {
    const i = s & MASK;
    return (this.#bits[i >>> 5]! & (1 << (i & 31))) !== 0;
  }
}
