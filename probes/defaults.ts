/**
 * Every default and limit of the probes, in one place.
 *
 * @module
 */

/** A packet sent more than this after its due time counts as late, µs. */
export const LATE_THRESHOLD_US = 100;

/** How many END datagrams close a stream (END can be lost like any datagram). */
export const END_COPIES = 3;

/** Gap between two END copies, ms. */
export const END_GAP_MS = 5;

/** Default `--timeout` of child and proxy: the wait for the first packet, s. */
export const START_TIMEOUT_S = 10;

/**
 * After the stream started, it is over when no datagram arrived for
 * max(IDLE_TIMEOUT_S, IDLE_GAPS x the mean gap between datagrams so far), s.
 */
export const IDLE_TIMEOUT_S = 1;

/** See {@link IDLE_TIMEOUT_S}. */
export const IDLE_GAPS = 10;

/**
 * The whole stream after its first datagram is cut at
 * duration + max(DEADLINE_GRACE_S, DEADLINE_GRACE_SHARE x duration), s.
 */
export const DEADLINE_GRACE_S = 2;

/** See {@link DEADLINE_GRACE_S}. */
export const DEADLINE_GRACE_SHARE = 0.5;

/** Longest gap between two checks of the receive timeouts, ms. */
export const WATCHDOG_MS = 50;

/** Per-second series entries kept at most (one hour); later seconds are counted, not kept. */
export const SERIES_CAP = 3600;

/** Sequence numbers remembered for duplicate detection (a power of two). */
export const SEQ_WINDOW = 1 << 16;

/** Delays above this are recorded as this value in the histogram, ns (60 s). */
export const HISTOGRAM_MAX_NS = 60e9;

/** Significant decimal digits of the latency histogram. */
export const HISTOGRAM_DIGITS = 3;

/** Receive buffer of a child: the header is all it reads. */
export const CHILD_BUFFER_BYTES = 64;

/** Receive buffer of a proxy: large enough to forward any UDP payload whole. */
export const PROXY_BUFFER_BYTES = 65536;

/** Largest datagram a parent sends (`--size`), bytes. */
export const MAX_DATAGRAM_BYTES = 65507;

/** Largest emulated delay + jitter of one node, s (emu_ns is a u32 of ns). */
export const MAX_EMULATED_S = 1;

/**
 * Pacing of the parent: sleeps with a timer while more than this is left
 * before the next due time, ms (Deno timers overshoot by about 1-2 ms).
 */
export const PACE_TIMER_MS = 4;

/**
 * Pacing of the parent: below {@link PACE_TIMER_MS}, blocks the thread
 * (`Atomics.wait`) while more than this is left, ms (a futex wait overshoots
 * by about 100 µs with the default timer slack); then spins to the due time.
 */
export const PACE_WAIT_MS = 0.25;

/**
 * {@link PACE_WAIT_MS} when the thread's timer slack is 1 ns (futex overshoot
 * ~20-40 µs), ms. Small on purpose: a sender that sleeps most of each gap
 * keeps the scheduler's favour on a busy 2-core VM and leaves the CPU to the
 * receivers; one that spins is preempted and starves them (measured at 10k
 * pps: spinning the whole 100 µs gap gave worse lateness under load and a
 * 2-5x worse child p90 on the same VM).
 */
export const PACE_WAIT_TIGHT_MS = 0.05;
