/**
 * An evaluation as the exchange sees it, per message (issue #19): fed the
 * tree's per-message parts in seq order (`core/message_parts.ts`), it gives
 * the distributions over messages of the multicast latency (the worst
 * receiver's one-way delay), the best receiver's delay and the delivery
 * window (worst minus best), and the fairness of hold-and-release: the share
 * of messages every receiver had by send + H, the hold needed for 99 % and
 * 99.9 % of messages, and the share under an adaptive deadline like Onyx's
 * (the largest receiver's percentile of the previous window, plus a margin).
 *
 * Rules: a message some receiver never got (fewer receivers than expected)
 * is lost: it ranks above every delay in all three distributions and is
 * never fair. Delays arrive corrected (each hop subtracted its offset); a
 * corrected delay below 0 is clipped to 0 here, after the correction, and
 * counted (`negative`). A quantile whose rank falls among the lost messages
 * is `null` (the `lostShare` says why); so is `max` when any was lost.
 *
 * State is of fixed size whatever the number of messages: three HDR
 * histograms (ns, 3 significant digits, up to ~4.3 s; a quantile is the
 * highest value of its bucket, at most 0.1 % above the exact one), one
 * counter per hold, a few numbers. Pure: no I/O.
 *
 * @module
 */
import * as hdr from "hdr-histogram-js";
import { type MessagePart, NOT_RECEIVED } from "./message_parts.ts";
import { nearestRank } from "./quantile.ts";

/** The largest delay the histograms hold, ns; larger ones are recorded as it. */
export const FIGURES_MAX_NS = 2 ** 32 - 1;

/** The default holds H at which the fair share is given, µs. */
export const DEFAULT_HOLDS_US: readonly number[] = [
  5,
  10,
  20,
  50,
  100,
  200,
  500,
  1000,
  2000,
  5000,
  10000,
];

/** A distribution over messages, µs; see the module doc for `null`. */
export interface MessageDistribution {
  p50Us: number | null;
  p90Us: number | null;
  p99Us: number | null;
  p999Us: number | null;
  maxUs: number | null;
  /**
   * HdrHistogram of the messages every receiver got (the lost ones rank
   * above it), compressed base64, ns: the format of `ProbeStats.histogram`.
   */
  histogram: string;
}

/** The share of messages fair at one hold. */
export interface HoldShare {
  holdUs: number;
  /** Messages every receiver had by send + hold, over all judged messages. */
  fairShare: number;
}

/** Per-message figures of one evaluation (plain JSON numbers). */
export interface MessageFigures {
  /** Messages judged (in the parts that came). */
  messages: number;
  /** Receivers expected per message. */
  receivers: number;
  /** Messages some receiver never got. */
  lost: number;
  /** lost / messages (0 when nothing was judged). */
  lostShare: number;
  /** Messages no receiver got. */
  neverReceived: number;
  /** Messages with a receiver's delay below 0 after correction (clipped to 0). */
  negative: number;
  /** Whether delays are in the root's clock (each hop's offset subtracted). */
  corrected: boolean;
  /** The largest sum of offset bounds along a root-to-leaf path, µs. */
  boundUs: number;
  /** The worst receiver's delay: the multicast latency. */
  latency: MessageDistribution;
  /** The best receiver's delay. */
  best: MessageDistribution;
  /** The delivery window: worst minus best. */
  window: MessageDistribution;
  /** Hold-and-release fairness. */
  fairness: {
    holds: HoldShare[];
    /** The smallest hold with 99 % (99.9 %) of messages fair, µs. */
    hold99Us: number | null;
    hold999Us: number | null;
    adaptive: {
      windowMessages: number;
      percentile: number;
      marginUs: number;
      /** Messages that had a deadline (a window with a figure before them). */
      judged: number;
      /** Messages every receiver had by its deadline, over `judged`. */
      fairShare: number;
    };
  };
  /** Workers whose part never came (their receivers did not receive). */
  missing: string[];
  /** Workers whose clock offset was unknown: delays below them uncorrected. */
  uncorrected: string[];
  /** Parts that failed whole (their messages are not judged). */
  failedParts: number[];
  /** Why the first part that failed did (absent: none failed). */
  error?: string;
}

