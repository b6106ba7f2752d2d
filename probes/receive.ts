/**
 * What a child and a proxy do with each datagram, whatever brought it in
 * (the Deno backend in `child.ts` / `proxy.ts`, the native one in
 * `native/receive.ts`): format check, the stream's stop bookkeeping,
 * emulation, header patching for forwarding, the recorder, and the result
 * line. No I/O here.
 *
 * @module
 */
import { RealtimeClock } from "./clock.ts";
import { EchoBook, EchoReply } from "./echo.ts";
import { type EmulationParams, Emulator } from "./emulate.ts";
import type { IoKind, TimestampKind } from "./io.ts";
import type { MessageBook, MessagesReport } from "./messages.ts";
import { DelayRecorder } from "./recorder.ts";
import { SEQ_WINDOW } from "./defaults.ts";
import { SeqTracker } from "./seq.ts";
import type { ChildResult, ProxyResult } from "./roles.ts";
import type { StopReason, StreamTimer } from "./watch.ts";
import {
  FLAG_END,
  FLAG_WARMUP,
  isProbeDatagram,
  MAX_EMU_NS,
  MAX_HOPS,
  OFF_EMU,
  OFF_FLAGS,
  OFF_HOPS,
  OFF_SEQ,
} from "./wire.ts";

/** How a receiver ended and how it measured: the head of its result line. */
export interface ReceiveOutcome {
  bind: string;
  stop: StopReason;
  failure: string | null;
  io: IoKind;
  timestamps: TimestampKind;
}

/** The emulated clock offset of `emulate`, ns (0 without). */
function _shiftNs(emulate: EmulationParams | null): number {
  return Math.round((emulate?.offset_us ?? 0) * 1000);
}

/** A child's handling of each datagram. */
export class ChildCore {
  readonly rec: DelayRecorder;
  readonly timer: StreamTimer;
  readonly emulated: EmulationParams | null;
  /** The echo to send back to the datagram's source when {@link echoReady}. */
  readonly echo: EchoReply;
  /** Set by {@link take} when {@link echo} holds an echo to send; the backend clears it. */
  echoReady = false;
  #emu: Emulator | null;
  malformed = 0;
  dropped = 0;
  /** Datagrams from a source `--from` does not admit (counted by the backend, `sources.ts`). */
  foreign = 0;

  /**
   * A core stopping through `timer`, emulating `emulate` when given, keeping
   * the per-message log `messages` when given (`--messages`).
   */
  constructor(
    timer: StreamTimer,
    emulate: EmulationParams | null,
    messages: MessageBook | null = null,
  ) {
    this.timer = timer;
    this.emulated = emulate;
    this.#emu = emulate ? new Emulator(emulate) : null;
    const shift = _shiftNs(emulate);
    this.rec = new DelayRecorder(shift, messages);
    this.echo = new EchoReply(this.rec.clock, shift);
  }

  /**
   * Takes the datagram of `n` bytes under `view`, arrived at monotonic
   * `nowMs` (kernel timestamp `kSec`/`kNsec` when `kSec` >= 0); true when it
   * was END (the caller then sends its echo and stops the timer with "end",
   * which closes a Deno socket). A sampled datagram leaves its echo in
   * {@link echo} ({@link echoReady}).
   */
  take(view: DataView, n: number, nowMs: number, kSec = -1, kNsec = 0) {
    if (!isProbeDatagram(view, n)) {
      this.malformed++;
      return false;
    }
    this.timer.packet(nowMs);
    const rec = this.rec;
    rec.noteHops(view.getUint16(OFF_HOPS, true));
    let emuNs = view.getUint32(OFF_EMU, true);
    if (this.#emu !== null) {
      const d = this.#emu.next();
      if (d < 0) {
        this.dropped++;
        return false;
      }
      emuNs += d;
    }
    const flags = view.getUint32(OFF_FLAGS, true);
    if (flags & FLAG_END) rec.end(view);
    else if (flags & FLAG_WARMUP) rec.warmup(view);
    else rec.measured(view, nowMs, emuNs, kSec, kNsec);
    if (this.echo.of(view, nowMs, kSec, kNsec)) this.echoReady = true;
    return (flags & FLAG_END) !== 0;
  }

