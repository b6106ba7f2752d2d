/**
 * A job's REPORT: its state with its dependencies' reports gathered from the
 * workers below (each child's stats given the clock offset this job measured
 * to it; an evaluation's kept compact, `compact.ts`), complete once the
 * whole subtree has ended. A finished job's report is kept, so asking again
 * gives the same answer.
 *
 * @module
 */
import type { Job, Report } from "../proto/codec.ts";
import { compactDeps } from "./compact.ts";
import type { JobRecord } from "./jobs.ts";
import { withPeerOffsets } from "./offsets.ts";

/**
 * Sends a REPORT naming `dep` (plus `extra`) to its owner; resolves to the
 * reply's report, rejects when the owner does not answer one.
 */
export type AskReport = (dep: Job, extra?: Partial<Report>) => Promise<Report>;

/** The report of `rec`, its dependencies' asked through `ask`. */
export async function jobReport(
  rec: JobRecord,
  ask: AskReport,
): Promise<Report> {
  if (rec.finalReport) return { job: rec.finalReport, complete: true };
  const deps = await Promise.all(rec.job.deps.map((d) => _dep(d, ask)));
  const below = deps.map((d) => d.job);
  const evaluation = rec.job.flag === "MCAST" || rec.job.flag === "PROXY";
  const job: Job = {
    ...rec.job,
    deps: withPeerOffsets(
      evaluation ? compactDeps(below) : below,
      rec.job.peers,
    ),
    output: [...rec.job.output],
  };
  const complete = rec.job.end && deps.every((d) => d.complete);
  if (complete) rec.finalReport = job;
  return { job, complete };
}

async function _dep(dep: Job, ask: AskReport): Promise<Report> {
  if (dep.id === "") return { job: dep, complete: true }; // never started: lost
  try {
    const report = await ask(dep);
    return {
      job: { ...report.job, owner: dep.owner },
      complete: report.complete,
    };
  } catch (e) {
    // A worker below that is gone ends its part of the subtree: report it.
    return {
      job: { ...dep, end: true, error: `Lost: ${(e as Error).message}` },
      complete: true,
    };
  }
}