/** What the figures are judged against. */
export interface FigureOptions {
  /** Receivers expected per message (the tree's leaves). */
  receivers: number;
  /** Whether the parts were corrected. */
  corrected: boolean;
  /** Holds for the fair share, µs (default {@link DEFAULT_HOLDS_US}). */
  holdsUs?: readonly number[];
  /** The adaptive deadline's window (W messages) and percentile, as asked. */
  windowMessages: number;
  percentile: number;
  /** Margin added to the adaptive deadline, µs (default 25). */
  marginUs?: number;
}

/** The three distributions kept. */
type Which = "latency" | "best" | "window";

const _hist = () =>
  hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: FIGURES_MAX_NS,
    numberOfSignificantValueDigits: 3,
    autoResize: false,
    useWebAssembly: false,
  }) as hdr.JsHistogram;

/** Clips a corrected delay into the histograms' range. */
const _clip = (ns: number) =>
  ns < 0 ? 0 : ns > FIGURES_MAX_NS ? FIGURES_MAX_NS : ns;

/** Accumulates parts, in seq order, into {@link MessageFigures}. */
export class FigureAccumulator {
  #o: Required<FigureOptions>;
  #holdsNs: number[];
  #fairAt: number[];
  #hist = { latency: _hist(), best: _hist(), window: _hist() };
  #max = { latency: 0, best: 0, window: 0 };
  #messages = 0;
  #lost = 0;
  #never = 0;
  #negative = 0;
  #boundNs = 0;
  #deadlineNs: number | undefined;
  #judged = 0;
  #adaptiveFair = 0;
  #missing = new Set<string>();
  #uncorrected = new Set<string>();
  #failed: number[] = [];
  #error: string | undefined;

