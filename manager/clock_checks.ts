/**
 * The workers' kernel clocks, as they report them at CONNECT (adjtimex, see
 * `worker/kernel_clock.ts`): what is wrong with one, and the script's policy
 * (`clocks: trust` warns, `require-sync` refuses the worker); and whether a
 * stage's choice is closer than its pairs' clock offsets are known.
 *
 * @module
 */
import type { ConnectResult } from "../core/results.ts";
import type { CandidateResult } from "../core/results.ts";
import type { Script, Strategy } from "./script_types.ts";
import { type SelectType, SHIFTED_STATS } from "./strategy.ts";

/** Why a worker's kernel clock is not to be trusted, or undefined. */
export function kernelClockProblem(
  r: ConnectResult,
  maxErrorUs: number,
): string | undefined {
  const c = r.hello?.clock;
  if (r.status !== "ok" || !c?.known) return undefined;
  const fake = c.emulated ? " (emulated)" : "";
  if (!c.synced) {
    return `its kernel says its clock is not synchronised${fake} ` +
      `(STA_UNSYNC, estimated error ${c.esterrorUs} us): run chrony or ntpd`;
  }
  if (c.esterrorUs > maxErrorUs) {
    return `its kernel estimates its clock error at ${c.esterrorUs} us${fake}, ` +
      `above clock_error (${maxErrorUs} us)`;
  }
  return undefined;
}

/** With `clocks: require-sync`, workers with a clock problem are refused. */
export function applyClockPolicy(
  results: ConnectResult[],
  clocks: Script["clocks"],
): ConnectResult[] {
  if (clocks.policy !== "require-sync") return results;
  return results.map((r) => {
    const why = kernelClockProblem(r, clocks.maxErrorUs);
    return why
      ? { ...r, status: "refused", error: `${why} (clocks: require-sync)` }
      : r;
  });
}

/** One text for the CONNECT table: synced and the estimated error, or not. */
export function kernelClockText(r: ConnectResult): string {
  const c = r.hello?.clock;
  if (!c?.known) return "-";
  return (c.synced ? `sync +-${c.esterrorUs}` : "UNSYNC") +
    (c.emulated ? "*" : "");
}

/**
 * Why a stage's choice may be the clocks' rather than the delays': the
 * offset bounds of the last kept and the first dropped candidate (in the
 * strategy's order), as they can move the two scores (bound x the weight of
 * the delay figures an offset shifts), against the gap between the scores.
 * Undefined when the gap is wider, when no offset was measured there, or
 * when the strategy weighs no shifted figure (e.g. stddev alone).
 */
export function offsetDoubt(
  cands: readonly CandidateResult[],
  type: SelectType,
  strategy: Strategy,
): string | undefined {
  const w = SHIFTED_STATS.reduce(
    (sum, s) => sum + Math.abs(strategy.weights[s] ?? 0),
    0,
  );
  const scored = cands.filter((c) => Number.isFinite(c.score));
  const sign = type === "BEST" ? 1 : -1;
  const order = (a: CandidateResult, b: CandidateResult) =>
    sign * (a.score! - b.score!);
  const lastKept = scored.filter((c) => c.kept).sort(order).at(-1);
  const firstDropped = scored.filter((c) => !c.kept).sort(order)[0];
  if (w === 0 || !lastKept || !firstDropped) return undefined;
  const a = lastKept.stats?.offsetBoundUs,
    b = firstDropped.stats?.offsetBoundUs;
  if (a === undefined && b === undefined) return undefined;
  const moves = ((a ?? 0) + (b ?? 0)) * w;
  const gap = Math.abs(firstDropped.score! - lastKept.score!);
  if (moves <= gap) return undefined;
  const f = (x: number) => Math.round(x * 10) / 10;
  return `the clock offsets' bounds of "${lastKept.addr}" (kept, ` +
    `+-${a ?? "?"} us) and "${firstDropped.addr}" (dropped, +-${
      b ?? "?"
    } us) ` +
    `can move their scores by ${f(moves)}, more than the ${f(gap)} between ` +
    `them: the choice may be the clocks'`;
}
