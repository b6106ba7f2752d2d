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
 * Whether workers `a` and `b` read one clock: their CONNECT hellos carry the
 * same boot id (one running kernel: namespaces or containers of one host).
 * Their offset is then zero, not an estimate with a bound.
 */
export function sameClock(
  workers: readonly ConnectResult[],
  a: string,
  b: string,
): boolean {
  const boot = (addr: string) =>
    workers.find((w) => w.addr === addr)?.hello?.bootId;
  const x = boot(a);
  return !!x && x === boot(b);
}

/**
 * Why a stage's choice may be the clocks' rather than the delays': the
 * offset bounds of the last kept and the first dropped candidate (in the
 * strategy's order), as they can move the two scores (their combined bound x
 * the weight of the delay figures an offset shifts), against the measured
 * difference between the scores. A candidate that reads the parent's own
 * clock (`sharesParentClock`: same boot id) has no offset to doubt.
 * Undefined when the difference is wider, when no offset was measured there,
 * or when the strategy weighs no shifted figure (e.g. stddev alone).
 */
export function offsetDoubt(
  cands: readonly CandidateResult[],
  type: SelectType,
  strategy: Strategy,
  sharesParentClock: (addr: string) => boolean = () => false,
): string | undefined {
  const w = SHIFTED_STATS.reduce(
    (sum, s) => sum + Math.abs(strategy.weights[s] ?? 0),
    0,
  );
  const scored = cands.filter((c) => Number.isFinite(c.score));
  const sign = type === "BEST" ? 1 : -1;
  const order = (a: CandidateResult, b: CandidateResult) =>
    sign * (a.score! - b.score!);
  const kept = scored.filter((c) => c.kept).sort(order).at(-1);
  const dropped = scored.filter((c) => !c.kept).sort(order)[0];
  if (w === 0 || !kept || !dropped) return undefined;
  const bound = (c: CandidateResult) =>
    sharesParentClock(c.addr) ? 0 : c.stats?.offsetBoundUs;
  const a = bound(kept), b = bound(dropped);
  if (!a && !b) return undefined;
  const combined = (a ?? 0) + (b ?? 0);
  const moves = combined * w;
  const gap = Math.abs(dropped.score! - kept.score!);
  if (moves <= gap) return undefined;
  const f = (x: number) => Math.round(x * 10) / 10;
  const one = (c: CandidateResult, x: number | undefined) =>
    `"${c.addr}" ${
      sharesParentClock(c.addr)
        ? "on the parent's clock"
        : x === undefined
        ? "unmeasured"
        : `+-${f(x)} us`
    }`;
  return `kept "${kept.addr}" over "${dropped.addr}" by ${f(gap)} in score, ` +
    `but their clock offsets' combined bound (+-${f(combined)} us: ` +
    `${one(kept, a)}, ${one(dropped, b)}) can move the scores by ${f(moves)}` +
    (w === 1 ? "" : ` (x ${f(w)}, the weight of the shifted figures)`) +
    `: the choice may be the clocks'`;
}
