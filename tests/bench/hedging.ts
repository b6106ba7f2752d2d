/**
 * Hedged trees (#22, point 2), on the local testbed (`tests/helpers/hedged.ts`):
 * 13 real workers on 127.0.0.1 and a RANDOM tree of depth 2, fanout 3 from
 * worker 0, evaluated with hedge 0, 1 and 2 on the same workers and seed
 * (the same tree: hedging only adds edges). Worker 1 straggles: its probes
 * add an emulated 3 ms (jitter 100 µs) to every datagram's `emu_ns`,
 * accounted, not slept (`probes/WIRE.md`). A straggler adds its delay to
 * what it receives too, so only a straggling PROXY can be hedged away (its
 * children get a second copy from a sibling proxy), never a straggling
 * leaf. So the section runs two configurations on one testbed, told apart
 * by the seed (`randomDepthOf` picks seeds that put worker 1 there):
 *
 * - `proxy`: worker 1 at depth 1, a straggling proxy (Jasper's case; the
 *   goal is judged here);
 * - `leaf`: worker 1 at depth 2, a straggling leaf (hedging cannot help:
 *   reported as measured, not judged).
 *
 * The arms are interleaved (seed 1: hedge 0, 1, 2; seed 2: hedge 0, 1, 2;
 * ...) so that a load burst hits each alike. Per arm, from the results:
 * the worst-receiver p99 (`messages.latency.p99Us`: per message, the
 * largest delay over the leaves, each leaf's the smallest over its copies)
 * and the delivery-window p99 (`messages.window.p99Us`: largest minus
 * smallest leaf delay per message), and the worst-receiver p50 beside
 * them (on a loaded machine the p99 is the scheduler's stalls, the p50
 * still the straggler's 3 ms); datagrams sent per message (the root's
 * `sent` x its children, plus each proxy's `forwarded` x its out-degree in
 * the tree's edges and hedge edges, over the root's `sent`; warm-up and END
 * included); copies a leaf received per message (`received + duplicates`
 * over `received`); CPU: the workers' and their probes' CPU seconds over
 * the evaluation, from `eval-start` to `eval-done` (the MCAST command, the
 * stream, the reports; `familyCpuSeconds`, /proc: the processes running and
 * the ones they reaped), per message judged. A warm-up evaluation, not
 * counted, comes first (the workers start their warm probes then). Per hedge: the median over
 * seeds, and its ratio to hedge 0's median.
 * Goal (#22, as in Jasper): hedge 1's worst-receiver p99 <= 0.6 x hedge 0's,
 * straggling proxy. A bench judges, never asserts.
 *
 * @module
 */
import type { Results } from "../../manager/results.ts";
import type { ExperimentEvent } from "../../manager/step.ts";
import {
  evaluateHedged,
  type HedgedRun,
  randomDepthOf,
} from "../helpers/hedged.ts";
import { startTestbed, type Testbed } from "../helpers/testbed.ts";
import { familyCpuSeconds } from "./_procs.ts";
import {
  datagramsPerMessage,
  type Log,
  median,
  r1,
  r3,
  stderrLog,
} from "./_util.ts";

/** The hedges compared (0: the plain tree). */
const HEDGES = [0, 1, 2];
const DEPTH = 2;
const FANOUT = 3;
const WORKERS = 1 + FANOUT + FANOUT * FANOUT;
/** The straggler: worker 1 (worker 0 is the root). */
const SLOW = 1;
const EMULATE = "delay=3ms,jitter=100us";
/** #22's goal: hedge 1's worst-receiver p99 over hedge 0's, at most. */
const GOAL_RATIO = 0.6;

/** One experiment: one seed, one hedge. */
export interface HedgeArm {
  seed: number;
  hedge: number;
  /** Where the straggler was in the tree evaluated ("absent": not in it). */
  straggler: "root" | "proxy" | "leaf" | "absent";
  messages: number;
  lost_share: number;
  worst_receiver_p99_us: number | null;
  /** The median: the straggler's share of the tail is clearest there. */
  worst_receiver_p50_us: number | null;
  window_p99_us: number | null;
  datagrams_per_message: number | null;
  copies_per_leaf_message: number | null;
  /** Null when the evaluation did not run to its end. */
  cpu_s: number | null;
  cpu_us_per_message: number | null;
  /** The 1-minute load average when it ended. */
  load: number;
  error?: string;
}

