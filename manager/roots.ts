/**
 * The script's ROOT step: choose the roots (the one the script names, or
 * `roots` drawn at random), then queue, per root, a ROOT step for every
 * tree of the script, with the root's LEMON trees behind one ALLTOALL
 * step (their shared all-to-all probing phase).
 *
 * @module
 */
import { deriveSeed, Pool } from "./pool.ts";
import type { Step, StepContext } from "./step.ts";
import { nodeCount } from "./tree.ts";
import { newTreeRun } from "./treerun.ts";

/** ROOT (the script's): choose the roots, queue the trees of each. */
export function expandRoots(ctx: StepContext): void {
  const s = ctx.script;
  const admitted = [...ctx.alive];
  const need = nodeCount(s.depth, s.fanout);
  if (admitted.length < need) {
    throw new Error(
      `Only ${admitted.length} of ${s.addrs.length} workers answered; a tree of depth ` +
        `${s.depth} and fanout ${s.fanout} needs ${need}`,
    );
  }
  let roots: string[];
  if (s.root !== undefined) {
    if (!admitted.includes(s.root)) {
      throw new Error(`The root "${s.root}" did not answer`);
    }
    roots = [s.root];
  } else {
    roots = new Pool(admitted, { seed: deriveSeed(s.seed, "roots") }).draw(
      Math.min(s.roots, admitted.length),
    );
  }
  queueTrees(ctx, roots);
}

/** Queues every tree of the script from each root, in order. */
export function queueTrees(ctx: StepContext, roots: readonly string[]): void {
  const s = ctx.script;
  const total = roots.length * s.trees.length;
  const steps: Step[] = [];
  let index = 0;
  roots.forEach((root, rootIndex) => {
    const runs = s.trees.map((spec) =>
      newTreeRun(spec, { script: s, root, rootIndex, index: index++, total })
    );
    const lemon = runs.filter((r) => r.spec.type === "LEMON");
    runs.forEach((run) => {
      if (run === lemon[0]) steps.push({ action: "ALLTOALL", runs: lemon });
      steps.push({ action: "ROOT", run });
    });
  });
  ctx.next(...steps);
}
