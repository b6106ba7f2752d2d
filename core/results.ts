/**
 * The results document's types: what `results.json` holds (documented by
 * `results.schema.json` beside this file, which `results_schema_test.ts`
 * keeps equal to these types, field for field). Shared by the manager,
 * which writes it, and the report, which reads it; nothing here runs an
 * experiment.
 *
 * @module
 */
import type {
  ForwardStats,
  Hello,
  Io,
  ProbeStats,
  SenderStats,
  Timestamps,
} from "../proto/codec.ts";
import type { MessageFigures } from "./message_figures.ts";

/**
 * Kinds of tree. BEST keeps the lowest scores, WORST the highest, RANDOM
 * draws; LEMON places workers by a QAP over an all-to-all delay matrix.
 */
export type TreeType = "BEST" | "WORST" | "RANDOM" | "LEMON";

/** One worker's answer to CONNECT. */
export interface ConnectResult {
  addr: string;
  /** ok: admitted; unreachable: no answer in time; refused: answered ERR. */
  status: "ok" | "unreachable" | "refused";
  /** Round trip of the successful attempt, us. */
  rttUs?: number;
  /** Worker clock minus manager clock, us (estimated at mid round trip). */
  offsetUs?: number;
  /** Error bound of the offset: half the round trip, us. */
  offsetBoundUs?: number;
  /** Its hello (a manager's run fields and its relay port are never in it). */
  hello?: Omit<Hello, "run" | "rosterKey" | "relayPort">;
  /** Why it was not admitted. */
  error?: string;
}

/** One candidate of a PARENT stage. */
export interface CandidateResult {
  addr: string;
  stats?: ProbeStats;
  /** The strategy's score (absent for failed candidates). */
  score?: number;
  /**
   * With `clocks: correct`: delays counted as 0 at the candidate (they came
   * out negative) before its score was corrected, so that score's low
   * percentiles are the clock offset, not delays (absent: none).
   */
  clipped?: number;
  kept: boolean;
  error?: string;
}

/** One PARENT stage: a parent node probing its candidates. */
export interface StageResult {
  /** Depth of the parent in the tree. */
  depth: number;
  parent: string;
  /** Stages started together (one depth built in parallel) share a batch. */
  batch: number;
  candidates: CandidateResult[];
  sender?: SenderStats;
  startedUs: number;
  finishedUs: number;
  /** The rebuild round that ran it (absent: the first build). */
  round?: number;
  error?: string;
  /**
   * Set when the clock offsets' bounds at the cut (last kept, first dropped)
   * can move the scores by more than the gap between them.
   */
  offsetDoubt?: string;
}

/** One node of an evaluated tree. */
export interface EvalNode {
  addr: string;
  role: "root" | "proxy" | "leaf";
  depth: number;
  stats?: ProbeStats;
  forward?: ForwardStats;
  sender?: SenderStats;
  /** Emulation the node's worker applied ("" when none). */
  emulate: string;
  error?: string;
}

/** A receiver whose delays came with another timestamp kind than the run's. */
export interface Mismatch {
  addr: string;
  tree: string;
  during: "stage" | "evaluation";
  detail: string;
}

/** Why a worker was excluded from the rest of the run: see {@link LostWorker}. */
export type LostReason = "lost" | "paused" | "late" | "refused";

/** A worker that stopped answering (or failed to start a job) during the run. */
export interface LostWorker {
  addr: string;
  /** When it was declared lost (manager clock, us since the epoch). */
  atUs: number;
  /** What was going on: "stage" (probing), "evaluation", "connect". */
  during: "stage" | "evaluation" | "connect";
  /** The tree being built or evaluated, if any. */
  tree?: string;
  detail: string;
  /**
   * Why it was excluded (absent in results written before it existed):
   * "lost" (no answer, or restarted since its job started), "paused" (no
   * answer while its port still accepts connections: a paused VM, a stalled
   * process), "late" (its job had not ended by the deadline), "refused" (it
   * answered with an error).
   */
  reason?: LostReason;
  /** Re-admitted at a later CONNECT (us), if it came back. */
  readmittedUs?: number;
}

