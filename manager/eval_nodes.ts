/**
 * Turns the report of a multicast evaluation (the root's job with its
 * dependencies nested below it) into per-node results.
 *
 * @module
 */
import type { Job } from "../proto/codec.ts";
import type {
  EvalNode,
  EvaluationResult,
  SilentLeaf,
  WorstLeaf,
} from "./results.ts";

/** Options of {@link evaluationFromReport}. */
export interface EvaluationOptions {
  run: number;
  root: string;
  /** Every address of the tree (to find the ones that did not report). */
  treeNodes: readonly string[];
  startedUs: number;
  finishedUs: number;
}

/** Flattens the root's report: one node per job, depth-first from the root. */
export function evaluationFromReport(
  root: Job | undefined,
  o: EvaluationOptions,
): EvaluationResult {
  const nodes: EvalNode[] = [];
  const visit = (j: Job, depth: number, owner: string) => {
    const role = depth === 0
      ? "root"
      : j.deps.length > 0 || j.flag === "PROXY"
      ? "proxy"
      : "leaf";
    nodes.push({
      addr: owner,
      role,
      depth,
      emulate: j.emulate,
      ...(j.stats ? { stats: j.stats } : {}),
      ...(j.forward ? { forward: j.forward } : {}),
      ...(j.sender ? { sender: j.sender } : {}),
      ...(j.error ? { error: j.error } : {}),
    });
    j.deps.forEach((d) => visit(d, depth + 1, d.owner));
  };
  if (root) visit(root, 0, o.root);
  const reported = new Set(
    nodes.filter((n) => n.role === "root" ? n.sender : n.stats).map((n) =>
      n.addr
    ),
  );
  const leaves = nodes.filter((n) => n.role === "leaf" && n.stats);
  const silent: SilentLeaf[] = leaves.filter((n) => n.stats!.received === 0)
    .map((n) => ({ addr: n.addr, reason: _silence(n) }));
  const worst = leaves.filter((n) => n.stats!.received > 0).reduce<
    EvalNode | undefined
  >(
    (w, n) => (!w || n.stats!.p90Us > w.stats!.p90Us ? n : w),
    undefined,
  );
  const worstLeaf: WorstLeaf | undefined = silent[0]
    ? { addr: silent[0].addr, silent: silent[0].reason }
    : worst && {
      addr: worst.addr,
      p90Us: worst.stats!.p90Us,
      p50Us: worst.stats!.p50Us,
      meanUs: worst.stats!.meanUs,
      stddevUs: worst.stats!.stddevUs,
    };
  return {
    run: o.run,
    startedUs: o.startedUs,
    finishedUs: o.finishedUs,
    nodes,
    missing: o.treeNodes.filter((a) => !reported.has(a)),
    silent,
    ...(worstLeaf ? { worstLeaf } : {}),
  };
}

/** Why a leaf that reported received nothing, as far as its report says. */
function _silence(n: EvalNode): string {
  const s = n.stats!;
  const end = s.endSeen ? "" : ", nor the stream's END";
  const lost = s.lost > 0 ? ` (${s.lost} counted lost)` : "";
  const why = n.error ? `: ${n.error}` : "";
  return `received no packets${lost}${end}${why}`;
}
