/**
 * A parent's stream, whatever sends it (the Deno backend in `parent.ts`, the
 * native one in `native/send.ts`): the schedule (packet `i` due at
 * `start + i / rate`, WARMUP first, then the measured packets, then END),
 * the header of each packet, the lateness log and the result line.
 *
 * @module
 */
import type { RealtimeClock } from "./clock.ts";
import type { EchoBook } from "./echo.ts";
import { HISTOGRAM_MAX_NS, LATE_THRESHOLD_US } from "./defaults.ts";
import type { IoKind } from "./io.ts";
import type { ParentOptions, ParentResult } from "./roles.ts";
import { histogramPercentiles, newHistogram } from "./stats.ts";
import {
  FLAG_END,
  FLAG_WARMUP,
  HEADER_BYTES,
  OFF_FLAGS,
  OFF_SEQ,
  OFF_TS_LO,
} from "./wire.ts";

/** The schedule and bookkeeping of one parent stream. */
export class SendLog {
  /** Datagram size, bytes. */
  readonly size: number;
  /** WARMUP packets. */
  readonly nWarm: number;
  /** Index of END: WARMUP + measured packets. */
  readonly total: number;
  /** Gap between two due times, ms. */
  readonly period: number;
  #opts: ParentOptions;
  #lateness = newHistogram();
  #late = 0;
  #worst = 0;
  /** Datagrams sent to each child. */
  sent = 0;
  /** Sends that failed (all children counted). */
  errors = 0;

  /** The schedule of `opts`. */
  constructor(opts: ParentOptions) {
    this.#opts = opts;
    this.size = Math.max(HEADER_BYTES, opts.size ?? HEADER_BYTES);
    this.period = 1000 / opts.rate;
    this.nWarm = Math.round(opts.rate * (opts.warmup ?? 0));
    this.total = this.nWarm + Math.round(opts.rate * opts.duration);
  }

  /**
   * Writes packet `i`'s header into `view` (END when `i` is {@link total}
   * or `end` is set), stamped with the realtime clock at monotonic `nowMs`.
   */
  stamp(
    view: DataView,
    i: number,
    clock: RealtimeClock,
    nowMs: number,
    end = false,
  ): void {
    view.setUint32(OFF_SEQ, i, true);
    view.setUint32(
      OFF_FLAGS,
      end || i === this.total ? FLAG_END : i < this.nWarm ? FLAG_WARMUP : 0,
      true,
    );
    clock.writeNs(view, OFF_TS_LO, nowMs);
  }

  /** Records a scheduled packet sent `lagMs` after its due time. */
  lag(lagMs: number): void {
    this.#lateness.recordValue(
      Math.round(Math.min(Math.max(lagMs, 0) * 1e6, HISTOGRAM_MAX_NS)),
    );
    if (lagMs * 1000 > LATE_THRESHOLD_US) this.#late++;
    if (lagMs > this.#worst) this.#worst = lagMs;
  }

  /** The result line. */
  result(
    o: {
      children: number;
      interrupted: boolean;
      elapsedMs: number;
      io: IoKind;
      /** The children's echoes, and their addresses as given (`--to`). */
      echoes: EchoBook;
      to: readonly string[];
    },
  ): ParentResult {
    const lateness = this.#lateness, worst = this.#worst * 1e6;
    const scheduled = lateness.totalCount;
    const [p50, p99] = histogramPercentiles(lateness, [50, 99]);
    return {
      sent: this.sent,
      children: o.children,
      late_share: scheduled ? this.#late / scheduled : 0,
      lateness_us: scheduled
        ? {
          p50: _us(Math.min(p50!, worst)),
          p99: _us(Math.min(p99!, worst)),
          max: _us(worst),
        }
        : { p50: null, p99: null, max: null },
      rate: this.#opts.rate,
      duration: this.#opts.duration,
      warmup: this.nWarm,
      size: this.size,
      send_errors: this.errors,
      stop: o.interrupted ? "interrupted" : "end",
      elapsed_s: Math.round(o.elapsedMs) / 1000,
      io: o.io,
      timestamps: "user",
      echoes: o.echoes.echoes,
      stray_echoes: o.echoes.stray,
      peers: o.echoes.report(o.to),
    };
  }
}

function _us(ns: number): number {
  return Math.round(ns) / 1000;
}
