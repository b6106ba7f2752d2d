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
import { emptyCommand, type Job, nowUs } from "../proto/codec.ts";
import type { StageResult } from "../core/results.ts";
import { commandGroups } from "./alltoall.ts";
import { deriveSeed, Pool } from "./pool.ts";
import { type Step, type StepContext, workerFailed } from "./step.ts";
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

const P90 = { name: "P90", weights: { p90: 1 } } as const;

/**
 * `root: probe`: each of R candidates streams to S others drawn at random
 * (PARENT jobs, in groups none of which streams to another of its group);
 * the `roots` candidates with the lowest mean p90 become the roots.
 */
async function probeRoots(ctx: StepContext, admitted: string[]): Promise<void> {
  const s = ctx.script, rp = s.rootProbe!;
  const addrs = [...admitted].sort();
  const pool = new Pool(addrs, { seed: deriveSeed(s.seed, "root-probe") });
  const cands = pool.draw(Math.min(rp.candidates, addrs.length));
  const transfers = cands.map((c) => {
    const others = new Pool(addrs.filter((a) => a !== c), {
      seed: deriveSeed(s.seed, "root-probe", c),
    });
    return {
      from: addrs.indexOf(c),
      to: others.draw(Math.min(rp.sample, others.size)).map((a) =>
        addrs.indexOf(a)
      ),
    };
  });
  const cmd = emptyCommand({
    flag: "PARENT",
    layer: 1,
    select: 0,
    rate: s.rate,
    dur: Math.round(s.duration * 1000),
    warmup: Math.round(s.warmup * 1000),
    timeout: Math.round((s.warmup + s.duration + s.timeouts.jobGrace) * 1000),
  });
  const startedUs = nowUs();
  const jobs: {
    parent: string;
    to: string[];
    id?: string;
    report?: Job;
    error?: string;
  }[][] = [];
  for (const group of commandGroups(transfers)) {
    jobs.push(
      await Promise.all(group.map(async (t) => {
        const parent = addrs[t.from]!, to = t.to.map((x) => addrs[x]!);
        try {
          const job = await ctx.m.command(parent, {
            ...cmd,
            instr: `root probe: ${parent}`,
            addrs: to,
          }, ctx.signal);
          return { parent, to, id: job.id };
        } catch (e) {
          return { parent, to, error: workerFailed(ctx, parent, e) };
        }
      })),
    );
  }
  ctx.awaitReport(
    "root probe",
    "the root probe",
    cmd.warmup + cmd.dur,
    async () => {
      for (const group of jobs) {
        await Promise.all(
          group.filter((j) => j.id && !j.report && !j.error).map(
            async (j) => {
              try {
                const r = await ctx.m.report(j.parent, j.id!, {
                  layers: 1,
                  signal: ctx.signal,
                });
                if (r.complete) j.report = r.job;
              } catch (e) {
                j.error = workerFailed(ctx, j.parent, e);
              }
            },
          ),
        );
      }
      return jobs.every((g) => g.every((j) => j.report || j.error));
    },
    () => {
      const stages: StageResult[] = jobs.flat().map((j) => {
        const byAddr = new Map((j.report?.deps ?? []).map((d) => [d.owner, d]));
        return {
          depth: 0,
          parent: j.parent,
          batch: 1,
          candidates: j.to.map((addr) => {
            const d = byAddr.get(addr);
            const sc = score(d?.stats, P90, ctx.script.clocks.offsets);
            return {
              addr,
              ...(d?.stats ? { stats: d.stats } : {}),
              ...(Number.isFinite(sc) ? { score: sc } : {}),
              kept: false,
              ...(d?.error ? { error: d.error } : {}),
            };
          }),
          ...(j.report?.sender ? { sender: j.report.sender } : {}),
          startedUs: j.report?.started || startedUs,
          finishedUs: j.report?.ended || nowUs(),
          ...(j.error ? { error: j.error } : {}),
        };
      });
      // A candidate's score: the mean p90 of its sample (Infinity if any failed).
      const scored = stages.filter((st) => ctx.alive.has(st.parent)).map((
        st,
      ) => ({
        addr: st.parent,
        p90Us: st.candidates.every((c) => c.score !== undefined)
          ? st.candidates.reduce((x, c) => x + c.score!, 0) /
            st.candidates.length
          : Infinity,
      })).sort((a, b) => a.p90Us - b.p90Us || (a.addr < b.addr ? -1 : 1));
      const roots = scored.filter((c) => Number.isFinite(c.p90Us)).slice(
        0,
        s.roots,
      )
        .map((c) => c.addr);
      if (roots.length === 0) {
        throw new Error(
          "root probe: no candidate root reported",
        );
      }
      ctx.results.rootProbe = {
        stages,
        scores: Object.fromEntries(
          scored.map((
            c,
          ) => [c.addr, Number.isFinite(c.p90Us) ? c.p90Us : null]),
        ),
        chosen: roots,
        startedUs,
        finishedUs: nowUs(),
      };
      ctx.save();
      queueTrees(ctx, roots);
    },
  );
}
