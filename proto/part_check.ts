/**
 * The per-message part messages of a REPORT (`PartRequest`, `MessagePart`
 * in `treecast.proto`): their TypeScript shapes and the checks `codec.ts`
 * runs on decode (bounded sizes, arrays consistent with their count), so a
 * malformed part is an ERR and never reaches the merging code.
 *
 * @module
 */

/** Which part of a job's per-message figures a REPORT asks for. */
export interface PartRequest {
  /** Part k: seqs [k * size, (k + 1) * size). */
  index: number;
  /** Messages per part, 1 to {@link MAX_PART_SIZE}, a multiple of window. */
  size: number;
  /** Subtract each hop's clock offset on the way up. */
  correct: boolean;
  /** Messages per window of the adaptive deadline. */
  window: number;
  /** Each receiver's percentile per window, (0, 100]. */
  percentile: number;
}

/** A subtree's per-message figures as the wire carries them (see the schema). */
export interface MessagePartWire {
  firstSeq: number;
  count: number;
  worstNs: Uint8Array;
  bestNs: Uint8Array;
  receivers: Uint8Array;
  leaves: number;
  window: number;
  windowMaxNs: Uint8Array;
  boundNs: number;
  missing: string[];
  uncorrected: string[];
  startSeq: number;
  endSeq: number;
}

/** The most messages a part may hold. */
export const MAX_PART_SIZE = 32_768;
/** The most addresses a part may name in `missing` or `uncorrected`. */
export const MAX_PART_NAMES = 1024;

/** Throws `fail(desc)` unless `r` asks for a part that can be built. */
export function checkPartRequest(
  r: PartRequest,
  fail: (desc: string) => Error,
): void {
  const where = "report.part_request";
  if (r.size < 1 || r.size > MAX_PART_SIZE) {
    throw fail(
      `Field "${where}.size" must be 1 to ${MAX_PART_SIZE}, got ${r.size}`,
    );
  }
  if (r.window < 1 || r.size % r.window !== 0) {
    throw fail(
      `Field "${where}.window" must divide size ${r.size}, got ${r.window}`,
    );
  }
  if (!(r.percentile > 0 && r.percentile <= 100)) {
    throw fail(
      `Field "${where}.percentile" must be in (0, 100], got ${r.percentile}`,
    );
  }
  if ((r.index + 1) * r.size > 2 ** 32) {
    throw fail(`Field "${where}.index" is past the last seq`);
  }
}

/**
 * `p` with its bytes as plain Uint8Arrays; throws `fail(desc)` unless its
 * arrays' sizes agree with its count and window and its lists are bounded.
 */
export function checkPart(
  p: MessagePartWire,
  fail: (desc: string) => Error,
): MessagePartWire {
  const bad = (field: string, why: string) =>
    fail(`Field "report.part.${field}" ${why}`);
  const n = p.count;
  if (n > MAX_PART_SIZE) {
    throw bad("count", `must be at most ${MAX_PART_SIZE}, got ${n}`);
  }
  if (p.window < 1) throw bad("window", "must be at least 1");
  for (const [f, width] of [["worstNs", 4], ["bestNs", 4], ["receivers", 2]]) {
    const len = (p[f as keyof MessagePartWire] as Uint8Array).length;
    if (len !== n * (width as number)) {
      throw bad(f as string, `holds ${len} bytes for ${n} messages`);
    }
  }
  const windows = n === 0 ? 0 : Math.ceil((p.firstSeq + n) / p.window) -
    Math.floor(p.firstSeq / p.window);
  if (p.windowMaxNs.length !== 4 * windows) {
    throw bad(
      "windowMaxNs",
      `holds ${p.windowMaxNs.length} bytes for ${windows} windows`,
    );
  }
  if (p.missing.length > MAX_PART_NAMES) {
    throw bad("missing", `names more than ${MAX_PART_NAMES} workers`);
  }
  if (p.uncorrected.length > MAX_PART_NAMES) {
    throw bad("uncorrected", `names more than ${MAX_PART_NAMES} workers`);
  }
  if (!Number.isFinite(p.boundNs) || p.boundNs < 0) {
    throw bad("boundNs", `must be a finite bound, got ${p.boundNs}`);
  }
  const plain = (b: Uint8Array) =>
    b.constructor === Uint8Array ? b : new Uint8Array(b);
  return {
    ...p,
    worstNs: plain(p.worstNs),
    bestNs: plain(p.bestNs),
    receivers: plain(p.receivers),
    windowMaxNs: plain(p.windowMaxNs),
  };
}
