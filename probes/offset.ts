/**
 * The clock offset of a sender-receiver pair from echoes, NTP-style (pure:
 * no clock, no socket). For one echoed datagram, t1 is the sender's send
 * time, t2 the receiver's arrival time, t3 the receiver's send time of the
 * echo and t4 the sender's arrival time of it (t1, t4 on the sender's clock,
 * t2, t3 on the receiver's). With θ the receiver's clock minus the
 * sender's and d1, d2 >= 0 the delays of the two directions:
 *
 * - `rtt = (t4 - t1) - (t3 - t2) = d1 + d2`;
 * - `offset = ((t2 - t1) + (t3 - t4)) / 2 = θ + (d1 - d2) / 2`, so
 *   `|offset - θ| <= rtt / 2` however asymmetric the path is.
 *
 * The estimator keeps the {@link KEEP} echoes with the smallest round trips;
 * the estimate is the offset of the one with the smallest, and its bound half
 * that round trip. An echo whose round trip comes out negative (timestamps of
 * two clocks that disagree by more than the path's delay) is not a sample
 * and is counted apart.
 *
 * @module
 */

/** Samples with the smallest round trips kept. */
export const KEEP = 8;

/** One echo's round trip and offset, ns. */
export interface OffsetSample {
  rttNs: number;
  offsetNs: number;
}

/** The pair's offset as a result line reports it (µs, 3 decimals). */
export interface OffsetEstimate {
  /** Receiver's clock minus sender's, µs. */
  offset_us: number;
  /** Half the smallest round trip: the offset is true to within it, µs. */
  bound_us: number;
  /** The smallest round trip, µs. */
  rtt_us: number;
  /** Echoes that gave a sample. */
  samples: number;
}

/** The round trip and offset of one echo (times in ns, any common origin per clock). */
export function offsetSample(
  t1: number,
  t2: number,
  t3: number,
  t4: number,
): OffsetSample {
  return {
    rttNs: (t4 - t1) - (t3 - t2),
    offsetNs: ((t2 - t1) + (t3 - t4)) / 2,
  };
}

/** The offset of one pair from its echoes; see the module doc. */
export class OffsetEstimator {
  /** The smallest round trips so far, ascending. */
  readonly best: OffsetSample[] = [];
  /** Echoes that gave a sample. */
  samples = 0;
  /** Echoes whose round trip came out negative (not samples). */
  rejected = 0;

  /** Takes one echo's four times (ns); see {@link offsetSample}. */
  add(t1: number, t2: number, t3: number, t4: number): void {
    const s = offsetSample(t1, t2, t3, t4);
    if (!(s.rttNs >= 0) || !Number.isFinite(s.offsetNs)) {
      this.rejected++;
      return;
    }
    this.samples++;
    const b = this.best;
    if (b.length === KEEP && s.rttNs >= b[KEEP - 1]!.rttNs) return;
    let i = b.length;
    while (i > 0 && b[i - 1]!.rttNs > s.rttNs) i--;
    b.splice(i, 0, s);
    if (b.length > KEEP) b.pop();
  }

  /** The estimate, or null before any sample. */
  estimate(): OffsetEstimate | null {
    const s = this.best[0];
    if (s === undefined) return null;
    return {
      offset_us: _us(s.offsetNs),
      bound_us: _us(s.rttNs / 2),
      rtt_us: _us(s.rttNs),
      samples: this.samples,
    };
  }
}

function _us(ns: number): number {
  return Math.round(ns) / 1000;
}
