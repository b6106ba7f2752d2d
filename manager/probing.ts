/**
 * The one way a step measures: command PARENT jobs (a parent streaming to
 * its CHILD jobs) or an MCAST evaluation (a root streaming down its tree of
 * PROXY and CHILD jobs) in the experiment's I/O mode, wait for them with
 * the step's deadlines (a REPORT step), collect the reports and check every
 * receiver's timestamps against the mode. It returns what it measured and
 * who was lost; the calling step decides what that means, and the
 * experiment records it. This is the only module that builds a probe's
 * Command.
 *
 * Probes go out in groups none of whose members streams to another member
 * (`commandGroups`): a worker answers one request at a time and relays to
 * the workers it streams to, so two workers commanded at once to stream to
 * each other would wait on each other. Their reports are asked in the same
 * groups.
 *
 * @module
 */
import { lostForJob, RemoteError } from "../core/node.ts";
import {
  type Command,
  emptyCommand,
  type Job,
  nowUs,
  type Subtree,
} from "../proto/codec.ts";
import { statsMismatch } from "./iomode.ts";
import { pendingOf, type StepContext } from "./step.ts";

/** A stream's shape, as the script gives it: packets per second, seconds. */
export interface Stream {
  rate: number;
  duration: number;
  warmup: number;
}

/** How long a stream of this shape runs (warm-up and measurement), ms. */
export function streamMs(s: Stream): number {
  return Math.round(s.warmup * 1000) + Math.round(s.duration * 1000);
}

/** One job to command: `parent` streaming to `children`. */
export interface Probe {
  parent: string;
  children: readonly string[];
  /** MCAST: the tree below each child, in the order of `children`. */
  subtrees?: Subtree[];
  /** What the job is, for the workers' logs. */
  instr: string;
}

/** What to probe, and how. */
export interface ProbePlan<P extends Probe> {
  /** Who waits (a tree's name) and for what, for a timeout's message. */
  label: string;
  what: string;
  stream: Stream;
  /** How many receivers a PARENT keeps (0: it only measures); MCAST: the fanout. */
  select: number;
  /** An MCAST evaluation `layers` deep (probes carry subtrees); else PARENT jobs. */
  mcast?: { layers: number };
  probes: readonly P[];
}

/** A worker lost, and why. */
export interface Lost {
  addr: string;
  detail: string;
}

/** Why a probe has no report. */
export interface ProbeFailure {
  error: string;
  /** The worker lost: the parent, or one its relay could not reach. */
  lost?: Lost;
  /** The error itself (a refusal that is no loss: a step may rethrow it). */
  cause: unknown;
}

/** One probe's outcome. */
export interface Probed<P extends Probe> {
  probe: P;
  /** When it was commanded (manager clock, us since the epoch). */
  startedUs: number;
  /** The job, once it started. */
  jobId?: string;
  /** Its complete report (every job of it ended). */
  report?: Job;
  failure?: ProbeFailure;
  /** Receivers whose timestamps are not the run's: why, by address. */
  mismatches: Map<string, string>;
  /** Receivers the report names lost ("Lost:" errors). */
  lostBelow: Lost[];
}

/**
 * Commands the plan's probes, waits for them, then calls `finish` with
 * their outcomes in the order of `plan.probes` (at once when none started).
 */
export async function probe<P extends Probe>(
  ctx: StepContext,
  plan: ProbePlan<P>,
  finish: (probed: Probed<P>[]) => void | Promise<void>,
): Promise<void> {
  const cmd = command(ctx, plan);
  const probed = plan.probes.map((probe): Probed<P> => ({
    probe,
    startedUs: 0,
    mismatches: new Map(),
    lostBelow: [],
  }));
  const byProbe = new Map(probed.map((p) => [p.probe, p]));
  const groups = commandGroups(plan.probes).map((g) =>
    g.map((p) => byProbe.get(p)!)
  );
  for (const group of groups) {
    await Promise.all(group.map((p) => start(ctx, cmd, p)));
  }
  if (probed.every((p) => p.jobId === undefined)) return finish(probed);
  const layers = plan.mcast?.layers ?? 1;
  ctx.awaitReport(
    plan.label,
    plan.what,
    streamMs(plan.stream),
    () => poll(ctx, groups, layers),
    () => finish(probed),
  );
}

/** A receiver whose timestamps are not the run's, and what it reported. */
export interface Mismatched {
  addr: string;
  detail: string;
}

