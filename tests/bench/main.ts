/**
 * `deno task bench`: every benchmark of issues #7 and #11, one after the other, on
 * this machine. Progress and each section's figures go to stderr; the whole
 * result is one JSON document on stdout, also written to
 * `results/bench-<UTC>.json` (or `--out FILE`). Sections:
 *
 * - `backends`: each probe I/O backend (native, deno) against the C
 *   reference in the same timestamp mode, with #11's goals (`backends.ts`);
 * - `probes`: the probes against the C reference `tests/reference/udp_ref.c`
 *   (`probes.ts`: one-way delay, sender schedule, proxy hop);
 * - `memory`: idle worker RSS, and the child probe's RSS over 10 million
 *   packets (`memory.ts`);
 * - `control`: REQ/ACK round trip to one worker, CONNECT to 50 workers
 *   (`control.ts`);
 * - `build`: a D = 3, F = 2 tree built with parallel on and off (`build.ts`);
 * - `messages`: per-message figures of 100 and 1,000 simulated leaves, the
 *   root's report size, the manager's CPU and memory (#19, `messages.ts`);
 * - `scale`: CONNECT at 100 to 5,000 fake workers, and the heuristics on a
 *   virtual pool of 1,000 (#21, `scale_bench.ts`);
 * - `hedging`: the same RANDOM tree with hedge 0, 1, 2 on the local
 *   testbed, a straggling proxy, then a straggling leaf (#22, `hedging.ts`);
 * - `lemon-scale`: LEMON's largest N within 10 min (#21, `lemon_scale.ts`;
 *   about 20 min: only with `--only`, not in the default run).
 *
 * Each section reports ratios against a baseline measured in the same run
 * where there is one, the absolute figures beside them, the machine's load
 * before and after it, and its goal as met or not. Nothing is asserted: a
 * section that fails is reported under `errors` and the run exits 1.
 *
 * Usage: `deno task bench [--quick] [--only SECTION,...] [--out FILE]`.
 *
 * @module
 */
import { PROGRAM_VERSION } from "../../core/version.ts";
import { REPO_ROOT } from "../../probes/_testing.ts";
import { type BackendBenchResult, runBackendBench } from "./backends.ts";
import { backendGoals } from "./backends_goals.ts";
import { type BuildBenchResult, runBuildBench } from "./build.ts";
import { type ControlBenchResult, runControlBench } from "./control.ts";
import { type MemoryBenchResult, runMemoryBench } from "./memory.ts";
import { type ProbeBenchResult, runProbeBench } from "./probes.ts";
import {
  type HedgingBenchResult,
  hedgingGoals,
  runHedgingBench,
} from "./hedging.ts";
import { type LemonScaleResult, runLemonScale } from "./lemon_scale.ts";
import {
  type MessagesBenchResult,
  messagesGoals,
  runMessagesBench,
} from "./messages.ts";
import {
  runScaleBench,
  type ScaleBenchResult,
  scaleGoals,
} from "./scale_bench.ts";
import { type Load, load, machine, r1, stderrLog } from "./_util.ts";

const SECTIONS = [
  "backends",
  "probes",
  "memory",
  "control",
  "build",
  "messages",
  "scale",
  "hedging",
  "lemon-scale",
] as const;
type Section = typeof SECTIONS[number];
/** Sections run only when named in `--only`. */
const ONLY_WHEN_NAMED: readonly Section[] = ["lemon-scale"];

const USAGE =
  `Usage: deno task bench [--quick] [--only SECTION,...] [--out FILE]

  --quick         shorter runs of every section
  --only LIST     sections to run, of: ${SECTIONS.join(", ")}
                  (default: all but ${ONLY_WHEN_NAMED.join(", ")})
  --out FILE      where to write the JSON (default results/bench-<UTC>.json)
`;

/** Flags of the benchmark run. */
export interface BenchFlags {
  quick: boolean;
  only: Section[];
  out: string | undefined;
  help: boolean;
}

/** Parses the flags; throws a usage error's message. */
export function parseFlags(args: readonly string[]): BenchFlags {
  const flags: BenchFlags = {
    quick: false,
    only: SECTIONS.filter((s) => !ONLY_WHEN_NAMED.includes(s)),
    out: undefined,
    help: false,
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const [name, inline] = a.startsWith("--") && a.includes("=")
      ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]
      : [a, undefined];
    const value = () => {
      const v = inline ?? args[++i];
      if (v === undefined) throw new Error(`${name} needs a value`);
      return v;
    };
    if (name === "--quick") flags.quick = true;
    else if (name === "--help" || name === "-h") flags.help = true;
    else if (name === "--out") flags.out = value();
    else if (name === "--only") {
      const list = value().split(",").map((s) => s.trim()).filter(Boolean);
      const bad = list.filter((s) =>
        !(SECTIONS as readonly string[]).includes(s)
      );
      if (bad.length > 0 || list.length === 0) {
        throw new Error(
          `Unknown section "${bad[0] ?? ""}" in --only: use ${
            SECTIONS.join(", ")
          }`,
        );
      }
      flags.only = SECTIONS.filter((s) => list.includes(s));
    } else throw new Error(`Unknown flag "${a}"`);
  }
  return flags;
}

