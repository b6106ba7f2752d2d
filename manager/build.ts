/**
 * Building a tree by stages: the ROOT step of one tree (place its root, or
 * draw a RANDOM tree), the PARENT step (parents of one depth probe their K
 * candidates at once), and a stage's scoring (keep F per parent). The
 * stage machinery (`startStages`, `scoreStage`) is shared with the rebuild.
 *
 * @module
 */
import { nowUs } from "../proto/codec.ts";
import type { StageResult } from "../core/results.ts";
import { offsetDoubt, sameClock } from "./clock_checks.ts";
import { STRATEGY_WEIGHTS } from "./defaults.ts";
import { placeTree } from "./lemon.ts";
import { deriveSeed, Pool } from "./pool.ts";
import {
  mismatchesOf,
  type Probe,
  probe,
  type Probed,
  type ProbeFailure,
  streamMs,
} from "./probing.ts";
import { enough, type StepContext, treeFailed, TreeFailure } from "./step.ts";
import { clippedBeforeCorrection, select } from "./strategy.ts";
import type { TreeRun } from "./treerun.ts";

/** How a rebuild scores the candidates of a tree that has no strategy. */
const REBUILD_STRATEGY = {
  name: "P90",
  weights: { ...STRATEGY_WEIGHTS.P90 },
} as const;

/**
 * Attempts of one parent's stage: a failed stage (a worker lost, paused,
 * late or refusing) is retried once without it; a second failure fails the
 * tree (the run goes on).
 */
const STAGE_ATTEMPTS = 2;

/** Failed attempts per tree node's stage, per tree. */
const stageFailures = new WeakMap<TreeRun, Map<number, number>>();

/**
 * Counts a failed attempt of node `i`'s stage; past {@link STAGE_ATTEMPTS},
 * the tree fails.
 */
function stageAttemptFailed(run: TreeRun, i: number, error: string): void {
  const counts = stageFailures.get(run) ?? new Map<number, number>();
  stageFailures.set(run, counts);
  const n = (counts.get(i) ?? 0) + 1;
  counts.set(i, n);
  run.failures++;
  if (n >= STAGE_ATTEMPTS) {
    throw new TreeFailure(
      run,
      `${run.spec.name}: the stage of node ${i} failed ${n} times; last: ${error}`,
    );
  }
}

/** One parent's probe in a stage: tree node `parentIndex`, its candidates. */
export interface StageProbe extends Probe {
  parentIndex: number;
}

/** One parent's probing job in a stage, as it ended. */
export type StageJob = Probed<StageProbe>;

/** ROOT for one tree: place the root, then build (or draw) the rest. */
export function startTree(ctx: StepContext, run: TreeRun): void {
  ctx.results.trees.push(run.result);
  run.t0 = ctx.clock.now();
  ctx.emit({
    kind: "tree-start",
    tree: run.result,
    index: run.index,
    total: run.total,
  });
  if (!ctx.alive.has(run.root)) {
    return treeFailed(ctx, run, `The root "${run.root}" was lost`);
  }
  run.pool = new Pool([...ctx.alive].filter((a) => a !== run.root).sort(), {
    seed: run.seed,
  });
  run.tree.setRoot(run.root);
  ctx.sync(run);
  if (run.spec.type === "RANDOM") {
    // RANDOM draws every node's children without probing.
    for (
      let i = run.tree.nextInternal();
      i !== undefined;
      i = run.tree.nextInternal()
    ) {
      const kept = run.pool.draw(enough(ctx, run, run.tree.fanout));
      run.tree.addChildren(i, kept);
      run.pool.remove(kept);
    }
    return built(ctx, run);
  }
  if (run.spec.type === "LEMON") return placeLemon(ctx, run);
  ctx.next({ action: "PARENT", run });
}

/** LEMON: the workers placed by FAQ over the root's delay matrix. */
function placeLemon(ctx: StepContext, run: TreeRun): void {
  if (!run.phase) {
    return treeFailed(ctx, run, "The LEMON all-to-all phase did not run");
  }
  const l = ctx.script.lemon;
  const placed = placeTree({
    addrs: run.phase.addrs,
    delaysUs: run.phase.delaysUs,
    root: run.root,
    depth: run.tree.depth,
    fanout: run.tree.fanout,
    usable: new Set(run.pool.list()),
    seed: deriveSeed(run.seed, "faq"),
    start: l.start,
    maxIterations: l.iterations,
    tolerance: l.tolerance,
    restarts: l.restarts,
  });
  run.tree.internalIndices().forEach((i) => {
    const kids = run.tree.childIndices(i).map((c) => placed.nodes[c]!);
    run.tree.addChildren(i, kids);
    run.pool.remove(kids);
  });
  run.result.placement = {
    costUs: placed.costUs,
    iterations: placed.iterations,
  };
  built(ctx, run);
}

