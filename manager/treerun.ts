/**
 * One tree being built and evaluated: a (root, tree spec) pair with its
 * tree, its pool of free workers, its seeded generators and its results.
 *
 * @module
 */
import { deriveSeed, Pool, Rng } from "./pool.ts";
import type { AllToAllResult, TreeResult } from "../core/results.ts";
import type { Script, TreeSpec } from "./script_types.ts";
import { Tree } from "./tree.ts";
import { hedgeEdges } from "./hedge.ts";

/** A tree being built and evaluated: one (root, tree spec) pair. */
export interface TreeRun {
  spec: TreeSpec;
  root: string;
  rootIndex: number;
  seed: number;
  tree: Tree;
  pool: Pool;
  rng: Rng;
  result: TreeResult;
  index: number;
  total: number;
  t0: number;
  batch: number;
  /** Stage attempts that failed (lost workers); bounded. */
  failures: number;
  /** Rebuild rounds done. */
  round: number;
  /** LEMON: the root's all-to-all phase, once it ran. */
  phase?: AllToAllResult;
}

/** Options of {@link newTreeRun}. */
export interface TreeRunOptions {
  script: Script;
  root: string;
  rootIndex: number;
  /** Position among all the runs of the experiment, and their number. */
  index: number;
  total: number;
}

/**
 * A fresh run: an empty tree and pool (filled at its ROOT step), generators
 * seeded from the script's seed, the root's index and the tree's name.
 */
export function newTreeRun(spec: TreeSpec, o: TreeRunOptions): TreeRun {
  const s = o.script;
  const seed = deriveSeed(s.seed, o.rootIndex, spec.name);
  const result: TreeResult = {
    name: spec.name,
    type: spec.type,
    ...(spec.strategy
      ? {
        strategy: {
          name: spec.strategy.name,
          weights: { ...spec.strategy.weights },
        },
      }
      : {}),
    root: o.root,
    rootIndex: o.rootIndex,
    parallel: s.parallel,
    depth: s.depth,
    fanout: s.fanout,
    ...(spec.hedge ? { hedge: spec.hedge } : {}),
    nodes: [],
    edges: [],
    stages: [],
    evaluations: [],
    stragglers: [],
    buildMs: 0,
    evaluationMs: 0,
    status: "building",
  };
  const tree = new Tree({ depth: s.depth, fanout: s.fanout });
  tree.setHedges(hedgeEdges({
    depth: s.depth,
    fanout: s.fanout,
    hedge: spec.hedge ?? 0,
    type: spec.type,
    seed: deriveSeed(seed, "hedge"),
  }));
  return {
    spec,
    root: o.root,
    rootIndex: o.rootIndex,
    seed,
    tree,
    pool: new Pool([], { seed }),
    rng: new Rng(deriveSeed(seed, "select")),
    result,
    index: o.index,
    total: o.total,
    t0: 0,
    batch: 0,
    failures: 0,
    round: 0,
  };
}