/** One hedge over the seeds of a configuration: medians, and ratios to hedge 0's. */
export interface HedgeSummary {
  hedge: number;
  runs: number;
  worst_receiver_p99_us: number | null;
  worst_receiver_p50_us: number | null;
  window_p99_us: number | null;
  ratio_p99_to_hedge0: number | null;
  ratio_p50_to_hedge0: number | null;
  ratio_window_to_hedge0: number | null;
  datagrams_per_message: number | null;
  copies_per_leaf_message: number | null;
  cpu_us_per_message: number | null;
  ratio_cpu_to_hedge0: number | null;
}

/** One configuration: where the straggler sits. */
export interface HedgeConfig {
  straggler: "proxy" | "leaf";
  seeds: number[];
  arms: HedgeArm[];
  hedges: HedgeSummary[];
}

/** The section's JSON. */
export interface HedgingBenchResult {
  workers: number;
  depth: number;
  fanout: number;
  emulate: string;
  rate: number;
  duration_s: number;
  configs: HedgeConfig[];
  /** `placed`: the straggler was a proxy in every arm judged. */
  goal: { ratio: number; placed: boolean; met: boolean };
}

/** Options of {@link runHedgingBench}. */
export interface HedgingBenchOptions {
  log?: Log;
  /** Fewer seeds and shorter streams. */
  quick?: boolean;
}

/** Runs the section; see the module doc. */
export async function runHedgingBench(
  o: HedgingBenchOptions = {},
): Promise<HedgingBenchResult> {
  const log = o.log ?? stderrLog;
  const rate = 1000, duration = o.quick ? 1 : 2;
  const bed = await startTestbed(WORKERS, { slow: [SLOW], emulate: EMULATE });
  const pids = bed.workers.map((w) => w.child.pid);
  const configs: HedgeConfig[] = [];
  try {
    // Warm-up, not counted: the workers start their warm probes at their
    // first job (seconds of CPU on a loaded machine).
    const warm = await _arm(bed, pids, {
      hedge: 0,
      seed: 1,
      depth: DEPTH,
      fanout: FANOUT,
      rate,
      duration: 0.3,
    });
    log(`hedging: warm-up (not counted): ${_armLine(warm)}`);
    const plan = [
      { straggler: "proxy" as const, seeds: o.quick ? 2 : 3 },
      { straggler: "leaf" as const, seeds: 1 },
    ];
    for (const p of plan) {
      const seeds = _seedsPlacing(bed.addrs, p.straggler, p.seeds);
      log(
        `hedging: ${WORKERS} workers, D=${DEPTH} F=${FANOUT}, RANDOM; worker ` +
          `${SLOW} (--emulate ${EMULATE}) a straggling ${p.straggler} at ` +
          `seeds ${seeds.join(", ")} (${
            p.straggler === "proxy"
              ? "the case hedging is for"
              : "hedging cannot help: it delays every copy it receives"
          }); ${rate} msg/s for ${duration} s`,
      );
      const arms: HedgeArm[] = [];
      for (const seed of seeds) {
        for (const hedge of HEDGES) {
          const arm = await _arm(bed, pids, {
            hedge,
            seed,
            depth: DEPTH,
            fanout: FANOUT,
            rate,
            duration,
          });
          arms.push(arm);
          log(`hedging: ${p.straggler} ${_armLine(arm)}`);
        }
      }
      const hedges = _summaries(arms);
      for (const h of hedges) log(`hedging: ${p.straggler} ${_summaryLine(h)}`);
      configs.push({ straggler: p.straggler, seeds, arms, hedges });
    }
  } finally {
    await bed.stop();
  }
  const one = configs[0]!.hedges.find((h) => h.hedge === 1);
  const r = one?.ratio_p99_to_hedge0 ?? null;
  // Judged only where the straggler was a proxy in every arm.
  const placed = configs[0]!.arms.every((a) => a.straggler === "proxy");
  return {
    workers: WORKERS,
    depth: DEPTH,
    fanout: FANOUT,
    emulate: EMULATE,
    rate,
    duration_s: duration,
    configs,
    goal: {
      ratio: GOAL_RATIO,
      placed,
      met: placed && r !== null && r <= GOAL_RATIO,
    },
  };
}

