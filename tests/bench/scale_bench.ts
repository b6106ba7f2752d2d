/**
 * The `scale` section of the bench (#21):
 *
 * - CONNECT time, admission apart (until the last worker received its
 *   first CONNECT, and until it was admitted), the manager's CPU and its
 *   memory per worker at N = 100, 1,000, 2,000 and 5,000 fake workers
 *   (`scale.ts`; the fake pool in a process of its own);
 * - on a virtual pool of 1,000 workers with 5 % stragglers
 *   (`scale_virtual.ts`, the real manager and workers, probes answered by
 *   the model): the stragglers kept by BEST, WORST and RANDOM (LEMON's all-to-all and FAQ
 *   at N = 1,000 take far over 10 min: its figures are the `lemon-scale`
 *   section's, at the largest N it reaches), the per-message worst-receiver p99 per tree
 *   when the results carry it, and the build overhead per layer (build time -
 *   depth x the stage job's time, / depth: the virtual probes take their
 *   stream's time).
 *
 * Goals (ratios within the run where there is a baseline): CONNECT time per
 * worker at the largest N <= 1.5 x at the smallest; at N = 2,000 every
 * worker admitted within 2 s of the step's start; BEST's overhead per
 * layer at N = 1,000 <= 200 ms (#11's goal, there on a D = 3 tree of real
 * processes); BEST keeps no more stragglers than RANDOM, and RANDOM no more
 * than WORST; with per-message figures (none until the MCAST step collects
 * them: the tree lines then say "n/a (no per-message figures)"), BEST's
 * worst-receiver p99 <= RANDOM's; LEMON (`lemon-scale`): within 10 min up to
 * its ladder's cap.
 *
 * @module
 */
import { connectLine, type ConnectScale, connectScale } from "./scale.ts";
import {
  NO_MESSAGES,
  virtualRun,
  type VirtualRunFigures,
} from "./scale_virtual.ts";
import type { LemonScaleResult } from "./lemon_scale.ts";
import { type Log, r3, stderrLog } from "./_util.ts";

/** The section's JSON. */
export interface ScaleBenchResult {
  connect: ConnectScale[];
  /** Time per worker at the largest N / at the smallest. */
  ratio_connect_per_worker: number;
  /** The virtual run (undefined: killed at its deadline). */
  heuristics: VirtualRunFigures | null;
}

/** Options of {@link runScaleBench}. */
export interface ScaleBenchOptions {
  /** Fake workers per CONNECT run (default 100, 1,000, 5,000). */
  ns?: number[];
  /** Virtual workers of the heuristics' run (default 1,000). */
  workers?: number;
  log?: Log;
}

const TREES = [
  "{ type: BEST, strategy: P90 }",
  "{ type: WORST, strategy: P90 }",
  "{ type: RANDOM }",
];

/** Runs the section; see the module doc. */
export async function runScaleBench(
  o: ScaleBenchOptions = {},
): Promise<ScaleBenchResult> {
  const log = o.log ?? stderrLog;
  const connect: ConnectScale[] = [];
  for (const n of o.ns ?? [100, 1000, ADMIT_N, 5000]) {
    const c = await connectScale(n);
    connect.push(c);
    log(`scale: ${connectLine(c)} (load ${Deno.loadavg()[0]})`);
  }
  const workers = o.workers ?? 1000;
  log(
    `scale: ${workers} virtual workers, 5 % stragglers: BEST, WORST, RANDOM...`,
  );
  const got = await virtualRun(
    { workers, seed: 1, stragglers: 0.05, trees: TREES },
    20 * 60_000,
  );
  const h = "killed" in got ? undefined : got;
  if (h) {
    for (const t of h.trees) {
      log(
        `scale: ${t.name} (${workers} virtual workers, depth ${h.shape.depth} fanout ` +
          `${h.shape.fanout} K ${h.shape.hyperparameter}): ${t.status}, kept ` +
          `${t.stragglers_kept} stragglers among ${t.nodes} nodes; build ${t.build_ms} ms, ` +
          `overhead per layer ${
            t.overhead_per_layer_ms ?? "n/a"
          } ms; worst-receiver p99 ${
            t.worst_receiver_p99_us === NO_MESSAGES
              ? NO_MESSAGES
              : `${t.worst_receiver_p99_us} µs`
          }`,
      );
    }
    log(
      `scale: virtual run ${h.status} in ${h.wall_s} s; process CPU ${h.cpu_s} s, ` +
        `peak RSS ${h.peak_rss_mib} MiB (manager and pool)`,
    );
  } else log(`scale: the virtual run was killed after 20 min`);
  const first = connect[0], last = connect.at(-1);
  return {
    connect,
    ratio_connect_per_worker: first && last
      ? r3(last.connect_per_worker_ms / first.connect_per_worker_ms)
      : NaN,
    heuristics: h ?? null,
  };
}