/** One goal of issue #7: what it asks, what was measured, met or not. */
export interface Goal {
  goal: string;
  measured: string;
  met: boolean;
}

/** Each section's JSON, when it ran. */
interface SectionResults {
  backends?: BackendBenchResult;
  probes?: ProbeBenchResult;
  memory?: MemoryBenchResult;
  control?: ControlBenchResult;
  build?: BuildBenchResult;
  messages?: MessagesBenchResult;
  scale?: ScaleBenchResult;
  hedging?: HedgingBenchResult;
  "lemon-scale"?: LemonScaleResult;
}

function _goals(s: SectionResults): Goal[] {
  const out: Goal[] = s.backends ? backendGoals(s.backends) : [];
  const { probes: p, memory: m, control: c, build: b } = s;
  if (p) {
    out.push({
      goal: "OWD p50 <= 1.25 x C and p90 <= 1.5 x C",
      measured:
        `p50 ${p.owd.ratio_p50} x (${p.owd.treecast_us.p50} vs ${p.owd.c_us.p50} µs), ` +
        `p90 ${p.owd.ratio_p90} x (${p.owd.treecast_us.p90} vs ${p.owd.c_us.p90} µs)`,
      met: p.owd.met,
    }, {
      goal: "proxy hop p50 <= 1.5 x C forwarder",
      measured:
        `${p.proxy_hop.ratio_p50} x (added ${p.proxy_hop.treecast_added_p50_us} vs ` +
        `${p.proxy_hop.c_added_p50_us} µs)`,
      met: p.proxy_hop.met,
    }, {
      goal:
        `>= 99 % of packets within 100 µs of schedule at ${p.rate} datagrams/s`,
      measured: `${r1(p.schedule.treecast_on_time * 100)} % on time ` +
        `(C sender ${r1(p.schedule.c_on_time * 100)} %)`,
      met: p.schedule.met,
    });
  }
  if (c) {
    out.push({
      goal: "REQ/ACK p50 <= 1 ms",
      measured:
        `p50 ${c.req_ack.worker_us.p50} µs, p99 ${c.req_ack.worker_us.p99} µs ` +
        `(bare ZeroMQ echo p50 ${c.req_ack.echo_baseline_us.p50} µs)`,
      met: c.req_ack.met,
    }, {
      goal: `CONNECT to ${c.connect.workers} workers <= 2 s`,
      measured:
        `cold ${c.connect.cold_ms} ms, warm median ${c.connect.warm_median_ms} ms ` +
        `(one worker ${c.connect.one_worker_median_ms} ms)`,
      met: c.connect.met,
    });
  }
  if (b) {
    out.push({
      goal: "parallel build <= D x job + 1 s per layer",
      measured: `${b.parallel_ms} ms vs ${b.goal.parallel_ms} ms ` +
        `(${b.parallel_to_d_x_job} x D x job; sequential ${b.sequential_ms} ms)`,
      met: b.met,
    }, {
      goal:
        "parallel build overhead per layer (build - D x job, / D) <= 200 ms",
      measured: `${b.parallel_overhead_per_layer_ms} ms with warm probes, ` +
        `${b.cold_parallel_overhead_per_layer_ms} ms with --cold-probes ` +
        `(${b.ratio_overhead_warm_to_cold} x)`,
      met: b.startup_goal.met,
    });
  }
  if (m) {
    const w = m.idle.worker;
    out.push({
      goal: "idle worker <= 80 MB resident",
      measured: `largest ${w.max_rss_mb} MB (${w.max_rss_mib} MiB), median ` +
        `${w.rss_mb} MB (${w.rss_mib} MiB); bare Deno ${m.idle.bare_deno.rss_mib} MiB`,
      met: m.idle.met,
    });
    const l = m.child_load;
    out.push({
      goal: "child memory flat in the packet count",
      measured: l.headline.map((x) =>
        `${x.rss_mib} MiB at ${x.milestone / 1e6}M`
      )
        .join(", ") +
        `; peak ${l.first_half_peak_mib} MiB over the first half, ` +
        `${l.second_half_peak_mib} MiB over the second (${
          l.peak_growth_share >= 0 ? "+" : ""
        }${
          r1(l.peak_growth_share * 100)
        } %); slope ${l.slope_bytes_per_packet} B/packet` +
        (l.v8_heap
          ? `; V8 live heap after ${l.v8_heap.major_gcs} major GCs ` +
            `${l.v8_heap.live_first_mib} -> ${l.v8_heap.live_last_mib} MiB ` +
            `(max ${l.v8_heap.live_max_mib})`
          : ""),
      met: l.met,
    });
  }
  if (s.messages) out.push(...messagesGoals(s.messages));
  if (s.scale || s["lemon-scale"]) {
    out.push(...scaleGoals(s.scale, s["lemon-scale"]));
  }
  if (s.hedging) out.push(...hedgingGoals(s.hedging));
  return out;
}

