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
import type { LostReason } from "../core/results.ts";
import {
  type Command,
  emptyCommand,
  emptyJob,
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
  /** Absent: "lost". */
  reason?: LostReason;
}

/** Why a probe has no report. */
export interface ProbeFailure {
  error: string;
  /**
   * The worker excluded for it: the parent (silent, paused, late, or
   * refusing), or the one below that its relay could not reach.
   */
  lost: Lost;
  /** The error itself. */
  cause: unknown;
}

/** One probe's outcome. */
export interface Probed<P extends Probe> {
  probe: P;
  /** When it was commanded (manager clock, us since the epoch). */
  startedUs: number;
  /** The job, once it started. */
  jobId?: string;
  /**
   * Its report: complete (every job of it ended), or, past the deadline,
   * the last one with the late jobs' owners in `lostBelow`.
   */
  report?: Job;
  /** The last incomplete report, while waiting. */
  partial?: Job;
  failure?: ProbeFailure;
  /** Receivers whose timestamps are not the run's: why, by address. */
  mismatches: Map<string, string>;
  /** Receivers the report names lost ("Lost:" errors), or late. */
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
  if (probed.every((p) => p.jobId === undefined)) {
    await classify(ctx, probed);
    return finish(probed);
  }
  const layers = plan.mcast?.layers ?? 1;
  ctx.awaitReport(plan.label, plan.what, streamMs(plan.stream), {
    poll: () => poll(ctx, groups, layers),
    expire: () => expire(ctx, probed, `${plan.label}: ${plan.what}`),
    finish: async () => {
      await classify(ctx, probed);
      return finish(probed);
    },
  });
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
    ctx.running.set(job.id, { addr: p.probe.parent, id: job.id });
  } catch (e) {
    const f = p.failure = failure(ctx, p.probe.parent, e);
    // A proxy below that could start none of its children: they all are.
    if (e instanceof RemoteError && e.about) {
      p.lostBelow.push(
        ...lostOf(p, e.about, e.desc).filter((l) => l.addr !== f.lost.addr),
      );
    }
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
          else {
            p.partial = r.job;
            waiting.push(pendingOf({ ...r.job, owner: p.probe.parent }));
          }
        } catch (e) {
          p.failure = failure(ctx, p.probe.parent, e);
        }
        if (p.report || p.failure) ctx.running.delete(p.jobId!);
      }),
    );
  }
  return groups.every((g) => g.every((p) => p.report || p.failure)) ||
    waiting.filter((w) => w !== "").join("; ");
}

/**
 * Takes a report: its mismatched and its lost receivers. A receiver that
 * answered its relay (a proxy that could start none of its children) is
 * not lost: the worker below it that failed is.
 */
function collect(ctx: StepContext, p: Probed<Probe>, job: Job): void {
  p.report = job;
  const mode = ctx.ioMode();
  const visit = (j: Job) => {
    for (const d of j.deps) {
      const why = statsMismatch(d.stats, mode);
      if (why) p.mismatches.set(d.owner, why);
      if (d.error.startsWith("Lost:")) {
        p.lostBelow.push(...lostOf(p, d.owner, d.error));
      }
      visit(d);
    }
  };
  visit(job);
}

/**
 * Who a "Lost:" dependency is about: its owner; or, when the owner answered
 * that it could start none of its children, those children (the one its
 * error names with that error).
 */
function lostOf(p: Probed<Probe>, owner: string, error: string): Lost[] {
  const { addr, reason } = culprit(owner, error);
  const kids = findSubtree(p.probe.subtrees ?? [], owner)?.children ?? [];
  if (addr === owner || !kids.some((k) => k.addr === addr)) {
    return [{ addr, detail: error, reason }];
  }
  return kids.map((k) => ({
    addr: k.addr,
    detail: k.addr === addr ? error : `Lost: its proxy "${owner}" could ` +
      `start a job on none of its children (first: ${error})`,
    reason: k.addr === addr ? reason : "lost",
  }));
}

