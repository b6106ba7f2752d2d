/**
 * Hand-made results for the summary's tests: evaluations with a worst
 * leaf, stages with a sender, trees, and a results document around them.
 *
 * @module
 */
import type {
  EvaluationResult,
  Results,
  StageResult,
  TreeResult,
  TreeType,
} from "./results.ts";

/** An evaluation whose worst leaf had p90 `p90` (p50 half, mean a third). */
export function evaluation(
  run: number,
  p90: number,
  round = 0,
): EvaluationResult {
  return {
    run,
    ...(round ? { round } : {}),
    startedUs: 0,
    finishedUs: 1,
    nodes: [],
    missing: [],
    worstLeaf: {
      addr: "x",
      p90Us: p90,
      p50Us: p90 / 2,
      meanUs: p90 / 3,
      stddevUs: 1,
    },
  };
}

/** A stage of a parent sending `sent` datagrams to 4 children. */
export function stage(
  startMs: number,
  endMs: number,
  sent: number,
  round = 0,
): StageResult {
  return {
    depth: 0,
    parent: "p",
    batch: 1,
    candidates: [],
    sender: {
      sent,
      children: 4,
      lateShare: 0,
      latenessP50Us: 0,
      latenessP99Us: 0,
      latenessMaxUs: 0,
    },
    startedUs: startMs * 1000,
    finishedUs: endMs * 1000,
    ...(round ? { round } : {}),
  };
}

/** A complete tree of depth 2 and fanout 2 from root `r<rootIndex>`. */
export function tree(
  name: string,
  type: TreeType,
  rootIndex: number,
  evaluations: EvaluationResult[],
  stages: StageResult[] = [],
): TreeResult {
  return {
    name,
    type,
    root: `r${rootIndex}`,
    rootIndex,
    parallel: true,
    depth: 2,
    fanout: 2,
    nodes: [],
    edges: [],
    stages,
    evaluations,
    stragglers: [],
    buildMs: 0,
    evaluationMs: 0,
    status: "complete",
  };
}

/** A results document of `trees`, with an all-to-all phase per root 0 and 1. */
export function results(trees: TreeResult[]): Results {
  return {
    format: "treecast-results",
    versions: { program: "0", protocol: 1, results: 1 },
    name: "t",
    status: "complete",
    startedUs: 0,
    host: { hostname: "h", os: "linux", arch: "x86_64", deno: "2" },
    script: { file: "s.yaml", text: "", seed: 1 },
    workers: [],
    lost: [],
    trees,
    allToAll: [0, 1].map((rootIndex) => ({
      root: `r${rootIndex}`,
      rootIndex,
      addrs: [],
      limit: 2,
      rounds: 3,
      delaysUs: [],
      packets: 1000 * (rootIndex + 1),
      startedUs: 0,
      finishedUs: 2_000_000,
    })),
  };
}
