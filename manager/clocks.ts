/**
 * The workers' kernel clocks, as they report them at CONNECT (adjtimex, see
 * `worker/kernel_clock.ts`): what is wrong with one, and the script's policy
 * (`clocks: trust` warns, `require-sync` refuses the worker).
 *
 * @module
 */
import type { ConnectResult } from "../core/results.ts";
import type { Script } from "./script.ts";

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