  /**
   * The result line, once the stream is over: writes the per-message log
   * first, if kept (a log that cannot be written is the run's error).
   */
  result(o: ReceiveOutcome): ChildResult {
    const book = this.rec.book;
    let messages: MessagesReport | null = null;
    let failure = o.failure;
    try {
      messages = book?.write(this.rec.bounds) ?? null;
    } catch (e) {
      failure ??= (e as Error).message;
    }
    return {
      ..._head({ ...o, failure }, this.foreign),
      ...this.rec.report(),
      ...(messages !== null ? { messages } : {}),
      malformed: this.malformed,
      foreign: this.foreign,
      dropped: this.dropped,
      echoes: this.echo.count,
      emulated: this.emulated,
      elapsed_s: this.timer.elapsedS,
    };
  }
}

/**
 * A proxy's handling of each datagram: {@link take} before the sends,
 * {@link account} after; an echo from a child goes to {@link book} instead.
 */
export class ProxyCore {
  readonly rec: DelayRecorder | null;
  readonly timer: StreamTimer;
  readonly emulated: EmulationParams | null;
  readonly children: number;
  /** The echo to send back to the parent when {@link echoReady}. */
  readonly echo: EchoReply;
  /** Set by {@link account} when {@link echo} holds an echo to send; the backend clears it. */
  echoReady = false;
  /** The children's echoes: their clock offsets. */
  readonly book: EchoBook;
  #to: readonly string[];
  #emu: Emulator | null;
  datagrams = 0;
  forwarded = 0;
  dropped = 0;
  malformed = 0;
  /** Datagrams from a source `--from` does not admit (counted by the backend, `sources.ts`). */
  foreign = 0;
  sendErrors = 0;
  /** Copies of a seq already forwarded (a hedged proxy's second parent), not forwarded again. */
  duplicates = 0;
  hops = 0;
  endSeen = false;
  /** The seqs forwarded (a bounded window, `seq.ts`). */
  #seen = new SeqTracker();
  /**
   * Under emulation: each forwarded seq's arrival + emu_ns, ns (by seq
   * mod SEQ_WINDOW, with the seq as its tag); made when a datagram first
   * carries an emulated delay (without one, no later copy can be earlier).
   */
  #virtual: { at: Float64Array; seq: Uint32Array } | null = null;

  /** A core for the children at `to`, stopping through `timer`, measuring with `record`. */
  constructor(
    timer: StreamTimer,
    o: {
      to: readonly string[];
      record: boolean;
      emulate: EmulationParams | null;
    },
  ) {
    this.timer = timer;
    this.children = o.to.length;
    this.#to = o.to;
    const shift = _shiftNs(o.emulate);
    this.rec = o.record ? new DelayRecorder(shift) : null;
    const clock = this.rec?.clock ?? new RealtimeClock();
    this.echo = new EchoReply(clock, shift);
    this.book = new EchoBook(this.children, clock, {
      shiftNs: shift,
      ownSendTimes: true,
    });
    this.emulated = o.emulate;
    this.#emu = o.emulate ? new Emulator(o.emulate) : null;
  }