/** A goal: what it asks, what was measured, met or not. */
export interface ScaleGoal {
  goal: string;
  measured: string;
  met: boolean;
}

/** #21: every one of ADMIT_N fake workers admitted within ADMIT_S s. */
const ADMIT_N = 2000, ADMIT_S = 2;

/** #21's goals from the `scale` and `lemon-scale` sections' figures. */
export function scaleGoals(
  s: ScaleBenchResult | undefined,
  l: LemonScaleResult | undefined,
): ScaleGoal[] {
  const out: ScaleGoal[] = [];
  if (s) {
    const a = s.connect[0], b = s.connect.at(-1);
    if (a && b) {
      out.push({
        goal:
          `CONNECT time per worker at N=${b.workers} <= 1.5 x at N=${a.workers}`,
        measured: `${s.ratio_connect_per_worker} x (${
          s.connect.map((c) =>
            `N=${c.workers}: ${c.connect_s} s, CPU ${c.connect_cpu_s} s, ` +
            `${c.rss_per_worker_kib} KiB/worker`
          ).join("; ")
        })`,
        met: s.ratio_connect_per_worker <= 1.5,
      });
    }
    const admit = s.connect.find((c) => c.workers === ADMIT_N);
    if (admit) {
      out.push({
        goal: `every worker admitted within ${ADMIT_S} s at N=${ADMIT_N}`,
        measured: s.connect.filter((c) => c.workers >= 1000).map((c) =>
          `N=${c.workers}: last first CONNECT received ${c.first_connect_last_s} s, ` +
          `last admitted ${c.admitted_last_s} s (${c.admitted} admitted)`
        ).join("; "),
        met: admit.admitted === ADMIT_N && admit.admitted_last_s <= ADMIT_S,
      });
    }
    const h = s.heuristics;
    const tree = (type: string) => h?.trees.find((t) => t.type === type);
    const best = tree("BEST"), worst = tree("WORST"), rnd = tree("RANDOM");
    const n = h?.workers ?? 0;
    out.push({
      goal: `build overhead per layer at N=${n} (virtual, BEST) <= 200 ms`,
      measured: best
        ? `${best.overhead_per_layer_ms} ms (build ${best.build_ms} ms, depth ${
          h!.shape.depth
        } x job ${h!.job_ms} ms; WORST ${worst?.overhead_per_layer_ms} ms)`
        : "not measured (the virtual run did not end)",
      met: (best?.overhead_per_layer_ms ?? Infinity) <= 200,
    });
    const kept = (t: typeof best) => t?.stragglers_kept ?? NaN;
    out.push({
      goal: `stragglers kept at N=${n} (5 %): BEST <= RANDOM <= WORST`,
      measured: `BEST ${kept(best)}, RANDOM ${kept(rnd)}, WORST ${
        kept(worst)
      } (of ${h?.trees[0]?.nodes} nodes); LEMON ${
        l?.largest_n
          ? `${
            l.steps.find((x) => x.workers === l.largest_n)?.run?.trees[0]
              ?.stragglers_kept
          } at N=${l.largest_n} (lemon-scale)`
          : "not run at this N (see lemon-scale)"
      }`,
      met: kept(best) <= kept(rnd) && kept(rnd) <= kept(worst),
    });
    // Without per-message figures the tree lines say n/a: no goal to judge.
    const p = (t: typeof best) => t?.worst_receiver_p99_us;
    const pb = p(best), pr = p(rnd);
    if (typeof pb === "number" && typeof pr === "number") {
      out.push({
        goal: "per-message worst-receiver p99: BEST <= RANDOM",
        measured: `BEST ${pb} µs, RANDOM ${pr} µs, WORST ${p(worst)} µs`,
        met: pb <= pr,
      });
    }
  }
  if (l) {
    out.push({
      goal: `LEMON's all-to-all and assignment within 10 min up to N=${
        l.ladder.at(-1)
      }`,
      measured: l.largest_n === null
        ? `not even N=${l.ladder[0]}`
        : `largest N ${l.largest_n} in ${
          r3((l.largest_n_ms ?? NaN) / 1000)
        } s; ${
          l.steps.map((x) =>
            `N=${x.workers}: ${
              x.lemon_ms === null ? "killed" : `${r3(x.lemon_ms / 1000)} s`
            }`
          ).join(", ")
        }`,
      met: l.cap_reached,
    });
  }
  return out;
}
