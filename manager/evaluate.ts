/**
 * The MCAST step: a finished tree is evaluated with a multicast stream from
 * its root through its proxies to its leaves, `evaluation.runs` times; then
 * rebuilt (`rebuild` rounds) and evaluated again, or done.
 *
 * @module
 */
import { Interrupted } from "../core/cli.ts";
import { lostForJob, RemoteError } from "../core/node.ts";
import { TransportError } from "../core/transport.ts";
import { emptyCommand, type Job, nowUs } from "../proto/codec.ts";
import type { EvaluationResult } from "../core/results.ts";
import { evaluationFromReport } from "./evaluation.ts";
import { type StepContext, treeDone, treeFailed } from "./step.ts";
import type { TreeRun } from "./treerun.ts";

interface Pending {
  run: number;
  jobId: string;
  startedUs: number;
  report?: Job;
  error?: string;
}

/** MCAST: trickle the evaluation down the tree from its root. */
export async function mcastStep(
  ctx: StepContext,
  run: TreeRun,
  evalRun: number,
): Promise<void> {
  const s = ctx.script;
  const e = s.evaluation;
  const sub = run.tree.subtree(0);
  const rebuilt = run.round > 0 ? ` after rebuild ${run.round}` : "";
  const cmd = emptyCommand({
    flag: "MCAST",
    instr: `${run.spec.name} evaluation ${evalRun}${rebuilt}`,
    layer: s.depth,
    select: s.fanout,
    rate: e.rate,
    dur: Math.round(e.duration * 1000),
    warmup: Math.round(e.warmup * 1000),
    timeout: Math.round((e.warmup + e.duration + s.timeouts.jobGrace) * 1000),
    record: true,
    addrs: sub.children.map((c) => c.addr),
    subtrees: sub.children,
    ...ctx.ioMode(),
  });
  const expectedMs = cmd.warmup + cmd.dur;
  ctx.emit({
    kind: "eval-start",
    tree: run.result,
    run: evalRun,
    expectedMs,
  });
  const startedUs = nowUs();
  let job: Job;
  try {
    job = await ctx.m.command(run.root, cmd, ctx.signal);
  } catch (err) {
    if (ctx.signal?.aborted) throw new Interrupted();
    if (err instanceof TransportError) {
      ctx.markLost(run.root, "evaluation", err.message, run);
    } else if (!(err instanceof RemoteError)) throw err;
    return evalDone(ctx, run, {
      run: evalRun,
      jobId: "",
      startedUs,
      error: `The evaluation could not start: ${(err as Error).message}`,
    });
  }
  const p: Pending = { run: evalRun, jobId: job.id, startedUs };
  ctx.awaitReport(
    run.spec.name,
    "the MCAST evaluation",
    expectedMs,
    async () => {
      try {
        const r = await ctx.m.report(run.root, p.jobId, {
          layers: s.depth,
          signal: ctx.signal,
        });
        if (r.complete) p.report = r.job;
      } catch (e) {
        if (ctx.signal?.aborted) throw new Interrupted();
        if (!lostForJob(e)) throw e;
        ctx.markLost(run.root, "evaluation", e.message, run);
        p.error = `The root "${run.root}" was lost: ${e.message}`;
      }
      return p.report !== undefined || p.error !== undefined;
    },
    () => evalDone(ctx, run, p),
  );
}

function evalDone(ctx: StepContext, run: TreeRun, p: Pending): void {
  const evaluation: EvaluationResult = {
    ...evaluationFromReport(p.report, {
      run: p.run,
      root: run.root,
      treeNodes: run.tree.nodes.filter((n): n is string => n !== undefined),
      startedUs: p.startedUs,
      finishedUs: nowUs(),
    }),
    ...(run.round > 0 ? { round: run.round } : {}),
    ...(p.error ? { error: p.error } : {}),
  };
  for (const n of evaluation.nodes) {
    if (n.error?.startsWith("Lost:")) {
      ctx.markLost(n.addr, "evaluation", n.error, run);
    }
    const mismatch = ctx.mismatch(n.addr, n.stats, run, "evaluation");
    if (mismatch && !n.error) n.error = mismatch;
  }
  run.result.evaluations.push(evaluation);
  run.result.evaluationMs += (evaluation.finishedUs - p.startedUs) / 1000;
  ctx.emit({ kind: "eval-done", tree: run.result, evaluation });
  if (p.error) return treeFailed(ctx, run, p.error);
  if (p.run < ctx.script.evaluation.runs) {
    ctx.next({ action: "MCAST", run, evalRun: p.run + 1 });
  } else if (run.round < ctx.script.rebuild) {
    ctx.next({ action: "REBUILD", run });
  } else {
    run.result.status = "complete";
    treeDone(ctx, run);
  }
  ctx.save();
}