/** The tree is complete: record its build time and evaluate it. */
export function built(ctx: StepContext, run: TreeRun): void {
  run.result.buildMs = ctx.clock.now() - run.t0;
  run.result.status = "evaluating";
  ctx.sync(run);
  ctx.save();
  ctx.next({ action: "MCAST", run, evalRun: 1 });
}

/** PARENT: start the next stage(s): parents probing their candidates. */
export async function parentStep(
  ctx: StepContext,
  run: TreeRun,
): Promise<void> {
  const s = ctx.script;
  const F = s.fanout;
  let pending = s.parallel
    ? run.tree.pendingAtDepth()
    : [run.tree.nextInternal()!];
  let k = enough(
    ctx,
    run,
    Math.max(F, run.pool.candidatesFor(s.hyperparameter, F)),
  );
  // Parents of one depth probe at once, each with its own K candidates, as
  // many as the pool holds; the rest follow in the next batch.
  pending = pending.slice(0, Math.max(1, Math.floor(run.pool.size / k)));
  if (pending.length === 1) k = Math.min(k, run.pool.size);
  const sets = run.pool.drawDisjoint(pending.length, k);
  await startStages(ctx, run, pending, sets, (jobs) => {
    const stages = jobs.map((j) => {
      const { stage, kept } = scoreStage(ctx, run, j);
      if (kept) {
        run.tree.addChildren(j.probe.parentIndex, kept);
        run.pool.remove(kept);
      }
      return stage;
    });
    stagesDone(ctx, run, stages);
    if (!run.tree.complete) return ctx.next({ action: "PARENT", run });
    built(ctx, run);
  }, () => ctx.next({ action: "PARENT", run }));
}

/**
 * Starts one stage per parent node (`parents[n]` probing `sets[n]`), then
 * queues its REPORT; `finish` gets the jobs that reported. When no stage
 * could start, `retry` runs instead.
 */
export async function startStages(
  ctx: StepContext,
  run: TreeRun,
  parentIndices: number[],
  sets: string[][],
  finish: (jobs: StageJob[]) => void,
  retry: () => void,
): Promise<void> {
  const s = ctx.script;
  const parents = parentIndices.map((i) => run.tree.nodes[i]!);
  ctx.emit({
    kind: "stage-start",
    tree: run.result,
    depth: run.tree.depthOf(parentIndices[0]!),
    parents,
    sets,
    candidates: sets[0]?.length ?? 0,
    expectedMs: streamMs(s),
  });
  await probe(ctx, {
    label: run.spec.name,
    what: "a PARENT stage",
    stream: s, // the script's rate, duration and warm-up
    select: s.fanout,
    probes: parentIndices.map((parentIndex, n) => ({
      parentIndex,
      parent: parents[n]!,
      children: sets[n]!,
      instr: `${run.spec.name} stage: parent ${parents[n]}`,
    })),
  }, (jobs) => {
    for (const l of jobs.flatMap((j) => j.lostBelow)) {
      ctx.markLost(l.addr, "stage", l.detail, run, l.reason);
    }
    for (const j of jobs) {
      if (j.failure) stageFailed(ctx, run, j, j.failure);
    }
    if (jobs.every((j) => j.jobId === undefined)) return retry();
    ctx.recordMismatches(mismatchesOf(jobs), run.spec.name, "stage");
    run.batch++;
    finish(jobs.filter((j) => j.report));
  });
}

/**
 * A stage of parent node `i` failed. The worker it excluded (a lost,
 * paused, late or refusing parent; a candidate its relay could not reach)
 * is recorded; a parent is replaced in the tree, a candidate dropped from
 * the pool; the stage runs again. A candidate found unreachable before
 * anything started costs only a new draw (the pool bounds those); any
 * other failure is the stage's one retry.
 */
function stageFailed(
  ctx: StepContext,
  run: TreeRun,
  j: StageJob,
  f: ProbeFailure,
): void {
  const i = j.probe.parentIndex, { addr, detail, reason } = f.lost;
  ctx.markLost(addr, "stage", detail, run, reason);
  const parent = addr === run.tree.nodes[i];
  if (parent) replaceLost(ctx, run, i, f.error);
  if (parent || j.jobId !== undefined) stageAttemptFailed(run, i, f.error);
}

