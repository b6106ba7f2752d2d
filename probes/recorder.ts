/**
 * What a child (or a recording proxy) measures about the stream it receives:
 * sequence bookkeeping, one-way delays and the per-second series, and the
 * JSON fields they become; a child's per-message log (`messages.ts`) is fed
 * from here too, with the same delay.
 *
 * @module
 */
import { RealtimeClock } from "./clock.ts";
import type { MessageBook } from "./messages.ts";
import { type SeqBounds, SeqTracker } from "./seq.ts";
import {
  LatencyStats,
  type LatencySummary,
  type SeriesPoint,
} from "./stats.ts";
import { OFF_SEQ, OFF_TS_HI, OFF_TS_LO } from "./wire.ts";

/** The measurement fields of a child's (or recording proxy's) result line. */
export interface RecordReport {
  /** Distinct measured packets (not WARMUP, not END). */
  received: number;
  lost: number;
  duplicates: number;
  reordered: number;
  /** WARMUP packets seen. */
  warmup: number;
  end_seen: boolean;
  /** Most hops seen on a datagram. */
  hops: number;
  first_seq: number | null;
  last_seq: number | null;
  /** Delays below zero (clock offset between hosts), recorded as 0. */
  negative: number;
  latency_us: LatencySummary;
  series: SeriesPoint[];
  /** Seconds beyond the series cap, counted but not kept. */
  series_dropped: number;
  /** HdrHistogram of the delays in ns, compressed base64. */
  histogram: string;
}

/**
 * Records the packets of one stream. The delay of a packet is
 * `arrival - ts_ns + emu_ns` (see {@link RealtimeClock} for the arithmetic);
 * its second `t` counts from the first measured packet's arrival.
 */
export class DelayRecorder {
  #seq = new SeqTracker();
  #stats = new LatencyStats();
  #clock = new RealtimeClock();
  #first = -1;
  #t = 0;
  #hops = 0;
  #end = false;
  #shiftNs: number;
  #book: MessageBook | null;

  /**
   * A recorder whose arrival times read as shifted by `shiftNs` (an
   * emulated clock offset), noting every measured datagram's delay in
   * `book` too when given (`--messages`).
   */
  constructor(shiftNs = 0, book: MessageBook | null = null) {
    this.#shiftNs = shiftNs;
    this.#book = book;
  }

  /** The per-message log, if kept. */
  get book(): MessageBook | null {
    return this.#book;
  }

  /** What the stream showed of its seq range (for the per-message log). */
  get bounds(): SeqBounds {
    return this.#seq.bounds;
  }

  /** The realtime clock the delays are taken with. */
  get clock(): RealtimeClock {
    return this.#clock;
  }

  /** Whether END arrived. */
  get endSeen(): boolean {
    return this.#end;
  }

  /** Notes the hop count `h` of any datagram of the format. */
  noteHops(h: number): void {
    if (h > this.#hops) this.#hops = h;
  }

  /**
   * Records a measured packet that arrived at monotonic `nowMs`, with path
   * delay `emuNs`. With a kernel receive timestamp (`kSec` >= 0, realtime
   * seconds and nanoseconds) the delay is taken from it; `nowMs` then only
   * places the packet in the per-second series.
   */
  measured(
    view: DataView,
    nowMs: number,
    emuNs: number,
    kSec = -1,
    kNsec = 0,
  ): void {
    const seq = view.getUint32(OFF_SEQ, true);
    const fresh = this.#seq.accept(seq);
    // A duplicate is measured only for the per-message log (its smallest copy).
    if (!fresh && this.#book === null) return;
    if (fresh) {
      if (this.#first < 0) this.#first = nowMs;
      const t = Math.floor((nowMs - this.#first) / 1000);
      if (t !== this.#t) {
        this.#t = t;
        this.#clock.resync(); // once a second: follows a step of the realtime clock
      }
    }
    const c = this.#clock;
    const arrival = kSec < 0
      ? c.sinceBase(nowMs)
      : c.timespecSinceBase(kSec, kNsec);
    const delay = arrival -
      c.wireSinceBase(
        view.getUint32(OFF_TS_HI, true),
        view.getUint32(OFF_TS_LO, true),
      ) +
      emuNs + this.#shiftNs;
    this.#book?.note(seq, delay); // signed: the statistics clip it, not the log
    if (fresh) this.#stats.record(delay, this.#t);
  }

  /** Notes a WARMUP packet. */
  warmup(view: DataView): void {
    this.#seq.acceptWarmup(view.getUint32(OFF_SEQ, true));
  }

  /** Notes the END packet. */
  end(view: DataView): void {
    this.#end = true;
    this.#seq.end(view.getUint32(OFF_SEQ, true));
  }

  /** The fields for the result line. */
  report(): RecordReport {
    const s = this.#seq;
    return {
      received: s.received,
      lost: s.lost,
      duplicates: s.duplicates,
      reordered: s.reordered,
      warmup: s.warmup,
      end_seen: this.#end,
      hops: this.#hops,
      first_seq: s.firstSeq,
      last_seq: s.lastSeq,
      negative: this.#stats.negative,
      latency_us: this.#stats.summary(),
      series: this.#stats.series(),
      series_dropped: this.#stats.seriesDropped,
      histogram: this.#stats.encodedHistogram(),
    };
  }
}
