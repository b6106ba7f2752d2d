/**
 * The script's ROOT step: choose the roots (the one the script names,
 * `roots` drawn at random, or with `root: probe` the `roots` of R sampled
 * candidates whose streams to a sample of S others had the lowest mean
 * p90), then queue, per root, a ROOT step for every
 * tree of the script, with the root's LEMON trees behind one ALLTOALL
 * step (their shared all-to-all probing phase).
 *
 * @module
 */
import { nowUs } from "../proto/codec.ts";
import type { StageResult } from "../core/results.ts";
import { deriveSeed, Pool } from "./pool.ts";
import { mismatchesOf, type Probe, probe, type Probed } from "./probing.ts";
import type { Script } from "./script.ts";
import type { Step, StepContext } from "./step.ts";
import { score } from "./strategy.ts";
import { nodeCount } from "./tree.ts";
import { newTreeRun } from "./treerun.ts";

/** ROOT (the script's): choose the roots, queue the trees of each. */
export async function expandRoots(ctx: StepContext): Promise<void> {
  const s = ctx.script;
  const admitted = [...ctx.alive];
  const need = nodeCount(s.depth, s.fanout);
  if (admitted.length < need) {
    throw new Error(
      `Only ${admitted.length} of ${s.addrs.length} workers answered; a tree of depth ` +
        `${s.depth} and fanout ${s.fanout} needs ${need}`,
    );
  }
  if (s.rootProbe) return await probeRoots(ctx, admitted);
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

/**
 * Queues every tree of the script from each root: the script's order from
 * the first root, the reverse from the second, and so on, so that a kind
 * measured early from one root is measured late from the next and a load
 * that changes over the run (workers still starting, other tenants) weighs
 * on every kind alike.
 */
export function queueTrees(ctx: StepContext, roots: readonly string[]): void {
  const s = ctx.script;
  const total = roots.length * s.trees.length;
  const steps: Step[] = [];
  let index = 0;
  roots.forEach((root, rootIndex) => {
    const specs = rootIndex % 2 === 0 ? s.trees : [...s.trees].reverse();
    const runs = specs.map((spec) =>
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

const P90 = { name: "P90", weights: { p90: 1 } } as const;

/** Who waits, and what its mismatches are recorded under (it is no tree). */
const ROOT_PROBE = "root probe";

/**
 * `root: probe`: each of R candidates streams to S others drawn at random;
 * the `roots` candidates with the lowest mean p90 become the roots.
 */
async function probeRoots(ctx: StepContext, admitted: string[]): Promise<void> {
  const startedUs = nowUs();
  await probe(ctx, {
    label: ROOT_PROBE,
    what: "the root probe",
    stream: ctx.script, // the script's rate, duration and warm-up
    select: 0,
    probes: rootSamples(ctx.script, admitted),
  }, (probed) => {
    for (const p of probed) {
      for (const l of [...p.failure ? [p.failure.lost] : [], ...p.lostBelow]) {
        ctx.markLost(l.addr, "stage", l.detail, undefined, l.reason);
      }
    }
    ctx.recordMismatches(mismatchesOf(probed), ROOT_PROBE, "stage");
    const stages = probed.map((p) => rootStage(ctx, p));
    const scores = rootScores(ctx, stages);
    const roots = scores.filter((c) => Number.isFinite(c.p90Us))
      .slice(0, ctx.script.roots).map((c) => c.addr);
    if (roots.length === 0) {
      throw new Error("root probe: no candidate root reported");
    }
    ctx.results.rootProbe = {
      stages,
      scores: Object.fromEntries(
        scores.map((c) => [c.addr, Number.isFinite(c.p90Us) ? c.p90Us : null]),
      ),
      chosen: roots,
      startedUs,
      finishedUs: nowUs(),
    };
    ctx.save();
    queueTrees(ctx, roots);
  });
}

/** R candidates drawn at random (seeded), each with S others to stream to. */
function rootSamples(s: Script, admitted: readonly string[]): Probe[] {
  const rp = s.rootProbe!, addrs = [...admitted].sort();
  const pool = new Pool(addrs, { seed: deriveSeed(s.seed, "root-probe") });
  return pool.draw(Math.min(rp.candidates, addrs.length)).map((parent) => {
    const others = new Pool(addrs.filter((a) => a !== parent), {
      seed: deriveSeed(s.seed, "root-probe", parent),
    });
    return {
      parent,
      children: others.draw(Math.min(rp.sample, others.size)),
      instr: `root probe: ${parent}`,
    };
  });
}

/**
 * A candidate's stage: its sample's statistics and p90s (none for a
 * receiver that measured with another timestamp kind, or failed).
 */
function rootStage(ctx: StepContext, p: Probed<Probe>): StageResult {
  const report = p.report;
  const byAddr = new Map((report?.deps ?? []).map((d) => [d.owner, d]));
  return {
    depth: 0,
    parent: p.probe.parent,
    batch: 1,
    candidates: p.probe.children.map((addr) => {
      const d = byAddr.get(addr), mismatch = p.mismatches.get(addr);
      const sc = mismatch
        ? NaN
        : score(d?.stats, P90, ctx.script.clocks.offsets);
      const error = d?.error || mismatch;
      return {
        addr,
        ...(d?.stats ? { stats: d.stats } : {}),
        ...(Number.isFinite(sc) ? { score: sc } : {}),
        kept: false,
        ...(error ? { error } : {}),
      };
    }),
    ...(report?.sender ? { sender: report.sender } : {}),
    startedUs: report?.started || p.startedUs,
    finishedUs: report?.ended || nowUs(),
    ...(p.failure ? { error: p.failure.error } : {}),
  };
}

/**
 * Each live candidate's score, best first: the mean p90 of its sample
 * (Infinity if any stream failed).
 */
function rootScores(
  ctx: StepContext,
  stages: readonly StageResult[],
): { addr: string; p90Us: number }[] {
  return stages.filter((st) => ctx.alive.has(st.parent)).map((st) => ({
    addr: st.parent,
    p90Us: st.candidates.every((c) => c.score !== undefined)
      ? st.candidates.reduce((x, c) => x + c.score!, 0) / st.candidates.length
      : Infinity,
  })).sort((a, b) => a.p90Us - b.p90Us || (a.addr < b.addr ? -1 : 1));
}