/** The first `n` seeds whose RANDOM tree puts the straggler at `where`. */
function _seedsPlacing(
  addrs: readonly string[],
  where: "proxy" | "leaf",
  n: number,
): number[] {
  const depth = where === "proxy" ? 1 : DEPTH;
  const out: number[] = [];
  for (let seed = 1; out.length < n; seed++) {
    const d = randomDepthOf(
      addrs,
      { seed, depth: DEPTH, fanout: FANOUT },
      SLOW,
    );
    if (d === depth) out.push(seed);
  }
  return out;
}

/** Runs one arm on the testbed; its figures (an error recorded, not thrown). */
async function _arm(
  bed: Testbed,
  pids: number[],
  run: HedgedRun & { seed: number },
): Promise<HedgeArm> {
  // CPU over the evaluation: from its start (the tree built) to its end
  // (the reports and per-message parts collected).
  let cpu0 = NaN, cpu1 = NaN;
  const onEvent = (e: ExperimentEvent) => {
    if (e.kind === "eval-start") cpu0 = familyCpuSeconds(pids);
    if (e.kind === "eval-done") cpu1 = familyCpuSeconds(pids);
  };
  let results: Results | undefined, error: string | undefined;
  try {
    results = await evaluateHedged(bed, run, onEvent);
  } catch (e) {
    error = (e as Error).message;
  }
  const cpu = Number.isFinite(cpu1 - cpu0) ? r3(cpu1 - cpu0) : null;
  const load = Deno.loadavg()[0]!;
  const t = results?.trees[0];
  const ev = t?.evaluations[0];
  const m = ev?.messages;
  const role = ev?.nodes.find((n) => n.addr === bed.stragglers[0])?.role;
  const arm: HedgeArm = {
    seed: run.seed,
    hedge: run.hedge,
    straggler: role ?? "absent",
    messages: m?.messages ?? 0,
    lost_share: r3(m?.lostShare ?? 1),
    worst_receiver_p99_us: m?.latency.p99Us ?? null,
    worst_receiver_p50_us: m?.latency.p50Us ?? null,
    window_p99_us: m?.window.p99Us ?? null,
    datagrams_per_message: t && ev ? datagramsPerMessage(t, ev) : null,
    copies_per_leaf_message: ev ? _copies(ev) : null,
    cpu_s: cpu,
    cpu_us_per_message: m?.messages && cpu !== null
      ? r1(cpu * 1e6 / m.messages)
      : null,
    load,
  };
  const why = error ?? t?.error ?? ev?.error ?? m?.error;
  if (why) arm.error = why;
  return arm;
}

type Tree = Results["trees"][number];
type Evaluation = Tree["evaluations"][number];

/** Copies a leaf received per message it received. */
function _copies(ev: Evaluation): number | null {
  let received = 0, copies = 0;
  for (const n of ev.nodes) {
    if (n.role !== "leaf" || !n.stats) continue;
    received += n.stats.received;
    copies += n.stats.received + n.stats.duplicates;
  }
  return received === 0 ? null : r3(copies / received);
}

