/** Versions carried by every CONNECT, ACK and results file. Kept apart on purpose. */

/** The program's own version (semver). */
export const PROGRAM_VERSION = "0.1.0";

/** The control-plane wire protocol's version: CONNECT checks it for equality. */
export const PROTOCOL_VERSION = 1;

/**
 * The results file format's version, bumped when a field is removed, changes
 * meaning or stops being always present. 2: the summary's estimates are
 * absent for a kind whose worst leaf was always silent (`silent` counts
 * them); candidates and evaluation nodes may carry clock offsets
 * (`offsetUs`, `offsetBoundUs`, `offsetSamples`) and senders their `peers`.
 * 3: an evaluation carries its per-message figures (`messages`: latency,
 * delivery window, fairness); the worst leaf counts loss (its p90 over every
 * message sent, `p90SentUs`, and `lossShare`), so it changed meaning.
 */
export const RESULTS_VERSION = 3;
