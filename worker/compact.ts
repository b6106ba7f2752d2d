/**
 * The nested REPORT of an evaluation kept small (issue #19): every leaf's
 * and proxy's statistics travel up inside one message, capped at 1 MiB. So a
 * proxy or root job's report carries its dependencies' statistics without
 * their per-second series (the per-message parts carry the stream's course),
 * and without their HDR histograms once the histograms of everything below
 * would pass {@link HISTOGRAM_BUDGET} (a histogram is 1-4 KB of text: a
 * D = 3, F = 10 tree's 1,110 receivers would carry 1.5-4.5 MB). Counters,
 * loss and percentiles always stay, per leaf.
 *
 * @module
 */
import type { Job } from "../proto/codec.ts";

/** Histogram text one job's report carries for everything below it, bytes. */
export const HISTOGRAM_BUDGET = 256 * 1024;

/** `deps` as an evaluation job's report carries them (see the module doc). */
export function compactDeps(deps: readonly Job[]): Job[] {
  const bare = deps.map((d) => _map(d, (s) => ({ ...s, series: [] })));
  const text = bare.reduce((n, d) => n + _histogramBytes(d), 0);
  if (text <= HISTOGRAM_BUDGET) return bare;
  return bare.map((d) => _map(d, (s) => ({ ...s, histogram: "" })));
}

type Stats = NonNullable<Job["stats"]>;

function _map(job: Job, f: (s: Stats) => Stats): Job {
  return {
    ...job,
    ...(job.stats ? { stats: f(job.stats) } : {}),
    deps: job.deps.map((d) => _map(d, f)),
  };
}

function _histogramBytes(job: Job): number {
  return (job.stats?.histogram.length ?? 0) +
    job.deps.reduce((n, d) => n + _histogramBytes(d), 0);
}
