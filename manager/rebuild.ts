/**
 * The REBUILD step (`rebuild: N` rounds): after a tree's evaluations, the
 * worst leaf's parent probes again its current children plus fresh
 * candidates from the pool, keeps the best F as its children (the others
 * go back to the pool), and the tree is evaluated again.
 *
 * @module
 */
import { type EvaluationResult, leafDelays } from "../core/results.ts";
import { nowUs } from "../proto/codec.ts";
import { scoreStage, stagesDone, startStages } from "./build.ts";
import { type StepContext, treeDone } from "./step.ts";
import type { TreeRun } from "./treerun.ts";

/** REBUILD: one round of the worst-leaf-parent re-probe. */
export async function rebuildStep(
  ctx: StepContext,
  run: TreeRun,
): Promise<void> {
  const round = run.round + 1;
  const worst = run.result.evaluations
    .filter((e) => (e.round ?? 0) === run.round && e.worstLeaf)
    .sort((a, b) => _p90(b) - _p90(a))[0]?.worstLeaf;
  const leaf = worst && run.tree.indexOf(worst.addr);
  const parentIndex = leaf === undefined
    ? undefined
    : run.tree.parentIndex(leaf);
  const F = ctx.script.fanout;
  const k = Math.max(
    F + 1,
    run.pool.candidatesFor(ctx.script.hyperparameter, F),
  );
  const fresh = Math.min(run.pool.size, k - F);
  if (parentIndex === undefined || fresh === 0) {
    // Nothing to re-probe (no leaf reported, or no free worker): done.
    run.result.status = "complete";
    ctx.save();
    return treeDone(ctx, run);
  }
  const children = run.tree.childIndices(parentIndex);
  const current = children.map((i) => run.tree.nodes[i]!);
  const candidates = [...current, ...run.pool.draw(fresh)];
  run.result.status = "evaluating";
  const t0 = ctx.clock.now();
  await startStages(ctx, run, [parentIndex], [candidates], (jobs) => {
    run.round = round;
    const stages = jobs.map((j) => {
      const { stage, kept } = scoreStage(
        ctx,
        run,
        j,
        (a) => current.includes(a) || !run.tree.has(a),
      );
      if (kept) {
        // Children that stay keep their place; the others make room.
        const leaving = children.filter((i) =>
          !kept.includes(run.tree.nodes[i]!)
        );
        const entering = kept.filter((a) => !current.includes(a));
        leaving.forEach((i, n) => {
          const old = run.tree.replace(i, entering[n]!);
          if (ctx.alive.has(old)) run.pool.add(old);
        });
        run.pool.remove(entering);
      }
      return stage;
    });
    stagesDone(ctx, run, stages);
    run.result.rebuilds = [
      ...(run.result.rebuilds ?? []),
      {
        round,
        parent: run.tree.nodes[parentIndex]!,
        worstLeaf: worst!.addr,
        before: current,
        after: run.tree.childIndices(parentIndex).map((i) =>
          run.tree.nodes[i]!
        ),
        ms: ctx.clock.now() - t0,
        finishedUs: nowUs(),
      },
    ];
    ctx.next({ action: "MCAST", run, evalRun: 1 });
  }, () => ctx.next({ action: "REBUILD", run }));
}

/** The worst leaf's p90; a silent worst leaf (it got nothing) is the worst. */
function _p90(e: EvaluationResult): number {
  return leafDelays(e.worstLeaf)?.p90Us ?? Infinity;
}
