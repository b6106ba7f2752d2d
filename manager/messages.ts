/**
 * The manager's side of the per-message figures (issue #19): ask the root of
 * an evaluation for its per-message parts one after the other, each reply
 * well under the message cap, and accumulate them into figures of a fixed
 * size (`core/message_figures.ts`). The MCAST step (`mcast.ts`) calls
 * {@link collectMessageFigures} with a `requestPart` that sends a REPORT
 * with a `PartRequest` to the root (see {@link partRequest}).
 *
 * @module
 */
import {
  FigureAccumulator,
  type FigureOptions,
  type MessageFigures,
} from "../core/message_figures.ts";
import { MAX_PART_MESSAGES, type MessagePart } from "../core/message_parts.ts";
import type { PartRequest } from "../proto/codec.ts";

/** How the figures are asked for. */
export interface CollectOptions {
  /** Stream rate, messages per second (for the window's W). */
  rate: number;
  /** Receivers expected per message (the tree's leaves). */
  receivers: number;
  /** Subtract each hop's clock offset on the way up. */
  correct: boolean;
  /** The adaptive deadline's window, ms (default 10). */
  windowMs?: number;
  /** Each receiver's percentile per window (default 97). */
  percentile?: number;
  /** Margin of the adaptive deadline, µs (default 25). */
  marginUs?: number;
  /** Holds for the fair share, µs. */
  holdsUs?: readonly number[];
  /** Messages per part at most (default and cap {@link MAX_PART_MESSAGES}). */
  partMessages?: number;
}

/**
 * The request for part `k` under `opts`: the window is `rate × windowMs`
 * messages (at least 1, at most a part), the part size the largest multiple
 * of it that fits `partMessages`. A part of 32,768 messages weighs
 * ~330 KB encoded (10 bytes a message, 4 a window), a third of the cap.
 */
export function partRequest(k: number, opts: CollectOptions): PartRequest {
  const most = Math.min(
    MAX_PART_MESSAGES,
    opts.partMessages ?? MAX_PART_MESSAGES,
  );
  const window = Math.min(
    most,
    Math.max(1, Math.round(opts.rate * (opts.windowMs ?? 10) / 1000)),
  );
  return {
    index: k,
    size: window * Math.floor(most / window),
    correct: opts.correct,
    window,
    percentile: opts.percentile ?? 97,
  };
}

/**
 * Asks part after part (`requestPart(k)`, which sends
 * `partRequest(k, opts)` to the root and resolves to its decoded part) from
 * the stream's first part to its end, as the replies tell it, and
 * accumulates them. A part that fails is listed in `failedParts` and its
 * messages are not judged; if the first part asked fails, nothing tells
 * where the stream is and the figures are empty.
 */
export async function collectMessageFigures(
  requestPart: (k: number) => Promise<MessagePart>,
  opts: CollectOptions,
): Promise<MessageFigures> {
  const req0 = partRequest(0, opts);
  const S = req0.size;
  const figureOpts: FigureOptions = {
    receivers: opts.receivers,
    corrected: opts.correct,
    windowMessages: req0.window,
    percentile: req0.percentile,
    ...(opts.marginUs !== undefined ? { marginUs: opts.marginUs } : {}),
    ...(opts.holdsUs !== undefined ? { holdsUs: opts.holdsUs } : {}),
  };
  const acc = new FigureAccumulator(figureOpts);
  let start = Infinity, end = -Infinity;
  for (let k = 0;; k++) {
    let part: MessagePart;
    try {
      part = await requestPart(k);
    } catch (e) {
      acc.failed(k, e instanceof Error ? e.message : String(e));
      if (end === -Infinity || (k + 1) * S >= end) break;
      continue;
    }
    if (part.endSeq > part.startSeq) {
      start = Math.min(start, part.startSeq);
      end = Math.max(end, part.endSeq);
    }
    if (end === -Infinity) {
      acc.add(part, 0, 0); // no receiver logged anything: only its names
      break;
    }
    acc.add(part, Math.max(k * S, start), Math.min((k + 1) * S, end));
    if ((k + 1) * S >= end) break;
    // Parts before the stream's first seq (its warm-up) hold nothing.
    k = Math.max(k, Math.floor(start / S) - 1);
  }
  return acc.figures();
}
