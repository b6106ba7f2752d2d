/**
 * The MCAST step: a finished tree is evaluated with a multicast stream from
 * its root through its proxies to its leaves, `evaluation.runs` times; then
 * rebuilt (`rebuild` rounds) and evaluated again, or done. One evaluation
 * reads as: command the root (`probing.ts`, which waits for the tree's
 * report), collect the per-node results (`eval_nodes.ts`), ask the root for
 * the per-message figures part by part (`messages.ts`), record them. A
 * failure to get the parts costs the figures (recorded on them:
 * `failedParts`, `error`), never the evaluation or the run.
 *
 * @module
 */
import { lostForJob } from "../core/node.ts";
import { nowUs } from "../proto/codec.ts";
import type { MessageFigures } from "../core/message_figures.ts";
import { partFromWire } from "../core/message_parts.ts";
import type { EvaluationResult } from "../core/results.ts";
import { evaluationFromReport } from "./eval_nodes.ts";
import {
  collectMessageFigures,
  type CollectOptions,
  partRequest,
} from "./messages.ts";
import {
  type Lost,
  type Mismatched,
  mismatchesOf,
  type Probe,
  probe,
  type Probed,
  streamMs,
} from "./probing.ts";
import { type StepContext, treeDone, treeFailed } from "./step.ts";
import type { TreeRun } from "./treerun.ts";

/** MCAST: trickle the evaluation down the tree from its root. */
export async function mcastStep(
  ctx: StepContext,
  run: TreeRun,
  evalRun: number,
): Promise<void> {
  const s = ctx.script, sub = run.tree.subtree(0);
  const rebuilt = run.round > 0 ? ` after rebuild ${run.round}` : "";
  ctx.emit({
    kind: "eval-start",
    tree: run.result,
    run: evalRun,
    expectedMs: streamMs(s.evaluation),
  });
  await probe(ctx, {
    label: run.spec.name,
    what: "the MCAST evaluation",
    stream: s.evaluation,
    select: s.fanout,
    mcast: { layers: s.depth },
    probes: [{
      parent: run.root,
      children: sub.children.map((c) => c.addr),
      subtrees: sub.children,
      instr: `${run.spec.name} evaluation ${evalRun}${rebuilt}`,
    }],
  }, async ([p]) => {
    const evaluated = collect(run, evalRun, p!);
    if (p!.report && !evaluated.evaluation.error) {
      evaluated.evaluation.messages = await messageFigures(ctx, run, p!);
    }
    recordEvaluation(ctx, run, evaluated);
  });
}

/**
 * The evaluation's per-message figures: REPORTs with a part request to the
 * root's job, part after part, each with the deadline of a request relayed
 * down the tree and the run's signal. Receivers are the tree's leaves;
 * delays are corrected with `clocks: correct`; fairness is judged as the
 * script's `evaluation.fairness` says.
 */
async function messageFigures(
  ctx: StepContext,
  run: TreeRun,
  p: Probed<Probe>,
): Promise<MessageFigures> {
  const s = ctx.script, f = s.evaluation.fairness, tree = run.tree;
  const opts: CollectOptions = {
    rate: s.evaluation.rate,
    receivers: tree.leafIndices().filter((i) => tree.nodes[i]).length,
    correct: s.clocks.offsets === "correct",
    windowMs: f.windowMs,
    percentile: f.percentile,
    marginUs: f.marginUs,
    holdsUs: f.holdsUs,
  };
  // A root that is gone fails every later part at once, not at its deadline.
  let gone: Error | undefined;
  const figures = await collectMessageFigures(async (k) => {
    if (gone) throw gone;
    try {
      const r = await ctx.m.report(run.root, p.jobId!, {
        layers: s.depth,
        signal: ctx.signal,
        partRequest: partRequest(k, opts),
      });
      if (!r.part) throw new Error(`"${run.root}" answered without a part`);
      return partFromWire(r.part);
    } catch (e) {
      if (lostForJob(e)) gone = e;
      throw e;
    }
  }, opts);
  ctx.checkAborted(); // an interruption is no failed part
  return figures;
}

/** What one evaluation found: per-node results, workers lost, its failure. */
interface Evaluated {
  evaluation: EvaluationResult;
  lost: Lost[];
  mismatches: Mismatched[];
}

/**
 * The evaluation from the root's report, one result per node (a node that
 * measured with another timestamp kind flagged), and who was lost.
 */
function collect(run: TreeRun, evalRun: number, p: Probed<Probe>): Evaluated {
  const failed = rootFailure(run, p);
  const evaluation: EvaluationResult = {
    ...evaluationFromReport(p.report ?? p.partial, {
      run: evalRun,
      root: run.root,
      treeNodes: run.tree.nodes.filter((n): n is string => n !== undefined),
      startedUs: p.startedUs,
      finishedUs: nowUs(),
    }),
    ...(run.round > 0 ? { round: run.round } : {}),
    ...(failed ? { error: failed.error } : {}),
  };
  for (const n of evaluation.nodes) {
    const mismatch = p.mismatches.get(n.addr);
    if (mismatch && !n.error) n.error = mismatch;
  }
  return {
    evaluation,
    lost: [...(failed?.lost ? [failed.lost] : []), ...p.lostBelow],
    mismatches: mismatchesOf([p]),
  };
}

/**
 * Why the evaluation has no report, if it has none: it could not start, or
 * its root was lost. Anything else is a failure of the run.
 */
function rootFailure(
  run: TreeRun,
  p: Probed<Probe>,
): { error: string; lost?: Lost } | undefined {
  const f = p.failure;
  if (!f) return undefined;
  const lost = f.lost.addr === run.root ? f.lost : undefined;
  if (p.jobId === undefined) {
    return {
      error: `The evaluation could not start: ${f.error}`,
      lost: f.lost,
    };
  }
  if (!lost) throw f.cause;
  return { error: `The root "${run.root}" was lost: ${f.error}`, lost };
}

/**
 * Records an evaluation and who it lost; queues the next one, a rebuild,
 * or ends the tree.
 */
function recordEvaluation(
  ctx: StepContext,
  run: TreeRun,
  { evaluation, lost, mismatches }: Evaluated,
): void {
  const { run: evalRun, error } = evaluation;
  for (const l of lost) {
    ctx.markLost(l.addr, "evaluation", l.detail, run, l.reason);
  }
  ctx.recordMismatches(mismatches, run.spec.name, "evaluation");
  run.result.evaluations.push(evaluation);
  run.result.evaluationMs += (evaluation.finishedUs - evaluation.startedUs) /
    1000;
  ctx.emit({ kind: "eval-done", tree: run.result, evaluation });
  if (error) return treeFailed(ctx, run, error);
  if (evalRun < ctx.script.evaluation.runs) {
    ctx.next({ action: "MCAST", run, evalRun: evalRun + 1 });
  } else if (run.round < ctx.script.rebuild) {
    ctx.next({ action: "REBUILD", run });
  } else {
    run.result.status = "complete";
    treeDone(ctx, run);
  }
  ctx.save();
}