  /**
   * Takes the datagram of `n` bytes under `view`, arrived at monotonic
   * `nowMs`, and patches it for forwarding (hops + 1, saturating; the
   * emulated delay added to emu_ns). Returns the hops it arrived with, or
   * -1 when it is not to be forwarded (malformed, a copy of a seq already
   * forwarded, or dropped by emulation). A proxy with hedge parents thus
   * forwards the first copy of each seq to arrive, and under emulation also
   * a later copy whose arrival + emu_ns is earlier ({@link #earlierCopy}).
   */
  take(view: DataView, n: number, nowMs: number): number {
    if (!isProbeDatagram(view, n)) {
      this.malformed++;
      return -1;
    }
    this.timer.packet(nowMs);
    this.datagrams++;
    const end = (view.getUint32(OFF_FLAGS, true) & FLAG_END) !== 0;
    if (!end) {
      const seq = view.getUint32(OFF_SEQ, true);
      const emu = view.getUint32(OFF_EMU, true);
      if (this.#seen.accept(seq)) {
        // Without an emulated delay so far, no later copy can be earlier.
        if (emu > 0 || this.#virtual) this.#firstCopy(seq, nowMs * 1e6 + emu);
      } else if (!this.#earlierCopy(seq, nowMs * 1e6 + emu)) {
        this.duplicates++;
        return -1;
      }
    }
    if (this.#emu !== null) {
      const d = this.#emu.next();
      if (d < 0) {
        this.dropped++;
        return -1;
      }
      const emuNs = Math.min(view.getUint32(OFF_EMU, true) + d, MAX_EMU_NS);
      view.setUint32(OFF_EMU, emuNs, true);
    }
    const h = view.getUint16(OFF_HOPS, true);
    view.setUint16(OFF_HOPS, h < MAX_HOPS ? h + 1 : MAX_HOPS, true);
    this.book.forwarded(view, nowMs);
    return h;
  }

  /** Notes the arrival + emu_ns of the copy of `seq` forwarded first. */
  #firstCopy(seq: number, at: number): void {
    this.#virtual ??= {
      at: new Float64Array(SEQ_WINDOW),
      seq: new Uint32Array(SEQ_WINDOW),
    };
    const i = seq & (SEQ_WINDOW - 1);
    this.#virtual.at[i] = at;
    this.#virtual.seq[i] = seq;
  }

  /**
   * Whether a later copy of a forwarded `seq` would have arrived first had
   * the emulated delays been slept (its arrival + emu_ns earlier than the
   * forwarded copy's): it is forwarded too, and the receivers below keep
   * each message's smallest delay, so a hedged tree under emulation is
   * judged as it would be with real stragglers. Without emulation no later
   * copy is earlier: each seq is forwarded once.
   */
  #earlierCopy(seq: number, at: number): boolean {
    const v = this.#virtual;
    const i = seq & (SEQ_WINDOW - 1);
    if (v === null || v.seq[i] !== seq || !(at < v.at[i]!)) return false;
    v.at[i] = at;
    return true;
  }

  /**
   * Bookkeeping of a forwarded datagram that arrived with `h` hops (the
   * value {@link take} returned); true when it was END (the caller repeats
   * it, then stops the timer). A sampled datagram leaves its echo to the
   * parent in {@link echo} ({@link echoReady}).
   */
  account(
    view: DataView,
    h: number,
    nowMs: number,
    kSec = -1,
    kNsec = 0,
  ): boolean {
    this.forwarded++;
    if (h > this.hops) this.hops = h;
    const flags = view.getUint32(OFF_FLAGS, true);
    const rec = this.rec;
    if (flags & FLAG_END) {
      this.endSeen = true;
      rec?.end(view);
      if (this.echo.of(view, nowMs, kSec, kNsec)) this.echoReady = true;
      return true;
    }
    if (rec !== null) {
      rec.noteHops(h); // the hops it received, not the ones it forwarded
      if (flags & FLAG_WARMUP) rec.warmup(view);
      else {rec.measured(
          view,
          nowMs,
          view.getUint32(OFF_EMU, true),
          kSec,
          kNsec,
        );}
    }
    if (this.echo.of(view, nowMs, kSec, kNsec)) this.echoReady = true;
    return false;
  }

  /** The result line. */
  result(o: ReceiveOutcome): ProxyResult {
    return {
      ..._head(o, this.foreign),
      children: this.children,
      datagrams: this.datagrams,
      forwarded: this.forwarded,
      dropped: this.dropped,
      malformed: this.malformed,
      foreign: this.foreign,
      send_errors: this.sendErrors,
      duplicates_dropped: this.duplicates,
      ...(this.rec !== null ? this.rec.report() : {}),
      echoes: this.echo.count,
      peers: this.book.report(this.#to),
      stray_echoes: this.book.stray,
      end_seen: this.endSeen,
      hops: this.hops,
      emulated: this.emulated,
      elapsed_s: this.timer.elapsedS,
    };
  }
}

/**
 * The first fields of a receiver's result line; a stream that never came
 * while `foreign` datagrams were dropped says so (a `--from` naming the
 * wrong sender).
 */
function _head(o: ReceiveOutcome, foreign: number) {
  return {
    bind: o.bind,
    stop: o.stop,
    error: o.stop === "no_stream" && foreign > 0 && o.failure !== null
      ? `${o.failure}; ${foreign} datagrams from other senders were dropped (--from)`
      : o.failure,
    io: o.io,
    timestamps: o.timestamps,
  };
}
