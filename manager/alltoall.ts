/**
 * The ALLTOALL step: the probing phase of one root's LEMON trees. Every
 * live worker streams to every other (PARENT jobs, as in a stage), in the
 * rounds of `schedule.ts` so that nobody sends to or receives from more
 * than `lemon.limit` peers at once; the children's median one-way delays
 * make the delay matrix, and the packets and time it cost are recorded.
 *
 * Within a round the commands (and later the reports) go out in groups: a
 * worker answers one request at a time and relays to the workers it sends
 * to, so two workers streaming to each other must not be asked at once.
 *
 * @module
 */
import { emptyCommand, type Job, nowUs } from "../proto/codec.ts";
import type { AllToAllResult } from "../core/results.ts";
import { allToAllRounds, type Transfer } from "./schedule.ts";
import { corrected } from "./strategy.ts";
import { type StepContext, workerFailed } from "./step.ts";
import type { TreeRun } from "./treerun.ts";

/** The phase so far, carried from one round's step to the next. */
export interface AllToAllState {
  result: AllToAllResult;
  rounds: Transfer[][];
  next: number;
}

/** Parents of a round in groups none of which streams to another of its group. */
export function commandGroups(round: readonly Transfer[]): Transfer[][] {
  const groups: { members: Transfer[]; busy: Set<number> }[] = [];
  for (const t of round) {
    const g = groups.find((g) =>
      !g.busy.has(t.from) &&
      !t.to.some((x) => g.members.some((m) => m.from === x))
    );
    const group = g ?? { members: [], busy: new Set<number>() };
    if (!g) groups.push(group);
    group.members.push(t);
    t.to.forEach((x) => group.busy.add(x));
  }
  return groups.map((g) => g.members);
}

/** ALLTOALL: run the next round of the phase (the first starts it). */
export async function allToAllStep(
  ctx: StepContext,
  runs: TreeRun[],
  state?: AllToAllState,
): Promise<void> {
  const s = ctx.script, lemon = s.lemon, first = runs[0]!;
  if (!state) {
    const addrs = [...ctx.alive].sort();
    const rounds = allToAllRounds(addrs.length, lemon.limit);
    state = {
      rounds,
      next: 0,
      result: {
        root: first.root,
        rootIndex: first.rootIndex,
        addrs,
        limit: lemon.limit,
        rounds: rounds.length,
        delaysUs: addrs.map(() => addrs.map(() => null)),
        packets: 0,
        startedUs: nowUs(),
        finishedUs: 0,
      },
    };
  }
  const st = state, r = st.result;
  if (st.next >= st.rounds.length) return finish(ctx, runs, r);
  const round = st.rounds[st.next++]!;
  const cmd = emptyCommand({
    flag: "PARENT",
    layer: 1,
    select: 0,
    rate: lemon.rate,
    dur: Math.round(lemon.duration * 1000),
    warmup: Math.round(lemon.warmup * 1000),
    timeout: Math.round(
      (lemon.warmup + lemon.duration + s.timeouts.jobGrace) * 1000,
    ),
    ...ctx.ioMode(),
  });
  const expectedMs = cmd.warmup + cmd.dur;
  ctx.emit({
    kind: "alltoall-start",
    root: r.root,
    round: st.next,
    rounds: st.rounds.length,
    expectedMs,
  });
  const fail = (from: number, to: readonly number[], why: string) => {
    for (const t of to) {
      (r.errors ??= {})[`${r.addrs[from]}>${r.addrs[t]}`] = why;
    }
  };
  const groups = commandGroups(
    round.map((t) => ({
      from: t.from,
      to: t.to.filter((x) => ctx.alive.has(r.addrs[x]!)),
    })).filter((t) => t.to.length > 0 && ctx.alive.has(r.addrs[t.from]!)),
  );
  const jobs: { t: Transfer; id: string; report?: Job; failed?: boolean }[][] =
    [];
  for (const group of groups) {
    const started = await Promise.all(group.map(async (t) => {
      const parent = r.addrs[t.from]!;
      try {
        const job = await ctx.m.command(parent, {
          ...cmd,
          instr: `LEMON all-to-all round ${st.next}: ${parent}`,
          addrs: t.to.map((x) => r.addrs[x]!),
        }, ctx.signal);
        return { t, id: job.id };
      } catch (e) {
        workerFailed(ctx, parent, e);
        fail(t.from, t.to, (e as Error).message);
        return undefined;
      }
    }));
    jobs.push(started.filter((j) => j !== undefined));
  }
  ctx.awaitReport("LEMON", "the all-to-all phase", expectedMs, async () => {
    for (const group of jobs) { // group by group, as they were started
      await Promise.all(
        group.filter((j) => !j.report).map(async (j) => {
          const parent = r.addrs[j.t.from]!;
          try {
            const rep = await ctx.m.report(parent, j.id, {
              layers: 1,
              signal: ctx.signal,
            });
            if (rep.complete) j.report = rep.job;
          } catch (e) {
            workerFailed(ctx, parent, e);
            fail(j.t.from, j.t.to, (e as Error).message);
            j.failed = true;
          }
        }),
      );
    }
    return jobs.every((g) => g.every((j) => j.report || j.failed));
  }, () => {
    for (const j of jobs.flat()) {
      const rep = j.report;
      if (!rep) continue;
      if (rep.sender) r.packets += rep.sender.sent * rep.sender.children;
      for (const d of rep.deps) {
        const to = r.addrs.indexOf(d.owner);
        if (to < 0) continue;
        // Another timestamp kind's delay is not comparable: a failed pair.
        const mismatch = ctx.mismatch(d.owner, d.stats, first, "stage");
        if (d.stats && d.stats.received > 0 && !mismatch) {
          // Row: the receiver; column: the sender (minus the pair's clock
          // offset with clocks: correct).
          r.delaysUs[to]![j.t.from] =
            corrected(d.stats, ctx.script.clocks.offsets).p50Us;
        } else {
          fail(j.t.from, [to], mismatch || d.error || "nothing received");
        }
      }
    }
    ctx.save();
    ctx.next({ action: "ALLTOALL", runs, state: st });
  });
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
