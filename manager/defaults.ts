/**
 * Every default of an experiment script, in one place. `manager/script.ts`
 * applies them; the example scripts and the help text quote them.
 * Durations are in seconds.
 *
 * @module
 */
import { REQUEST_RETRIES, REQUEST_TIMEOUT_MS } from "../core/defaults.ts";
import { DEFAULT_HOLDS_US } from "../core/message_figures.ts";

/** Pool draws (roots, RANDOM trees) start from this seed. */
export const SEED = 1;

/**
 * Depth of each tree: levels below the root. When a script leaves `depth`
 * out and its `addrs` cannot fill a tree this deep, the deepest tree that
 * `addrs` can fill is used instead (so the original six-worker example runs
 * at depth 1). A depth the script gives is never lowered.
 */
export const DEPTH = 2;

/** Children per internal node. */
export const FANOUT = 2;

/** Candidates a parent probes per stage, as a multiple of the fanout. */
export const HYPERPARAMETER_PER_FANOUT = 2;

/** Packets per second of a parent (probing) job. */
export const RATE = 10_000;

/** Length of a parent (probing) job. */
export const DURATION = 10;

/** Packets sent before measuring starts, in every job. */
export const WARMUP = 1;

/** Length of a tree evaluation (multicast) job. */
export const EVALUATION_DURATION = 30;

/** Evaluations of each tree. */
export const EVALUATION_RUNS = 1;

/**
 * An evaluation's per-message fairness (`evaluation.fairness`): the holds H
 * at which the share of messages every leaf had by send + H is given, µs;
 * the adaptive deadline's window (ms of the stream), the percentile each
 * leaf gives per window, and the margin added to their largest (µs).
 */
export const FAIRNESS_HOLDS_US = DEFAULT_HOLDS_US;
export const FAIRNESS_WINDOW_MS = 10;
export const FAIRNESS_PERCENTILE = 97;
export const FAIRNESS_MARGIN_US = 25;

/** Distinct roots tried, each shared by all tree types. */
export const ROOTS = 1;

/** Build all parents of one depth at once. */
export const PARALLEL = true;

/**
 * What to do with a worker whose kernel says its clock is unsynchronised or
 * estimates its error above {@link CLOCK_ERROR}: warn (`trust`) or refuse it
 * at CONNECT (`require-sync`).
 */
export const CLOCKS = "trust";

/**
 * What scores do with a parent-child pair's clock offset, measured from the
 * child's echoes: use the delays as measured (`trust`) or minus the offset
 * (`correct`).
 */
export const OFFSETS = "trust";

/** The largest kernel-estimated clock error a worker may have, s. */
export const CLOCK_ERROR = 0.001;

/** Deadline of a CONNECT request attempt (the control plane's deadline). */
export const CONNECT_TIMEOUT = REQUEST_TIMEOUT_MS / 1000;

/**
 * Deadline of any other control request attempt, s. A request relayed L
 * layers deep gets more (`relayedDeadlineMs` in `core/defaults.ts`: 3 times
 * this for one layer, 4 for two, one more per layer); a worker is declared lost after
 * 1 + RETRIES attempts.
 */
export const REQUEST_TIMEOUT = 2;

/** Retries after a timed-out request before a worker is declared lost. */
export const RETRIES = REQUEST_RETRIES;

/** Extra time a job may overrun its expected end before it is declared failed. */
export const JOB_GRACE = 5;

/** Weights of the preset strategies: a candidate's score is the weighted sum of its statistics. */
export const STRATEGY_WEIGHTS = {
  P90: { p90: 1 },
  P50: { p50: 1 },
  /**
   * The thesis's stddev reads the instrument's own spread: the IQR above
   * that of the candidates probed with it instead (`strategy.ts`).
   */
  WEIGHTED: { p90: 0.3, iqr_excess: 0.7 },
  /** The thesis's formula, kept for comparison (`strategy.ts`). */
  "WEIGHTED-THESIS": { p90: 0.3, stddev: 0.7 },
} as const;

/** Trees built when a script lists none. */
export const TREES = [
  { type: "BEST", strategy: "WEIGHTED" },
  { type: "WORST", strategy: "P90" },
  { type: "RANDOM" },
] as const;

/** Steps run when a script lists none. */
export const STEPS = ["CONNECT", "ROOT"] as const;

/** Rebuild rounds after each tree's evaluations (the worst leaf's parent re-probed). */
export const REBUILD = 0;

/** LEMON's all-to-all: peers a worker sends to (and receives from) at most at once. */
export const LEMON_LIMIT = 4;
/** FAQ: Frank–Wolfe iterations at most per start. */
export const FAQ_ITERATIONS = 30;
/** FAQ: a step lowering the relaxed cost by less than this share ends a run. */
export const FAQ_TOLERANCE = 1e-6;
/** FAQ: runs from seeded random starts beside the first. */
export const FAQ_RESTARTS = 8;

/** `root: probe`: candidate roots measured, and the workers each streams to. */
export const ROOT_PROBE_CANDIDATES = 4;
export const ROOT_PROBE_SAMPLE = 4;
