/**
 * The realtime clock in nanoseconds, without BigInt on the hot paths.
 *
 * A probe's one-way delay is `arrival_ns - ts_ns + emu_ns` with both times
 * from the realtime clock (nanoseconds since the Unix epoch). Around 2026 that
 * is ~1.8e18 ns: a float64 holds it only to 256 ns, and `Date.now()` has 1 ms
 * steps. So this clock:
 *
 * 1. reads the realtime clock once in full precision
 *    (`Temporal.Now.instant().epochNanoseconds`, a bigint) together with the
 *    monotonic clock (`performance.now()`, float ms): the pair with the
 *    smallest read window of a few tries is the *base*;
 * 2. keeps the base as two u32 halves (`hi`, `lo`), the same split as the
 *    wire's `ts_ns` (a DataView reads it as two u32 without BigInt);
 * 3. expresses every time as float nanoseconds *since the base*: now is
 *    `(performance.now() - p0) * 1e6`, a wire timestamp is
 *    `(tsHi - baseHi) * 2^32 + (tsLo - baseLo)`. Both differences are small,
 *    so they are exact integers (or ~ns-precise) in a float64, and the delay is
 *    their difference.
 *
 * The monotonic clock runs at the realtime clock's rate (NTP slews both), so
 * the base holds until the realtime clock is *stepped*; {@link resync},
 * called about once a second off the hot path, detects a step (the offset
 * moved by more than {@link STEP_NS}) and takes a new base.
 *
 * @module
 */

const TWO_32 = 4294967296;

/** A change of the realtime-monotonic offset beyond this is a clock step, ns. */
export const STEP_NS = 20_000;

/** One reading of both clocks. */
interface Reading {
  ns: bigint;
  mono: number;
}

/** Realtime nanoseconds as offsets from a base; see the module doc. */
export class RealtimeClock {
  #hi = 0;
  #lo = 0;
  #base = 0n;
  #baseSec = 0;
  #baseNsec = 0;
  #p0 = 0;

  /** Reads the clocks and sets the base. */
  constructor() {
    this.#rebase(_read());
  }

  /** The base, nanoseconds since the Unix epoch. */
  get baseNs(): bigint {
    return this.#base;
  }

  /** Nanoseconds since the base at monotonic time `monoMs` (from `performance.now()`). */
  sinceBase(monoMs: number): number {
    return (monoMs - this.#p0) * 1e6;
  }

  /** A wire timestamp given as its u32 halves, in nanoseconds since the base. */
  wireSinceBase(hi: number, lo: number): number {
    return (hi - this.#hi) * TWO_32 + (lo - this.#lo);
  }

  /**
   * A realtime `timespec` (such as a kernel receive timestamp) in
   * nanoseconds since the base; `sec` and `nsec` are plain numbers (seconds
   * since the epoch are exact in a float64).
   */
  timespecSinceBase(sec: number, nsec: number): number {
    return (sec - this.#baseSec) * 1e9 + (nsec - this.#baseNsec);
  }

  /** Writes the realtime ns at monotonic time `monoMs` as a u64 LE at `offset` of `view`. */
  writeNs(view: DataView, offset: number, monoMs: number): void {
    this.writeSinceBase(view, offset, (monoMs - this.#p0) * 1e6);
  }

  /** Writes the realtime ns `relNs` after the base as a u64 LE at `offset` of `view`. */
  writeSinceBase(view: DataView, offset: number, relNs: number): void {
    const rel = Math.round(relNs);
    let lo = this.#lo + rel;
    const carry = Math.floor(lo / TWO_32);
    lo -= carry * TWO_32;
    view.setUint32(offset, lo, true);
    view.setUint32(offset + 4, this.#hi + carry, true);
  }

  /** The realtime ns at monotonic time `monoMs`, as a bigint (not for hot paths). */
  toNs(monoMs: number): bigint {
    return this.#base + BigInt(Math.round((monoMs - this.#p0) * 1e6));
  }

  /**
   * Reads both clocks again; if the realtime clock was stepped (the offset
   * moved by more than {@link STEP_NS}), takes the new reading as the base.
   * Returns the step in ns (0 when the base was kept).
   */
  resync(): number {
    const r = _read();
    const step = Number(r.ns - this.#base) - this.sinceBase(r.mono);
    if (Math.abs(step) <= STEP_NS) return 0;
    this.#rebase(r);
    return step;
  }

  #rebase(r: Reading): void {
    this.#base = r.ns;
    this.#hi = Number(r.ns >> 32n);
    this.#lo = Number(r.ns & 0xffff_ffffn);
    this.#baseSec = Number(r.ns / 1_000_000_000n);
    this.#baseNsec = Number(r.ns % 1_000_000_000n);
    this.#p0 = r.mono;
  }
}

/** The reading with the narrowest window of a few, dated at the window's middle. */
function _read(): Reading {
  let best: Reading = { ns: 0n, mono: 0 };
  let width = Infinity;
  for (let i = 0; i < 5; i++) {
    const a = performance.now();
    const ns = Temporal.Now.instant().epochNanoseconds;
    const b = performance.now();
    if (b - a < width) {
      width = b - a;
      best = { ns, mono: (a + b) / 2 };
    }
  }
  return best;
}