/** Every receiver, of every probe, whose timestamps are not the run's. */
export function mismatchesOf(probed: readonly Probed<Probe>[]): Mismatched[] {
  return probed.flatMap((p) =>
    [...p.mismatches].map(([addr, detail]) => ({ addr, detail }))
  );
}

/** Probes in groups none of whose members streams to another member. */
export function commandGroups<P extends Pick<Probe, "parent" | "children">>(
  probes: readonly P[],
): P[][] {
  const groups: { members: P[]; busy: Set<string> }[] = [];
  for (const p of probes) {
    const g = groups.find((g) =>
      !g.busy.has(p.parent) &&
      !p.children.some((x) => g.members.some((m) => m.parent === x))
    );
    const group = g ?? { members: [], busy: new Set<string>() };
    if (!g) groups.push(group);
    group.members.push(p);
    p.children.forEach((x) => group.busy.add(x));
  }
  return groups.map((g) => g.members);
}

/** The probes' Command, in the experiment's I/O mode. */
function command(ctx: StepContext, plan: ProbePlan<Probe>): Command {
  const st = plan.stream, grace = ctx.script.timeouts.jobGrace;
  return emptyCommand({
    flag: plan.mcast ? "MCAST" : "PARENT",
    layer: plan.mcast?.layers ?? 1,
    select: plan.select,
    rate: st.rate,
    dur: Math.round(st.duration * 1000),
    warmup: Math.round(st.warmup * 1000),
    timeout: Math.round((st.warmup + st.duration + grace) * 1000),
    // An MCAST's proxies report their own receive statistics too.
    record: plan.mcast !== undefined,
    ...ctx.ioMode(),
  });
}

async function start(
  ctx: StepContext,
  cmd: Command,
  p: Probed<Probe>,
): Promise<void> {
  p.startedUs = nowUs();
  try {
    const job = await ctx.m.command(p.probe.parent, {
      ...cmd,
      instr: p.probe.instr,
      addrs: [...p.probe.children],
      subtrees: p.probe.subtrees ?? [],
    }, ctx.signal);
    p.jobId = job.id;
  } catch (e) {
    p.failure = failure(ctx, p.probe.parent, e);
  }
}

/** Asks for the pending reports, group by group; true once all are in. */
async function poll(
  ctx: StepContext,
  groups: Probed<Probe>[][],
  layers: number,
): Promise<true | string> {
  const waiting: string[] = [];
  for (const group of groups) {
    await Promise.all(
      group.filter((p) => p.jobId && !p.report && !p.failure).map(async (p) => {
        try {
          const r = await ctx.m.report(p.probe.parent, p.jobId!, {
            layers,
            signal: ctx.signal,
          });
          if (r.complete) collect(ctx, p, r.job);
          else waiting.push(pendingOf({ ...r.job, owner: p.probe.parent }));
        } catch (e) {
          p.failure = failure(ctx, p.probe.parent, e);
        }
      }),
    );
  }
  return groups.every((g) => g.every((p) => p.report || p.failure)) ||
    waiting.filter((w) => w !== "").join("; ");
}

/** Takes a complete report: its mismatched and its lost receivers. */
function collect(ctx: StepContext, p: Probed<Probe>, job: Job): void {
  p.report = job;
  const mode = ctx.ioMode();
  const visit = (j: Job) => {
    for (const d of j.deps) {
      const why = statsMismatch(d.stats, mode);
      if (why) p.mismatches.set(d.owner, why);
      if (d.error.startsWith("Lost:")) {
        p.lostBelow.push({ addr: d.owner, detail: d.error });
      }
      visit(d);
    }
  };
  visit(job);
}

/**
 * A request to `parent` failed: a worker that did not answer (or restarted
 * since it started the job) is lost, as is one its relay could not reach;
 * another worker's refusal is a failure without a loss. Anything else (and
 * an interruption) is thrown.
 */
function failure(ctx: StepContext, parent: string, e: unknown): ProbeFailure {
  ctx.checkAborted();
  if (lostForJob(e)) {
    return {
      error: e.message,
      lost: { addr: parent, detail: e.message },
      cause: e,
    };
  }
  if (!(e instanceof RemoteError)) throw e;
  return {
    error: e.message,
    ...(e.about ? { lost: { addr: e.about, detail: e.desc } } : {}),
    cause: e,
  };
}