/** One multicast evaluation of a finished tree. */
export interface EvaluationResult {
  run: number;
  /** The rebuild rounds before it (absent: 0, the tree as built). */
  round?: number;
  startedUs: number;
  finishedUs: number;
  nodes: EvalNode[];
  /** Tree nodes that did not report (lost, or below a lost proxy). */
  missing: string[];
  /**
   * Leaves that reported but received no packet, with why (absent in
   * results written before it existed).
   */
  silent?: SilentLeaf[];
  /**
   * The worst leaf: a silent one when there is one (nothing reached it, worse
   * than any delay), else the leaf with the highest p90 over every message
   * sent to it, its lost ones counted as infinitely late
   * (`eval_nodes.ts` `leafScore`; results before format 3: the highest p90
   * of the messages received).
   */
  worstLeaf?: WorstLeaf;
  /**
   * The evaluation as the exchange sees it, per message (issue #19): the
   * multicast latency, the delivery window and hold-and-release fairness
   * over the tree's leaves (`core/message_figures.ts`). Absent when the
   * evaluation has no report, and in results before format 3; a failure to
   * get the parts is recorded on it (`failedParts`, `error`).
   */
  messages?: MessageFigures;
  error?: string;
}

/** A leaf that reported no packets, and why. */
export interface SilentLeaf {
  addr: string;
  reason: string;
}

/**
 * An evaluation's worst leaf: its delays (of the messages it received, as
 * measured), or `silent` (why it got none).
 */
export type WorstLeaf =
  | {
    addr: string;
    p90Us: number;
    p50Us: number;
    meanUs: number;
    stddevUs: number;
    /** Lost over sent (received + lost); absent before format 3. */
    lossShare?: number;
    /**
     * The p90 over every message sent, the lost ones infinitely late: the
     * worst-leaf choice's score, µs; null when over 10 % were lost (absent
     * before format 3).
     */
    p90SentUs?: number | null;
    /**
     * Delays that came out negative (a clock offset) and were counted as 0
     * at the leaf: its figures are as measured, not corrected (absent: none).
     */
    negative?: number;
    silent?: undefined;
  }
  | { addr: string; silent: string };

/** A worst leaf's delays; undefined when it is silent (or there is none). */
export function leafDelays(
  w: WorstLeaf | undefined,
): Extract<WorstLeaf, { p90Us: number }> | undefined {
  return w && w.silent === undefined ? w : undefined;
}

/** One rebuild round: the worst leaf's parent re-probed its children. */
export interface RebuildResult {
  round: number;
  parent: string;
  /** The worst leaf of the evaluations before the round. */
  worstLeaf: string;
  /** The parent's children before and after. */
  before: string[];
  after: string[];
  ms: number;
  finishedUs: number;
}

/** One built tree and its evaluations. */
export interface TreeResult {
  name: string;
  type: TreeType;
  strategy?: { name: string; weights: Record<string, number> };
  root: string;
  rootIndex: number;
  parallel: boolean;
  depth: number;
  fanout: number;
  /** Addresses in breadth-first order (index 0 the root). */
  nodes: (string | null)[];
  edges: [string, string][];
  /** Hedge parents per node below depth 1 (`manager/hedge.ts`); absent: 0. */
  hedge?: number;
  /** Hedge edges: the first node also forwards to the second (absent: none). */
  hedges?: [string, string][];
  stages: StageResult[];
  evaluations: EvaluationResult[];
  /** Workers of the tree that emulate a slow VM. */
  stragglers: string[];
  /** LEMON: the QAP placement's cost (sum over edges of the delay) and FAQ iterations. */
  placement?: { costUs: number; iterations: number };
  /** Rebuild rounds, in order. */
  rebuilds?: RebuildResult[];
  buildMs: number;
  evaluationMs: number;
  status: "building" | "evaluating" | "complete" | "failed";
  error?: string;
}

/** The all-to-all probing of one root's LEMON trees. */
export interface AllToAllResult {
  root: string;
  rootIndex: number;
  /** The workers probed, in the matrix's order. */
  addrs: string[];
  /** Peers a worker sent to (and received from) at most at once. */
  limit: number;
  rounds: number;
  /**
   * delaysUs[i][j]: the median one-way delay from addrs[i] to addrs[j], us;
   * null on the diagonal and where the pair did not report.
   */
  delaysUs: (number | null)[][];
  /** Datagrams sent by every stream of the phase. */
  packets: number;
  startedUs: number;
  finishedUs: number;
  /** Pairs that failed, if any ("from>to": why). */
  errors?: Record<string, string>;
}