/** Medians per hedge, and ratios to hedge 0's. */
function _summaries(arms: HedgeArm[]): HedgeSummary[] {
  const med = (xs: (number | null)[]) => {
    const v = xs.filter((x): x is number => x !== null);
    return v.length === 0 ? null : r1(median(v));
  };
  const ratio = (a: number | null, b: number | null | undefined) =>
    a === null || !b ? null : r3(a / b);
  const out: HedgeSummary[] = [];
  for (const hedge of HEDGES) {
    const of = arms.filter((a) => a.hedge === hedge);
    const cpu = med(of.map((a) => a.cpu_us_per_message));
    const s = {
      hedge,
      runs: of.length,
      worst_receiver_p99_us: med(of.map((a) => a.worst_receiver_p99_us)),
      worst_receiver_p50_us: med(of.map((a) => a.worst_receiver_p50_us)),
      window_p99_us: med(of.map((a) => a.window_p99_us)),
      datagrams_per_message: med(of.map((a) => a.datagrams_per_message)),
      copies_per_leaf_message: med(of.map((a) => a.copies_per_leaf_message)),
      cpu_us_per_message: cpu,
    };
    const zero = out[0];
    out.push({
      ...s,
      ratio_p99_to_hedge0: ratio(
        s.worst_receiver_p99_us,
        zero?.worst_receiver_p99_us ?? s.worst_receiver_p99_us,
      ),
      ratio_p50_to_hedge0: ratio(
        s.worst_receiver_p50_us,
        zero?.worst_receiver_p50_us ?? s.worst_receiver_p50_us,
      ),
      ratio_window_to_hedge0: ratio(
        s.window_p99_us,
        zero?.window_p99_us ?? s.window_p99_us,
      ),
      ratio_cpu_to_hedge0: ratio(cpu, zero?.cpu_us_per_message ?? cpu),
    });
  }
  return out;
}

const _armLine = (a: HedgeArm) =>
  `seed ${a.seed} hedge ${a.hedge} (straggler: ${a.straggler}): ` +
  `worst-receiver p99 ${a.worst_receiver_p99_us} µs (p50 ` +
  `${a.worst_receiver_p50_us}), window p99 ` +
  `${a.window_p99_us} µs, ${a.messages} messages (lost ${a.lost_share}), ` +
  `${a.datagrams_per_message} datagrams/message, ${a.copies_per_leaf_message} ` +
  `copies/leaf message, CPU ${a.cpu_s} s (${a.cpu_us_per_message} µs ` +
  `per message), load ${a.load}${a.error ? `; error: ${a.error}` : ""}`;

const _summaryLine = (h: HedgeSummary) =>
  `hedge ${h.hedge} (median of ${h.runs}): worst-receiver p99 ` +
  `${h.worst_receiver_p99_us} µs (x${h.ratio_p99_to_hedge0} hedge 0's; p50 ` +
  `${h.worst_receiver_p50_us} µs, x${h.ratio_p50_to_hedge0}), ` +
  `window p99 ${h.window_p99_us} µs (x${h.ratio_window_to_hedge0}), ` +
  `${h.datagrams_per_message} datagrams/message, ` +
  `${h.copies_per_leaf_message} copies/leaf message, CPU ` +
  `${h.cpu_us_per_message} µs per message (x${h.ratio_cpu_to_hedge0})`;

/** #22's goal line (straggling proxy), with the straggling leaf beside it. */
export function hedgingGoals(
  r: HedgingBenchResult,
): { goal: string; measured: string; met: boolean }[] {
  const [proxy, leaf] = r.configs;
  const h = (c: HedgeConfig | undefined, k: number) =>
    c?.hedges.find((x) => x.hedge === k);
  const one = h(proxy, 1), zero = h(proxy, 0), two = h(proxy, 2);
  return [{
    goal: "hedge 1 worst-receiver p99 <= 0.6 x hedge 0 (same RANDOM tree, " +
      "D=2 F=3, a straggling proxy)",
    measured: (r.goal.placed ? "" : "not judged: the straggler was not " +
      "a proxy in every arm; ") +
      `${one?.ratio_p99_to_hedge0 ?? "n/a"} x (` +
      `${one?.worst_receiver_p99_us} vs ${zero?.worst_receiver_p99_us} µs; ` +
      `hedge 2: x${two?.ratio_p99_to_hedge0}; p50 x${one?.ratio_p50_to_hedge0}` +
      ` / x${two?.ratio_p50_to_hedge0}; window p99 x` +
      `${one?.ratio_window_to_hedge0} / x${two?.ratio_window_to_hedge0}; ` +
      `datagrams/message ${
        proxy?.hedges.map((x) => x.datagrams_per_message).join(" / ")
      }; CPU x${one?.ratio_cpu_to_hedge0} / x${two?.ratio_cpu_to_hedge0}; ` +
      `straggling leaf, not judged: hedge 1 x${
        h(leaf, 1)?.ratio_p99_to_hedge0
      }, hedge 2 x${h(leaf, 2)?.ratio_p99_to_hedge0})`,
    met: r.goal.met,
  }];
}