  constructor(opts: FigureOptions) {
    this.#o = {
      holdsUs: DEFAULT_HOLDS_US,
      marginUs: 25,
      ...opts,
    } as Required<FigureOptions>;
    this.#holdsNs = this.#o.holdsUs.map((h) => h * 1000);
    this.#fairAt = this.#holdsNs.map(() => 0);
  }

  /**
   * Adds part `p`, judging the seqs `[from, to)`: those outside its arrays
   * no receiver got. Parts must come in seq order (the adaptive deadline
   * carries over from one to the next).
   */
  add(p: MessagePart, from: number, to: number): void {
    const R = Math.max(this.#o.receivers, p.leaves);
    for (const m of p.missing) this.#missing.add(m);
    for (const u of p.uncorrected) this.#uncorrected.add(u);
    this.#boundNs = Math.max(this.#boundNs, p.boundNs);
    const W = p.window;
    const marginNs = this.#o.marginUs * 1000;
    const w0 = Math.floor(p.firstSeq / W);
    let window = -1;
    for (let seq = from; seq < to; seq++) {
      const w = Math.floor(seq / W);
      if (w !== window) {
        // A window's figure is the deadline of the messages after it.
        if (window >= 0) this.#takeWindow(p, window - w0);
        window = w;
      }
      const i = seq - p.firstSeq;
      const inside = i >= 0 && i < p.worstNs.length;
      const r = inside ? p.receivers[i]! : 0;
      this.#messages++;
      const deadline = this.#deadlineNs === undefined
        ? undefined
        : this.#deadlineNs + marginNs;
      if (deadline !== undefined) this.#judged++;
      if (r > 0 && p.bestNs[i]! < 0) this.#negative++;
      if (r < R) {
        this.#lost++;
        if (r === 0) this.#never++;
        continue;
      }
      const worst = _clip(p.worstNs[i]!);
      const best = _clip(p.bestNs[i]!);
      this.#record("latency", worst);
      this.#record("best", best);
      this.#record("window", worst - best);
      for (let h = 0; h < this.#holdsNs.length; h++) {
        if (worst <= this.#holdsNs[h]!) this.#fairAt[h]!++;
      }
      if (deadline !== undefined && worst <= deadline) this.#adaptiveFair++;
    }
    if (window >= 0) this.#takeWindow(p, window - w0);
  }

  /** Window `j` of `p` ended: its figure becomes the next deadline. */
  #takeWindow(p: MessagePart, j: number): void {
    const v = j >= 0 && j < p.windowMaxNs.length
      ? p.windowMaxNs[j]!
      : NOT_RECEIVED;
    if (v !== NOT_RECEIVED) this.#deadlineNs = _clip(v);
  }

  #record(which: Which, ns: number): void {
    this.#hist[which].recordValue(ns);
    if (ns > this.#max[which]) this.#max[which] = ns;
  }

  /** Part `k` did not come (`why`): its messages are not judged. */
  failed(k: number, why?: string): void {
    this.#failed.push(k);
    if (why !== undefined) this.#error ??= `part ${k}: ${why}`;
  }

  /** Bytes of the accumulator's state that could grow (for the tests). */
  stateBytes(): number {
    let b = this.#holdsNs.length * 16 + this.#failed.length * 8;
    for (const h of Object.values(this.#hist)) {
      b += h.countsArrayLength * 4;
    }
    for (const s of [this.#missing, this.#uncorrected]) {
      for (const n of s) b += n.length * 2;
    }
    return b;
  }

  /** The figures so far. */
  figures(): MessageFigures {
    const n = this.#messages;
    const share = (k: number, of: number) => of === 0 ? 0 : k / of;
    const dist = (which: Which) =>
      _distribution(this.#hist[which], this.#max[which], this.#lost);
    const latency = dist("latency");
    return {
      messages: n,
      receivers: this.#o.receivers,
      lost: this.#lost,
      lostShare: share(this.#lost, n),
      neverReceived: this.#never,
      negative: this.#negative,
      corrected: this.#o.corrected,
      boundUs: this.#boundNs / 1000,
      latency,
      best: dist("best"),
      window: dist("window"),
      fairness: {
        holds: this.#o.holdsUs.map((holdUs, h) => ({
          holdUs,
          fairShare: share(this.#fairAt[h]!, n),
        })),
        // The hold that makes a share fair is that quantile of the latency.
        hold99Us: latency.p99Us,
        hold999Us: latency.p999Us,
        adaptive: {
          windowMessages: this.#o.windowMessages,
          percentile: this.#o.percentile,
          marginUs: this.#o.marginUs,
          judged: this.#judged,
          fairShare: share(this.#adaptiveFair, this.#judged),
        },
      },
      missing: [...this.#missing],
      uncorrected: [...this.#uncorrected],
      failedParts: [...this.#failed],
      ...(this.#error !== undefined ? { error: this.#error } : {}),
    };
  }
}

function _distribution(
  h: hdr.JsHistogram,
  max: number,
  lost: number,
): MessageDistribution {
  const q = (p: number) => _quantile(h, max, lost, p);
  return {
    p50Us: q(50),
    p90Us: q(90),
    p99Us: q(99),
    p999Us: q(99.9),
    maxUs: h.totalCount === 0 || lost > 0 ? null : max / 1000,
    histogram: hdr.encodeIntoCompressedBase64(h),
  };
}

/**
 * The p-th percentile (nearest rank) over the histogram's messages and the
 * lost ones above them, µs: null when it falls among the lost (or nothing).
 */
function _quantile(
  h: hdr.JsHistogram,
  max: number,
  lost: number,
  p: number,
): number | null {
  const inHist = h.totalCount;
  if (inHist + lost === 0) return null;
  const rank = nearestRank(p, inHist + lost);
  if (rank > inHist) return null;
  let seen = 0;
  for (let i = 0; i < h.countsArrayLength; i++) {
    const c = h.getCountAtIndex(i);
    if (c === 0) continue;
    seen += c;
    if (seen >= rank) {
      const v = h.highestEquivalentValue(h.valueFromIndex(i));
      return Math.min(v, max) / 1000;
    }
  }
  return max / 1000;
}