/** `20261125T021840Z`. */
const _stamp = (d: Date) =>
  d.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");

/** Runs the selected sections; resolves to the document and whether all succeeded. */
export async function runBench(
  flags: BenchFlags,
): Promise<{ doc: Record<string, unknown>; ok: boolean }> {
  const log = stderrLog;
  const started = new Date();
  const results: SectionResults = {};
  const errors: Record<string, string> = {};
  const loads: Record<string, { before: Load; after: Load; seconds: number }> =
    {};
  const q = flags.quick;
  const run: Record<Section, () => Promise<unknown>> = {
    backends: async () =>
      results.backends = await runBackendBench({ quick: q, log }),
    probes: async () =>
      results.probes = await runProbeBench({
        seconds: q ? 1 : 3,
        rounds: q ? 1 : 2,
        log,
      }),
    memory: async () =>
      results.memory = await runMemoryBench({
        samples: q ? 1 : 3,
        windowMs: q ? 2000 : 6000,
        milestones: Array.from(
          { length: q ? 4 : 20 },
          (_, i) => (i + 1) * (q ? 250_000 : 500_000),
        ),
        log,
      }),
    control: async () =>
      results.control = await runControlBench({
        rounds: q ? 500 : 2000,
        repeats: q ? 3 : 5,
        log,
      }),
    build: async () =>
      results.build = await runBuildBench({ quick: q, rounds: 2, log }),
    messages: async () =>
      results.messages = await runMessagesBench({ seconds: q ? 3 : 30, log }),
    scale: async () =>
      results.scale = await runScaleBench({
        ns: q ? [100, 1000] : [100, 1000, 2000, 5000],
        workers: q ? 200 : 1000,
        log,
      }),
    hedging: async () =>
      results.hedging = await runHedgingBench({ quick: q, log }),
    "lemon-scale": async () =>
      results["lemon-scale"] = await runLemonScale({ log }),
  };
  for (const name of flags.only) {
    log(`== ${name}`);
    const before = load(), t = performance.now();
    try {
      await run[name]();
    } catch (e) {
      errors[name] = e instanceof Error ? e.message : String(e);
      log(`${name} failed: ${errors[name]}`);
    }
    loads[name] = {
      before,
      after: load(),
      seconds: r1((performance.now() - t) / 1000),
    };
  }
  const goals = _goals(results);
  for (const g of goals) {
    log(`${g.met ? "met   " : "MISSED"}  ${g.goal}: ${g.measured}`);
  }
  const doc = {
    bench: "treecast",
    program: PROGRAM_VERSION,
    quick: q,
    started: started.toISOString(),
    finished: new Date().toISOString(),
    machine: await machine(),
    load: loads,
    goals,
    ...results,
    errors,
  };
  return { doc, ok: Object.keys(errors).length === 0 };
}

if (import.meta.main) {
  let flags: BenchFlags;
  try {
    flags = parseFlags(Deno.args);
  } catch (e) {
    console.error(`error: ${(e as Error).message}\n\n${USAGE}`);
    Deno.exit(2);
  }
  if (flags.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const { doc, ok } = await runBench(flags);
  const text = JSON.stringify(doc, null, 2);
  console.log(text);
  const out = flags.out ??
    `${REPO_ROOT}results/bench-${_stamp(new Date(String(doc.started)))}.json`;
  try {
    await Deno.mkdir(out.slice(0, out.lastIndexOf("/") + 1) || ".", {
      recursive: true,
    });
    await Deno.writeTextFile(out, text + "\n");
    console.error(`written to ${out}`);
  } catch (e) {
    console.error(`error: Cannot write "${out}": ${(e as Error).message}`);
    Deno.exit(1);
  }
  Deno.exit(ok ? 0 : 1);
}
