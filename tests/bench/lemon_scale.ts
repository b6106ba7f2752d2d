/**
 * LEMON at scale (#21): the largest N whose all-to-all and assignment (FAQ)
 * finish within 10 min, on a virtual pool (`scale_virtual.ts`: the real
 * manager, the demo's virtual script with one LEMON tree, 5 % stragglers,
 * LEMON's defaults: 4 peers at once, the stages' streams of 0.1 + 0.5 s).
 * N goes up 50, 100, 200, 400, 800, 1,000 (the cap: the heuristics' N), and
 * stops at the first N over 10 min (its run is killed at 12 min: FAQ blocks
 * the manager's process, so a run past it is not waited for). Each N's
 * time is the all-to-all's span plus the LEMON tree's build (the placement).
 *
 * It takes long (about 20 min on a loaded 2-core machine): a section of its
 * own, `deno task bench --only lemon-scale`, not in the default run.
 *
 * @module
 */
import {
  type KilledRun,
  virtualRun,
  type VirtualRunFigures,
} from "./scale_virtual.ts";
import { type Log, r1, stderrLog } from "./_util.ts";

/** The ladder of N, and its cap. */
export const LEMON_NS = [50, 100, 200, 400, 800, 1000];
/** #21's limit on LEMON's all-to-all and assignment, ms. */
const LIMIT_MS = 10 * 60_000;
/** A run is killed after this (CONNECT and the evaluation are in it too). */
const DEADLINE_MS = 12 * 60_000;

/** One N. */
export interface LemonStep {
  workers: number;
  /** All-to-all plus placement, ms; null when the run was killed. */
  lemon_ms: number | null;
  all_to_all_ms: number | null;
  within: boolean;
  /** The run's figures (absent when it was killed). */
  run?: VirtualRunFigures;
  /** A killed run: how far it had come. */
  killed?: KilledRun;
}

/** The section's JSON. */
export interface LemonScaleResult {
  limit_ms: number;
  ladder: number[];
  steps: LemonStep[];
  /** The largest N within the limit (null: not even the first). */
  largest_n: number | null;
  largest_n_ms: number | null;
  /** Whether the ladder's cap was reached within the limit. */
  cap_reached: boolean;
}

/** Runs the section; see the module doc. */
export async function runLemonScale(
  o: { ns?: number[]; seed?: number; log?: Log } = {},
): Promise<LemonScaleResult> {
  const log = o.log ?? stderrLog;
  const ladder = o.ns ?? LEMON_NS;
  const steps: LemonStep[] = [];
  for (const n of ladder) {
    log(`lemon-scale: N=${n} (load ${Deno.loadavg()[0]})...`);
    const got = await virtualRun({
      workers: n,
      seed: o.seed ?? 1,
      stragglers: 0.05,
      trees: ["{ type: LEMON }"],
    }, DEADLINE_MS);
    const run = "killed" in got ? undefined : got;
    const killed = "killed" in got ? got : undefined;
    const lemonMs = run?.lemon_ms ?? null;
    const step: LemonStep = {
      workers: n,
      lemon_ms: lemonMs,
      all_to_all_ms: run?.all_to_all_ms ?? null,
      within: lemonMs !== null && lemonMs <= LIMIT_MS &&
        run?.status === "complete",
      ...(run ? { run } : {}),
      ...(killed ? { killed } : {}),
    };
    steps.push(step);
    log(
      `lemon-scale: N=${n}: ${
        run
          ? `all-to-all ${r1((run.all_to_all_ms ?? NaN) / 1000)} s, ` +
            `with the placement ${
              r1((lemonMs ?? NaN) / 1000)
            } s; run ${run.status}, ` +
            `kept ${run.trees[0]?.stragglers_kept} stragglers of ${
              run.trees[0]?.nodes
            } nodes`
          : `killed after ${DEADLINE_MS / 60_000} min (last: ${
            killed?.last
              ? `${killed.last.progress} at ${killed.last.at_s} s`
              : "none"
          })`
      } (load ${Deno.loadavg()[0]})`,
    );
    if (!step.within) break;
  }
  const ok = steps.filter((s) => s.within);
  const last = ok.at(-1);
  return {
    limit_ms: LIMIT_MS,
    ladder,
    steps,
    largest_n: last?.workers ?? null,
    largest_n_ms: last?.lemon_ms ?? null,
    cap_reached: ok.length === ladder.length,
  };
}

if (import.meta.main) {
  const ns = Deno.args.length ? Deno.args.map(Number) : undefined;
  console.log(
    JSON.stringify(await runLemonScale(ns ? { ns } : {}), null, 2),
  );
}