/** A worker the testbed made slow, and how. */
export interface StragglerInfo {
  addr: string;
  /**
   * "emulate": in-band delay in its probes; "cpu": a CPU quota on its
   * processes; "model": a virtual pool's VM with a worse tail.
   */
  how: "emulate" | "cpu" | "model";
  /** The emulation spec, or the CPU limit. */
  detail: string;
}

/** The testbed a run was made on (`treecast demo`); absent for a plain manager run. */
export interface TestbedInfo {
  /**
   * "local": workers on 127.0.0.1; "netns": one network namespace per
   * worker; "virtual": workers in one process, probes answered by a seeded
   * network model (`treecast demo --virtual`).
   */
  kind: "local" | "netns" | "virtual";
  straggle: "emulate" | "cpu" | "model";
  /** The namespaces' /24, with "netns". */
  subnet?: string;
  /** The probes' I/O backend, when the testbed set it (worker `--io`). */
  probeIo?: string;
  stragglers: StragglerInfo[];
}

/** A mean and the half width of its confidence interval. */
export interface Estimate {
  mean: number;
  /** Half width of the 95 % interval; null with fewer than 2 samples. */
  ci: number | null;
}

/** One row of the summary: one tree kind. */
export interface SummaryRow {
  kind: string;
  /** The tree's name and type, and the rebuild round (0: as built). */
  tree: string;
  type: TreeType;
  round: number;
  /** Evaluations whose worst leaf reported delays (roots x runs). */
  n: number;
  /**
   * Evaluations whose worst leaf received nothing: counted apart, since a
   * silent leaf has no delay to average (it is worse than any delay).
   */
  silent: number;
  /** Over the `n` evaluations with delays; absent when `n` is 0. */
  p90Us?: Estimate;
  p50Us?: Estimate;
  meanUs?: Estimate;
  /**
   * (p90 mean - baseline's) / baseline's, in %, when there is a baseline
   * and both have delays.
   */
  vsRandomPct?: number;
  vsWorstPct?: number;
  /** Probing cost per tree, averaged over roots: datagrams sent, probing time. */
  probing: { packets: number; ms: number };
}

/** The summary of a results document (computed by `summary.ts`). */
export interface Summary {
  confidence: 0.95;
  /** The kinds the relative differences are against (round 0 of each). */
  random?: string;
  worst?: string;
  rows: SummaryRow[];
}

/** The whole results file. */
export interface Results {
  format: "treecast-results";
  versions: { program: string; protocol: number; results: number };
  name: string;
  status: "running" | "complete" | "interrupted" | "failed";
  error?: string;
  startedUs: number;
  finishedUs?: number;
  host: { hostname: string; os: string; arch: string; deno: string };
  script: { file: string; text: string; seed: number };
  workers: ConnectResult[];
  /** The probes' I/O backend, shared by every worker (set at CONNECT). */
  io?: Exclude<Io, "AUTO">;
  /** The receive timestamps every compared delay comes from (set at CONNECT). */
  timestamps?: Exclude<Timestamps, "TIMESTAMPS_UNSPECIFIED">;
  /** Receivers that reported another timestamp kind (candidates: never kept). */
  mismatches?: Mismatch[];
  testbed?: TestbedInfo;
  /** Workers lost during the run, in order. */
  lost: LostWorker[];
  /** `root: probe`: each candidate root's stage, its score, the roots chosen. */
  rootProbe?: {
    stages: StageResult[];
    /** Mean p90 of each candidate's sample, us (null: a stream failed). */
    scores: Record<string, number | null>;
    chosen: string[];
    startedUs: number;
    finishedUs: number;
  };
  /** The all-to-all probing phases of LEMON trees, one per root. */
  allToAll?: AllToAllResult[];
  /** Per tree kind over roots x runs (`summary.ts`), kept up to date. */
  summary?: Summary;
  trees: TreeResult[];
}
