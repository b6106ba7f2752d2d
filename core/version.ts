/** Versions carried by every CONNECT, ACK and results file. Kept apart on purpose. */

/** The program's own version (semver). */
export const PROGRAM_VERSION = "0.1.0";

/** The control-plane wire protocol's version: CONNECT checks it for equality. */
export const PROTOCOL_VERSION = 1;

/** The results file format's version. */
export const RESULTS_VERSION = 1;