/** Replaces the lost (childless) node `i` with a live worker from the pool. */
function replaceLost(
  ctx: StepContext,
  run: TreeRun,
  i: number,
  error: string,
): void {
  if (i === 0) {
    throw new TreeFailure(
      run,
      `The root "${run.tree.nodes[0]}" was lost: ${error}`,
    );
  }
  const parent = run.tree.nodes[run.tree.parentIndex(i)!]!;
  // The next best candidate of the stage that placed the lost node, if it
  // is still free; otherwise a random one.
  const stage = [...run.result.stages].reverse().find((st) =>
    st.parent === parent
  );
  const ranked = (stage?.candidates ?? [])
    .filter((c) => !c.kept && c.score !== undefined && run.pool.has(c.addr))
    .sort((a, b) =>
      run.spec.type === "WORST" ? b.score! - a.score! : a.score! - b.score!
    );
  const addr = ranked[0]?.addr ?? run.pool.draw(enough(ctx, run, 1))[0]!;
  run.tree.replace(i, addr);
  run.pool.remove([addr]);
  ctx.sync(run);
}

/**
 * Scores one finished stage job's candidates: the F the tree's strategy
 * keeps among the live, `eligible` ones (by default those not in the tree);
 * none, with the error in the stage, when too few are usable.
 */
export function scoreStage(
  ctx: StepContext,
  run: TreeRun,
  j: StageJob,
  eligible: (addr: string) => boolean = (a) => !run.tree.has(a),
): { stage: StageResult; kept?: string[] } {
  const report = j.report!;
  const byAddr = new Map(report.deps.map((d) => [d.owner, d]));
  const cands = j.probe.children.map((addr) => ({
    addr,
    ...(byAddr.get(addr)?.stats ? { stats: byAddr.get(addr)!.stats! } : {}),
  }));
  // Delays measured with another timestamp kind are not compared.
  const mismatched = j.mismatches;
  let kept: string[] | undefined;
  let scores: Record<string, number> = {};
  let error: string | undefined;
  try {
    // Live, and not placed meanwhile (as a lost node's replacement).
    const usable = cands.filter((c) =>
      ctx.alive.has(c.addr) && eligible(c.addr) && !mismatched.get(c.addr)
    );
    const sel = select(usable, {
      keep: ctx.script.fanout,
      // A RANDOM or LEMON tree's rebuild stage keeps the lowest p90s.
      type: run.spec.type === "WORST" ? "WORST" : "BEST",
      strategy: run.spec.strategy ?? REBUILD_STRATEGY,
      offsets: ctx.script.clocks.offsets,
    });
    kept = sel.kept;
    scores = sel.scores;
  } catch (e) {
    // Too few usable candidates: the node stays pending; the stage runs
    // again, once.
    error = (e as Error).message;
    stageAttemptFailed(run, j.probe.parentIndex, error);
  }
  const stage: StageResult = {
    depth: run.tree.depthOf(j.probe.parentIndex),
    parent: j.probe.parent,
    batch: run.batch,
    candidates: cands.map((c) => {
      const dep = byAddr.get(c.addr);
      const score = scores[c.addr];
      const clipped = clippedBeforeCorrection(
        c.stats,
        ctx.script.clocks.offsets,
      );
      return {
        ...c,
        ...(score !== undefined && Number.isFinite(score) ? { score } : {}),
        ...(clipped !== undefined ? { clipped } : {}),
        kept: kept?.includes(c.addr) ?? false,
        ...(dep?.error || mismatched.get(c.addr)
          ? { error: dep?.error || mismatched.get(c.addr)! }
          : {}),
      };
    }),
    ...(report.sender ? { sender: report.sender } : {}),
    // The probes' own times (the workers' clocks), when they reported them.
    startedUs: report.started || j.startedUs,
    finishedUs: Math.max(report.ended, ...report.deps.map((d) => d.ended)) ||
      nowUs(),
    ...(run.round > 0 ? { round: run.round } : {}),
    ...(error ? { error } : {}),
  };
  const doubt = kept &&
    offsetDoubt(
      stage.candidates,
      run.spec.type === "WORST" ? "WORST" : "BEST",
      run.spec.strategy ?? REBUILD_STRATEGY,
      (addr) => sameClock(ctx.results.workers, j.probe.parent, addr),
    );
  if (doubt) stage.offsetDoubt = doubt;
  return { stage, ...(kept ? { kept } : {}) };
}

/** Records finished stages in the tree's results. */
export function stagesDone(
  ctx: StepContext,
  run: TreeRun,
  stages: StageResult[],
): void {
  run.result.stages.push(...stages);
  ctx.sync(run);
  ctx.save();
  ctx.emit({ kind: "stage-done", tree: run.result, stages });
}
