/**
 * The ALLTOALL step: the probing phase of one root's LEMON trees. Every
 * live worker streams to every other (PARENT jobs, through `probing.ts`),
 * in the rounds of `schedule.ts` so that nobody sends to or receives from
 * more than `lemon.limit` peers at once; the children's median one-way
 * delays make the delay matrix, and the packets and time it cost are
 * recorded. One step runs one round: start the phase (the first), probe
 * the round's live pairs, record what they measured; the last finishes it.
 *
 * @module
 */
import { nowUs } from "../proto/codec.ts";
import type { AllToAllResult } from "../core/results.ts";
import type { AllToAllState } from "./alltoall_state.ts";
import {
  mismatchesOf,
  type Probe,
  probe,
  type Probed,
  streamMs,
} from "./probing.ts";
import { allToAllRounds, type Transfer } from "./schedule.ts";
import { corrected } from "./strategy.ts";
import type { StepContext } from "./step.ts";
import type { TreeRun } from "./treerun.ts";

/** A sender of a round, its receivers, and their indices in the matrix. */
interface PairsProbe extends Probe {
  from: number;
  to: number[];
}

/** ALLTOALL: run the next round of the phase (the first starts it). */
export async function allToAllStep(
  ctx: StepContext,
  runs: TreeRun[],
  state?: AllToAllState,
): Promise<void> {
  const st = state ?? startPhase(ctx, runs[0]!), r = st.result;
  if (st.next >= st.rounds.length) return finish(ctx, runs, r);
  const round = st.rounds[st.next++]!, lemon = ctx.script.lemon;
  ctx.emit({
    kind: "alltoall-start",
    root: r.root,
    round: st.next,
    rounds: st.rounds.length,
    expectedMs: streamMs(lemon),
  });
  await probe(ctx, {
    label: "LEMON",
    what: "the all-to-all phase",
    stream: lemon,
    select: 0,
    probes: roundProbes(ctx, r, round, st.next),
  }, (probed) => {
    recordRound(ctx, r, probed, runs[0]!);
    ctx.save();
    ctx.next({ action: "ALLTOALL", runs, state: st });
  });
}

/** The phase's rounds among the live workers, and its empty matrix. */
function startPhase(ctx: StepContext, first: TreeRun): AllToAllState {
  const addrs = [...ctx.alive].sort(), limit = ctx.script.lemon.limit;
  const rounds = allToAllRounds(addrs.length, limit);
  return {
    rounds,
    next: 0,
    result: {
      root: first.root,
      rootIndex: first.rootIndex,
      addrs,
      limit,
      rounds: rounds.length,
      delaysUs: addrs.map(() => addrs.map(() => null)),
      packets: 0,
      startedUs: nowUs(),
      finishedUs: 0,
    },
  };
}

/** A round's transfers between workers still live, as probes. */
function roundProbes(
  ctx: StepContext,
  r: AllToAllResult,
  round: readonly Transfer[],
  n: number,
): PairsProbe[] {
  const live = (x: number) => ctx.alive.has(r.addrs[x]!);
  return round.filter((t) => live(t.from)).map((t) => {
    const to = t.to.filter(live), parent = r.addrs[t.from]!;
    return {
      from: t.from,
      to,
      parent,
      children: to.map((x) => r.addrs[x]!),
      instr: `LEMON all-to-all round ${n}: ${parent}`,
    };
  }).filter((p) => p.to.length > 0);
}

/**
 * A round's measurements into the matrix (row: the receiver; column: the
 * sender, minus the pair's clock offset with `clocks: correct`); a pair
 * that measured nothing comparable is a failed pair.
 */
function recordRound(
  ctx: StepContext,
  r: AllToAllResult,
  probed: readonly Probed<PairsProbe>[],
  first: TreeRun,
): void {
  const fail = (from: number, to: readonly number[], why: string) => {
    for (const t of to) {
      (r.errors ??= {})[`${r.addrs[from]}>${r.addrs[t]}`] = why;
    }
  };
  ctx.recordMismatches(mismatchesOf(probed), first.spec.name, "stage");
  for (const { probe: p, report, failure, mismatches, lostBelow } of probed) {
    for (const l of [...failure ? [failure.lost] : [], ...lostBelow]) {
      ctx.markLost(l.addr, "stage", l.detail, undefined, l.reason);
    }
    if (failure) fail(p.from, p.to, failure.error);
    if (!report) continue;
    if (report.sender) r.packets += report.sender.sent * report.sender.children;
    for (const d of report.deps) {
      const to = r.addrs.indexOf(d.owner);
      if (to < 0) continue;
      // Another timestamp kind's delay is not comparable: a failed pair.
      const mismatch = mismatches.get(d.owner);
      if (d.stats && d.stats.received > 0 && !mismatch) {
        r.delaysUs[to]![p.from] =
          corrected(d.stats, ctx.script.clocks.offsets).p50Us;
      } else {
        fail(p.from, [to], mismatch || d.error || "nothing received");
      }
    }
  }
}

/** The phase is over: record it, hand the matrix to the root's LEMON trees. */
function finish(ctx: StepContext, runs: TreeRun[], r: AllToAllResult): void {
  r.finishedUs = nowUs();
  (ctx.results.allToAll ??= []).push(r);
  for (const run of runs) run.phase = r;
  ctx.emit({
    kind: "alltoall-done",
    root: r.root,
    ms: (r.finishedUs - r.startedUs) / 1000,
    packets: r.packets,
  });
  ctx.save();
}
