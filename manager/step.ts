/**
 * What every kind of step shares: the step type of the one queue, the
 * experiment's events, and the context a step module runs against (the
 * queue, the live and lost workers, the results document). Each kind of step
 * lives in its own module (`build.ts`, `mcast.ts`, `alltoall.ts`,
 * `rebuild.ts`, `roots.ts`), each probing through `probing.ts`;
 * `experiment.ts` pops the queue and dispatches.
 *
 * @module
 */
import type { AllToAllState } from "./alltoall_state.ts";
import type { IoMode } from "./iomode.ts";
import type { Job } from "../proto/codec.ts";
import type { Clock } from "./time_source.ts";
import type {
  ConnectResult,
  EvaluationResult,
  LostReason,
  LostWorker,
  Mismatch,
  Results,
  StageResult,
  TreeResult,
} from "../core/results.ts";
import type { Manager } from "./manager.ts";
import type { Script } from "./script.ts";
import type { TreeRun } from "./treerun.ts";

/** What the workflow asks of the workers (implemented by {@link Manager}). */
export type Workers = Pick<
  Manager,
  "connect" | "command" | "report" | "stopJobs" | "listening"
>;

/** Progress of an experiment, for the CLI to show. */
export type ExperimentEvent =
  | {
    kind: "connect";
    results: ConnectResult[];
    /** The probes' I/O mode the admitted workers share (none: see `modeError`). */
    mode?: IoMode;
    modeError?: string;
  }
  | { kind: "tree-start"; tree: TreeResult; index: number; total: number }
  | {
    kind: "stage-start";
    tree: TreeResult;
    depth: number;
    parents: string[];
    /** Each parent's candidates, in the order of `parents`. */
    sets: string[][];
    candidates: number;
    expectedMs: number;
  }
  | { kind: "stage-done"; tree: TreeResult; stages: StageResult[] }
  | { kind: "eval-start"; tree: TreeResult; run: number; expectedMs: number }
  | { kind: "eval-done"; tree: TreeResult; evaluation: EvaluationResult }
  | { kind: "tree-done"; tree: TreeResult; index: number; total: number }
  | {
    kind: "alltoall-start";
    root: string;
    round: number;
    rounds: number;
    expectedMs: number;
  }
  | { kind: "alltoall-done"; root: string; ms: number; packets: number }
  | { kind: "lost"; lost: LostWorker }
  | { kind: "readmitted"; addr: string };

/** A step of the queue. */
export type Step =
  | { action: "CONNECT" }
  /** Without a run: choose the roots; with one: start building that tree. */
  | { action: "ROOT"; run?: TreeRun }
  | { action: "PARENT"; run: TreeRun }
  | ReportStep
  | { action: "MCAST"; run: TreeRun; evalRun: number }
  /** The all-to-all probing of one root's LEMON trees, then their placement. */
  | { action: "ALLTOALL"; runs: TreeRun[]; state?: AllToAllState }
  /** One rebuild round of an evaluated tree: re-probe its worst leaf's parent. */
  | { action: "REBUILD"; run: TreeRun };

/**
 * REPORT: at `trigger` (clock ms) ask the workers how the pending jobs
 * went; `poll` resolves true once they are all accounted for, then
 * `finish` runs; otherwise false, or what it still waits for. Past
 * `deadline`, `expire` marks what has not reported as late (and stops it),
 * then `finish` runs with what did.
 */
export interface ReportStep {
  action: "REPORT";
  /** Who waits (a tree's name), for the timeout's message. */
  label: string;
  what: string;
  trigger: number;
  deadline: number;
  poll: () => Promise<boolean | string>;
  expire: () => void | Promise<void>;
  finish: () => void | Promise<void>;
}

/**
 * What an incomplete report still waits for: the job itself, or the jobs
 * below it that have not ended (by owner), for a timeout's message.
 */
export function pendingOf(job: Job): string {
  const below = job.deps.map(pendingOf);
  const self = job.end
    ? ""
    : `${job.flag.toLowerCase()} job ${job.id} on ${
      job.owner || "?"
    } still running`;
  return [self, ...below].filter((x) => x !== "").join("; ");
}

/** What a step module may use of the experiment. */
export interface StepContext {
  readonly script: Script;
  readonly m: Workers;
  readonly signal: AbortSignal | undefined;
  readonly clock: Clock;
  readonly results: Results;
  /** Admitted workers, less the lost ones. */
  readonly alive: ReadonlySet<string>;
  /** Addresses lost and not admitted again. */
  lostAddrs(): string[];
  emit(e: ExperimentEvent): void;
  /** Writes the results document. */
  save(): void;
  /** Runs these steps next, in this order. */
  next(...steps: Step[]): void;
  /** Excludes a worker from the rest of the run, recording why. */
  markLost(
    addr: string,
    during: LostWorker["during"],
    detail: string,
    run?: TreeRun,
    reason?: LostReason,
  ): void;
  /**
   * Jobs started and not yet accounted for (reported complete, or given up
   * on): the ones stopped when the run ends any way but complete.
   */
  readonly running: Map<string, { addr: string; id: string }>;
  /** Copies the tree's shape into its result. */
  sync(run: TreeRun): void;
  /** Queues a REPORT for jobs expected to end in `expectedMs`. */
  awaitReport(
    label: string,
    what: string,
    expectedMs: number,
    handlers: Pick<ReportStep, "poll" | "expire" | "finish">,
  ): void;
  /** Throws when interrupted (for catch blocks that would swallow it). */
  checkAborted(): void;
  /**
   * The probes' I/O mode of the run (for every COMMAND); throws when the
   * workers share none.
   */
  ioMode(): IoMode;
  /**
   * Records receivers whose statistics do not fit the run's mode (the
   * results' `mismatches`), found by `probing.ts` in `tree` (or a phase's
   * name) `during` a stage or an evaluation.
   */
  recordMismatches(
    found: readonly { addr: string; detail: string }[],
    tree: string,
    during: Mismatch["during"],
  ): void;
}

/**
 * A tree that cannot be finished (too few workers left, its root lost, a
 * stage failed again after its retry): the tree fails, the run goes on.
 */
export class TreeFailure extends Error {
  override name = "TreeFailure";
  constructor(readonly run: TreeRun, message: string) {
    super(message);
  }
}

/** Throws a clear error when the pool cannot supply `k` workers. */
export function enough(ctx: StepContext, run: TreeRun, k: number): number {
  if (run.pool.size < k) {
    throw new TreeFailure(
      run,
      `${run.spec.name}: the pool has ${run.pool.size} live workers left, too few to ` +
        `finish the tree (lost: ${
          ctx.lostAddrs().map((a) => `"${a}"`).join(", ") || "none"
        })`,
    );
  }
  return k;
}

/** Marks a tree failed and says it is done. */
export function treeFailed(
  ctx: StepContext,
  run: TreeRun,
  error: string,
): void {
  run.result.status = "failed";
  run.result.error = error;
  ctx.save();
  treeDone(ctx, run);
}

/** Says a tree is done (complete or failed). */
export function treeDone(ctx: StepContext, run: TreeRun): void {
  ctx.emit({
    kind: "tree-done",
    tree: run.result,
    index: run.index,
    total: run.total,
  });
}
