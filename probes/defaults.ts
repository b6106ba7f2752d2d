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

/**
 * Entries a child's per-message log (`--messages`) keeps at most, by
 * default (4 bytes each: 40 MB); `--messages-max` sets another bound.
 */
export const MESSAGES_MAX = 10_000_000;

/** Significant decimal digits of the latency histogram. */
export const HISTOGRAM_DIGITS = 3;

/**
 * A receiver echoes the stream datagrams whose seq is a multiple of this
 * back to their sender, which estimates the pair's clock offset from them
 * (`echo.ts`, `probes/WIRE.md`).
 */
export const ECHO_EVERY = 100;

/** How often a native sender looks for echoes on its socket (without blocking), ms. */
export const ECHO_POLL_MS = 1;

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
 * before the next due time, ms (Deno timers overshoot by about 1-2 ms);
 * closer, it blocks the thread in `Atomics.wait` to the due time.
 */
export const PACE_TIMER_MS = 4;

/** Datagrams a native child takes per `recvmmsg` call at most. */
export const NATIVE_CHILD_BATCH = 64;

/**
 * Datagrams a native proxy takes per `recvmmsg` call at most (each is then
 * sent to every child in the same `sendmmsg`); small, as large batches
 * lengthen the tail of the forwarding delay.
 */
export const NATIVE_PROXY_BATCH = 8;

/** Socket buffers the native backend asks for (the kernel caps them at rmem_max/wmem_max), bytes. */
export const NATIVE_SOCKET_BUFFER_BYTES = 4 << 20;

/** Longest single sleep of a native sender, so that it sees a stop request, ms. */
export const NATIVE_SLEEP_SLICE_MS = 50;
