/**
 * Hedged trees (#22, point 2): the same RANDOM tree (one seed, one virtual
 * pool of 300 workers with 5 % stragglers: a tree of depth 2, fanout 10)
 * with `hedge: 0` (the key left out), 1 and 2, one run each in a process of
 * its own (`scale_virtual.ts`). Per hedge: the per-message worst-receiver
 * p99 and delivery-window p99 of the evaluation, and the cost: datagrams
 * sent per message (as the results count them) and the run's process CPU
 * (the manager and the pool), as a ratio to hedge 0's.
 * Goal: hedge 1's worst-receiver p99 <= 0.6 x hedge 0's.
 *
 * Until the script parser takes `hedge:` on a tree, the section says "not
 * available: hedge not implemented" and ends (no run).
 *
 * @module
 */
import { parseScript } from "../../manager/script.ts";
import {
  NO_MESSAGES,
  virtualRun,
  type VirtualRunFigures,
} from "./scale_virtual.ts";
import { type Log, r3, stderrLog } from "./_util.ts";

/** The hedges compared (0: the plain tree). */
const HEDGES = [0, 1, 2];
const WORKERS = 300;
/** #22's goal: hedge 1's worst-receiver p99 over hedge 0's, at most. */
const GOAL_RATIO = 0.6;

/** One hedge. */
export interface HedgeRun {
  hedge: number;
  worst_receiver_p99_us: number | null | typeof NO_MESSAGES;
  window_p99_us: number | null | typeof NO_MESSAGES;
  packets_per_message: number | null;
  cpu_s: number;
  /** Against hedge 0's, in the same section run. */
  ratio_p99_to_hedge0: number | null;
  ratio_cpu_to_hedge0: number | null;
  run: VirtualRunFigures | null;
}

/** The section's JSON. */
export interface HedgingBenchResult {
  available: boolean;
  /** Why not, when not available. */
  reason?: string;
  workers: number;
  runs: HedgeRun[];
  goal: { ratio: number; met: boolean };
}

const _tree = (h: number) =>
  h === 0 ? "{ type: RANDOM }" : `{ type: RANDOM, hedge: ${h} }`;

/** Whether the script parser takes `hedge:` on a tree; the refusal, if not. */
export function hedgeRefusal(): string | undefined {
  try {
    parseScript(
      `addrs: ["127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3", "127.0.0.1:4"]
depth: 1
fanout: 2
root: "127.0.0.1:1"
trees: [${_tree(1)}]
`,
      "hedge-probe.yaml",
    );
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Runs the section; see the module doc. */
export async function runHedgingBench(
  o: { log?: Log } = {},
): Promise<HedgingBenchResult> {
  const log = o.log ?? stderrLog;
  // The virtual pool follows one upstream per node (`demo/virtual/streams.ts`):
  // it does not model a hedged leaf's second copy, so a hedge would show no
  // gain there. Until it does, the section measures nothing.
  const refused = hedgeRefusal() ??
    "the virtual pool does not model hedged streams yet " +
      "(demo/virtual/streams.ts follows one upstream per node)";
  if (refused !== undefined) {
    log(`hedging: not available: ${refused}`);
    return {
      available: false,
      reason: refused,
      workers: WORKERS,
      runs: [],
      goal: { ratio: GOAL_RATIO, met: false },
    };
  }
  const runs: HedgeRun[] = [];
  for (const hedge of HEDGES) {
    const got = await virtualRun({
      workers: WORKERS,
      seed: 1,
      stragglers: 0.05,
      trees: [_tree(hedge)],
    }, 15 * 60_000);
    const run = "killed" in got ? undefined : got;
    const t = run?.trees[0];
    const base = runs[0];
    const num = (x: unknown) => typeof x === "number" ? x : null;
    const p99 = num(t?.worst_receiver_p99_us);
    const p0 = num(base?.worst_receiver_p99_us);
    const r: HedgeRun = {
      hedge,
      worst_receiver_p99_us: t?.worst_receiver_p99_us ?? NO_MESSAGES,
      window_p99_us: t?.window_p99_us ?? NO_MESSAGES,
      packets_per_message: t?.packets_per_message ?? null,
      cpu_s: run?.cpu_s ?? NaN,
      ratio_p99_to_hedge0: base && p99 !== null && p0 ? r3(p99 / p0) : null,
      ratio_cpu_to_hedge0: base && run ? r3(run.cpu_s / base.cpu_s) : null,
      run: run ?? null,
    };
    runs.push(r);
    log(
      `hedging: hedge ${hedge}: worst-receiver p99 ${r.worst_receiver_p99_us}, ` +
        `window p99 ${r.window_p99_us}, ${r.packets_per_message} datagrams per message, ` +
        `CPU ${r.cpu_s} s (x${r.ratio_cpu_to_hedge0 ?? 1} hedge 0's; ` +
        `p99 x${r.ratio_p99_to_hedge0 ?? 1}) (load ${Deno.loadavg()[0]})`,
    );
  }
  const one = runs.find((r) => r.hedge === 1)?.ratio_p99_to_hedge0 ?? null;
  return {
    available: true,
    workers: WORKERS,
    runs,
    goal: { ratio: GOAL_RATIO, met: one !== null && one <= GOAL_RATIO },
  };
}

/** #22's goal line. */
export function hedgingGoals(
  r: HedgingBenchResult,
): { goal: string; measured: string; met: boolean }[] {
  // Not available: the section's line says so; no goal to judge.
  if (!r.available) return [];
  const one = r.runs.find((x) => x.hedge === 1);
  const zero = r.runs.find((x) => x.hedge === 0);
  return [{
    goal: "hedge 1 worst-receiver p99 <= 0.6 x hedge 0 (same RANDOM tree)",
    measured: !r.available
      ? `not available: ${r.reason}`
      : `${
        one?.ratio_p99_to_hedge0 ?? "n/a"
      } x (${one?.worst_receiver_p99_us} vs ` +
        `${zero?.worst_receiver_p99_us} µs; datagrams per message ${
          r.runs.map((x) => `hedge ${x.hedge}: ${x.packets_per_message}`)
            .join(", ")
        }; CPU ${
          r.runs.map((x) => `hedge ${x.hedge}: ${x.cpu_s} s`).join(", ")
        })`,
    met: r.goal.met,
  }];
}
