/**
 * The experiment script's types, the words it accepts and its error: what
 * `script.ts` parses a script into ({@link Script}, every default applied),
 * or the {@link ScriptError} naming where it is wrong.
 *
 * @module
 */
import { UsageError } from "../core/cli.ts";
import type { TreeType } from "../core/results.ts";
import type * as D from "./defaults.ts";
import type { Place } from "./yaml_read.ts";

/** Statistics a strategy can weigh, as the probes report them per candidate. */
export const STATS = [
  "min",
  "p25",
  "p50",
  "p75",
  "p90",
  "p99",
  "p999",
  "max",
  "mean",
  "stddev",
  "iqr",
  "iqr_excess",
  "lost",
] as const;
/** One statistic of a candidate's probe results. */
export type Stat = typeof STATS[number];
/** Actions a script may list. PARENT, REPORT and MCAST are the manager's own. */
export const ACTIONS = ["CONNECT", "ROOT"] as const;
/** A step action a script may list. */
export type Action = typeof ACTIONS[number];
/** What to do with a worker whose kernel clock is not to be trusted. */
export const CLOCK_POLICIES = ["trust", "require-sync"] as const;
/** `trust`: warn; `require-sync`: refuse it at CONNECT. */
export type ClockPolicy = typeof CLOCK_POLICIES[number];
/** What scores do with each parent-child pair's measured clock offset. */
export const OFFSET_POLICIES = ["trust", "correct"] as const;
/** `trust`: score the delays as measured; `correct`: minus the pair's offset. */
export type OffsetPolicy = typeof OFFSET_POLICIES[number];
/** Kinds of tree a script may ask for. */
export const TREE_TYPES = [
  "BEST",
  "WORST",
  "RANDOM",
  "LEMON",
] as const satisfies readonly TreeType[];
export type { TreeType };
/** How the FAQ solver's relaxed iteration starts (`faq.ts`). */
export const FAQ_STARTS = ["barycenter", "random"] as const;
/** `barycenter`: J/n; `random`: half J/n, half a seeded random doubly stochastic matrix. */
export type FaqStart = typeof FAQ_STARTS[number];
/** The named strategies (`defaults.ts` `STRATEGY_WEIGHTS`). */
export type Preset = keyof typeof D.STRATEGY_WEIGHTS;

/** How candidates are scored: the weighted sum of their statistics. */
export interface Strategy {
  name: Preset | "CUSTOM";
  weights: Partial<Record<Stat, number>>;
}
/** One tree to build from each root. */
export interface TreeSpec {
  /** Unique label, e.g. `BEST-P90` or `RANDOM`. */
  name: string;
  type: TreeType;
  /** Present for BEST and WORST, absent for RANDOM and LEMON. */
  strategy?: Strategy;
  /** Hedge parents per node below depth 1 (`hedge.ts`), below the fanout; absent: 0. */
  hedge?: number;
}
/** One step of the script's queue. */
export interface Step {
  action: Action;
  description?: string;
  data?: string | number | boolean | null;
}
/** Candidates per parent stage: a count, or a share of the remaining pool in (0, 1]. */
export type Hyperparameter =
  | { kind: "count"; value: number }
  | { kind: "fraction"; value: number };

/** A validated script with defaults applied. Durations are in seconds. */
export interface Script {
  file: string;
  /** The raw YAML, kept for the results file. */
  text: string;
  name: string;
  description?: string;
  seed: number;
  /** Worker control addresses, `HOST:PORT`, unique. */
  addrs: string[];
  depth: number;
  fanout: number;
  hyperparameter: Hyperparameter;
  /** Packets per second of a parent job. */
  rate: number;
  duration: number;
  warmup: number;
  evaluation: {
    rate: number;
    duration: number;
    warmup: number;
    runs: number;
    fairness: Fairness;
  };
  /** Distinct roots; 1 when `root` is given. */
  roots: number;
  /** The one root the script chose, as spelled in `addrs`. */
  root?: string;
  /**
   * `root: probe`: R candidate roots, each streaming to a sample of S
   * others; the `roots` with the lowest mean p90 become the roots.
   */
  rootProbe?: { candidates: number; sample: number };
  trees: TreeSpec[];
  parallel: boolean;
  /**
   * The workers' kernel clocks: warn about bad ones, or refuse them
   * (`policy`); and whether scores correct delays by the pair's measured
   * offset (`offsets`).
   */
  clocks: { policy: ClockPolicy; maxErrorUs: number; offsets: OffsetPolicy };
  /** Rebuild rounds after each tree's evaluations. */
  rebuild: number;
  /** LEMON trees: the all-to-all probing and the FAQ solver. */
  lemon: {
    limit: number;
    rate: number;
    duration: number;
    warmup: number;
    start: FaqStart;
    iterations: number;
    tolerance: number;
    restarts: number;
  };
  timeouts: {
    connect: number;
    request: number;
    retries: number;
    jobGrace: number;
  };
  steps: Step[];
}

/** How an evaluation's per-message fairness is judged (`core/message_figures.ts`). */
export interface Fairness {
  /** Holds H for the fair share, µs, ascending. */
  holdsUs: number[];
  /** The adaptive deadline's window, ms of the stream. */
  windowMs: number;
  /** Each leaf's percentile per window, (0, 100]. */
  percentile: number;
  /** Margin added to the adaptive deadline, µs. */
  marginUs: number;
}

/** Options of {@link parseScript} and {@link loadScript}. */
export interface ScriptOptions {
  /** Actions this build can run (default: all of {@link ACTIONS}). */
  implementedActions?: readonly Action[];
}

/** Where a script problem is. `field` is a path such as `trees[1].strategy`. */
export type ScriptPlace = Place;

/** A problem in a script, at `file:line:col`. A {@link UsageError}: exit 2. */
export class ScriptError extends UsageError {
  override name = "ScriptError";
  readonly file: string;
  readonly line: number;
  readonly col: number;
  /** The field path, or undefined for a problem with the whole file. */
  readonly field: string | undefined;
  /** The message without the place. */
  readonly reason: string;

  constructor(reason: string, at: ScriptPlace) {
    const field = at.field === undefined ? "" : `field "${at.field}": `;
    super(`${at.file}:${at.line}:${at.col}: ${field}${reason}`);
    this.file = at.file;
    this.line = at.line;
    this.col = at.col;
    this.field = at.field;
    this.reason = reason;
  }
}