function findSubtree(
  trees: readonly Subtree[],
  addr: string,
): Subtree | undefined {
  for (const t of trees) {
    if (t.addr === addr) return t;
    const found = findSubtree(t.children, addr);
    if (found) return found;
  }
  return undefined;
}

/**
 * Past the deadline: every probe still without its report is given up on.
 * One whose own job ended keeps its last report, the owners of the jobs
 * below it that had not ended marked late; one whose own job had not
 * ended (or that never answered a REPORT) fails with its parent late. The
 * late jobs are stopped.
 */
async function expire(
  ctx: StepContext,
  probed: Probed<Probe>[],
  what: string,
): Promise<void> {
  const late = probed.filter((p) => p.jobId && !p.report && !p.failure);
  const detail = `${what} did not complete within its timeout`;
  for (const p of late) {
    const job = { ...p.partial ?? emptyJobOf(p), owner: p.probe.parent };
    const stuck = lateOwners(job);
    if (p.partial && job.end) {
      collect(ctx, p, job);
      p.lostBelow.push(
        ...stuck.map((addr) => ({ addr, detail, reason: "late" as const })),
      );
    } else {
      const error = `${detail} (waiting for: ${pendingOf(job) || "a report"})`;
      p.failure = {
        error,
        lost: { addr: p.probe.parent, detail: error, reason: "late" },
        cause: new Error(error),
      };
    }
    ctx.running.delete(p.jobId!);
  }
  await ctx.m.stopJobs(
    late.map((p) => ({ addr: p.probe.parent, id: p.jobId! })),
  );
}

/** A job not yet heard of: not ended. */
function emptyJobOf(p: Probed<Probe>): Job {
  return { ...emptyJob({ id: p.jobId! }), owner: p.probe.parent };
}

/** The owners of the topmost jobs of `job` that have not ended. */
function lateOwners(job: Job): string[] {
  return job.end ? job.deps.flatMap(lateOwners) : [job.owner];
}

/**
 * Who an error of (or about) `owner` is about: `owner` when it did not
 * answer; when it answered, the last worker its relay names: "lost" when
 * that one did not answer, "refused" when it answered with the error.
 */
export function culprit(
  owner: string,
  error: string,
): { addr: string; reason: "lost" | "refused" } {
  const answered = new Set(
    [...error.matchAll(/Worker "([^"]+)" answered/g)].map((m) => m[1]!),
  );
  if (!answered.has(owner)) return { addr: owner, reason: "lost" };
  const named = [...error.matchAll(/ job on "([^"]+)"/g)].map((m) => m[1]!);
  const addr = named[named.length - 1] ?? owner;
  return { addr, reason: answered.has(addr) ? "refused" : "lost" };
}

/**
 * Tells a paused worker from a gone one: each worker lost for want of an
 * answer whose port still accepts connections is "paused".
 */
async function classify(
  ctx: StepContext,
  probed: readonly Probed<Probe>[],
): Promise<void> {
  const silent = probed.flatMap((p) => [
    ...p.failure ? [p.failure.lost] : [],
    ...p.lostBelow,
  ]).filter((l) =>
    (l.reason ?? "lost") === "lost" && / did not answer /.test(l.detail)
  );
  await Promise.all(silent.map(async (l) => {
    if (await ctx.m.listening(l.addr)) l.reason = "paused";
  }));
}

/**
 * A request to `parent` failed: a worker that did not answer (or restarted
 * since it started the job) is lost, as is the one below that its relay
 * could not reach (the last its error names); a worker that refused is
 * excluded as "refused". Anything else (and an interruption) is thrown.
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
  const below = e.about ? culprit(e.about, e.desc) : undefined;
  return {
    error: e.message,
    lost: below
      ? { ...below, detail: e.desc }
      : { addr: parent, detail: e.message, reason: "refused" },
    cause: e,
  };
}
