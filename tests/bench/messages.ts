/**
 * Per-message figures at the exchange's size (issue #19), simulated in
 * process by the code the workers and the manager run: a tree of depth 2
 * (100 leaves) and one of depth 3 (1,000 leaves), fanout 10, each leaf
 * logging a stream of `seconds` at `rate` messages/s (default 30 s at
 * 10,000/s: 300,000 messages). `worker/_messages_sim.ts` builds each leaf's
 * part, merges them up hop by hop (`jobPart`: `leafPart`, `mergeParts`,
 * every reply encoded and decoded as a worker's ACK), and the manager's
 * `collectMessageFigures` asks the root part after part.
 *
 * Measured:
 * - the bytes of the root's per-message replies (all parts) per leaf at 100
 *   and 1,000 leaves, and the ratio of the root's totals (goal <= 1.5);
 * - the manager's CPU to decode and accumulate the 1,000-leaf evaluation's
 *   parts: the root's replies, kept as bytes, replayed through
 *   `collectMessageFigures` in a process of its own (the manager's: the
 *   simulated workers are not in it; process CPU time, /proc/self/stat,
 *   median of 3) (goal <= 2 s);
 * - the largest message of any hop against the cap (`MAX_MESSAGE_BYTES`);
 * - the manager's memory: that process's RSS and V8 live heap (after a
 *   full GC) while the same parts are replayed as a stream ten times as
 *   long (each part's seqs shifted, as the parts of a longer stream come),
 *   after the first part, after the original stream's length and at the
 *   end (goal: the live heap grows by <= 1 MiB from the first part to ten
 *   streams, where a manager keeping the parts would hold 10 bytes per
 *   message).
 *
 * Figures, not assertions. Usage: `deno task bench --only messages`, or
 * `deno run -A tests/bench/messages.ts [SECONDS]`.
 *
 * @module
 */
import { MAX_MESSAGE_BYTES } from "../../core/transport.ts";
import { collectMessageFigures, partRequest } from "../../manager/messages.ts";
import { MessageTreeSim } from "../../worker/_messages_sim.ts";
import { figureOptions, replayApart } from "./messages_replay.ts";
import { type Log, median, mib, r1, r3, stderrLog } from "./_util.ts";

/** Options of {@link runMessagesBench}. */
export interface MessagesBenchOptions {
  /** Stream length, s (default 30). */
  seconds?: number;
  /** Messages per second (default 10,000). */
  rate?: number;
  log?: Log;
}

/** One simulated tree. */
export interface MessagesTreeFigures {
  depth: number;
  fanout: number;
  leaves: number;
  messages: number;
  /** The root's replies to the manager: how many, bytes in all and per leaf. */
  root_parts: number;
  root_bytes: number;
  root_bytes_per_leaf: number;
  /** Every hop's reply (leaves, proxies, root): how many, the largest's bytes. */
  hops: number;
  largest_hop_bytes: number;
  /** Wall time of the whole simulation (workers and manager), s. */
  simulated_s: number;
  /** What the figures said (so the run is seen to judge something). */
  latency_p99_us: number | null;
  lost: number;
}

/** The section's JSON. */
export interface MessagesBenchResult {
  rate: number;
  seconds: number;
  trees: MessagesTreeFigures[];
  /** Root's total at 1,000 leaves / at 100 leaves. */
  ratio_root_bytes_1000_to_100: number;
  bytes_goal: { ratio: number; met: boolean };
  /** The manager's CPU to decode and accumulate the 1,000-leaf parts, s. */
  manager_cpu_s: number;
  manager_cpu_runs_s: number[];
  manager_wall_s: number;
  cpu_goal: { seconds: number; met: boolean };
  cap_bytes: number;
  largest_to_cap: number;
  /**
   * The manager's memory (MiB) over a replay ten times the stream: RSS, and
   * V8's live heap after a full GC; before any part, after the first, after
   * one stream's parts, after ten.
   */
  memory: {
    messages: number;
    rss_mib: [number, number, number, number];
    live_heap_mib: [number, number, number, number];
    /** Live heap after ten streams minus after the first part. */
    live_growth_mib: number;
    rss_growth_mib: number;
    /** What keeping the parts would take: 10 bytes per message. */
    kept_parts_mib: number;
  };
  memory_goal: { growth_mib: number; met: boolean };
  met: boolean;
}

const STRAGGLERS = [3, 41, 98, 417, 998];
const LOSSY = [42, 500];
/** #19's goals. */
const RATIO_GOAL = 1.5, CPU_GOAL_S = 2, GROWTH_GOAL_MIB = 1;

/** Simulates one tree; the root's replies as bytes, with its figures. */
async function _tree(
  depth: number,
  rate: number,
  seconds: number,
  log: Log,
): Promise<{ figures: MessagesTreeFigures; replies: Uint8Array[] }> {
  const t0 = performance.now();
  const sim = new MessageTreeSim({
    depth,
    fanout: 10,
    first: rate, // 1 s of warm-up before the measured stream
    count: seconds * rate,
    stragglers: STRAGGLERS.filter((l) => l < 10 ** depth),
    lossy: LOSSY.filter((l) => l < 10 ** depth),
  });
  const opts = figureOptions(rate, sim.leaves);
  const replies: Uint8Array[] = [];
  const f = await collectMessageFigures(async (k) => {
    const bytes = sim.encodeReply(
      await sim.jobPart(sim.root, partRequest(k, opts)),
    );
    replies.push(bytes);
    return MessageTreeSim.decodeReply(bytes);
  }, opts);
  const rootBytes = replies.reduce((a, b) => a + b.length, 0);
  const figures: MessagesTreeFigures = {
    depth,
    fanout: 10,
    leaves: sim.leaves,
    messages: f.messages,
    root_parts: replies.length,
    root_bytes: rootBytes,
    root_bytes_per_leaf: r1(rootBytes / sim.leaves),
    hops: sim.hops,
    largest_hop_bytes: sim.largest,
    simulated_s: r1((performance.now() - t0) / 1000),
    latency_p99_us: f.latency.p99Us,
    lost: f.lost,
  };
  log(
    `messages D=${depth} F=10 (${sim.leaves} leaves, ${f.messages} messages): ` +
      `root ${replies.length} parts, ${rootBytes} bytes (${figures.root_bytes_per_leaf} per leaf); ` +
      `${sim.hops} hops, largest ${sim.largest} bytes; simulated in ${figures.simulated_s} s ` +
      `(latency p99 ${f.latency.p99Us} µs, ${f.lost} lost)`,
  );
  return { figures, replies };
}

/** Runs the section; see the module doc. */
export async function runMessagesBench(
  o: MessagesBenchOptions = {},
): Promise<MessagesBenchResult> {
  const log = o.log ?? stderrLog;
  const rate = o.rate ?? 10_000, seconds = o.seconds ?? 30;
  const small = await _tree(2, rate, seconds, log);
  const big = await _tree(3, rate, seconds, log);
  const r = await replayApart(big.replies, rate, seconds, big.figures.leaves);
  const cpu = median(r.cpu_runs_s);
  // Before any part; before part 1 (part 0 accumulated); after one
  // stream's parts; at the end.
  const points = (xs: number[]) =>
    [xs[0]!, xs[2]!, xs[r.parts + 1]!, xs.at(-1)!] as [
      number,
      number,
      number,
      number,
    ];
  const rss = points(r.rss_mib), live = points(r.live_mib);
  const growth = r3(live[3] - live[1]);
  const ratio = r3(big.figures.root_bytes / small.figures.root_bytes);
  const largest = Math.max(
    small.figures.largest_hop_bytes,
    big.figures.largest_hop_bytes,
  );
  const result: MessagesBenchResult = {
    rate,
    seconds,
    trees: [small.figures, big.figures],
    ratio_root_bytes_1000_to_100: ratio,
    bytes_goal: { ratio: RATIO_GOAL, met: ratio <= RATIO_GOAL },
    manager_cpu_s: r3(cpu),
    manager_cpu_runs_s: r.cpu_runs_s,
    manager_wall_s: r.wall_s,
    cpu_goal: { seconds: CPU_GOAL_S, met: cpu <= CPU_GOAL_S },
    cap_bytes: MAX_MESSAGE_BYTES,
    largest_to_cap: r3(largest / MAX_MESSAGE_BYTES),
    memory: {
      messages: r.messages,
      rss_mib: rss,
      live_heap_mib: live,
      live_growth_mib: growth,
      rss_growth_mib: r1(rss[3] - rss[1]),
      kept_parts_mib: mib(r.messages * 10 / 1024),
    },
    memory_goal: {
      growth_mib: GROWTH_GOAL_MIB,
      met: growth <= GROWTH_GOAL_MIB,
    },
    met: false,
  };
  result.met = result.bytes_goal.met && result.cpu_goal.met &&
    largest < MAX_MESSAGE_BYTES && result.memory_goal.met;
  log(
    `messages: root bytes 1,000 / 100 leaves ${ratio} x; manager CPU ${
      r3(cpu)
    } s (runs ${r.cpu_runs_s.join(", ")}); largest hop ${largest} bytes ` +
      `(${result.largest_to_cap} x the cap); manager live heap ${
        live.join(" -> ")
      } MiB, RSS ${rss.join(" -> ")} MiB (before, first part, one stream, ` +
      `ten: ${r.messages} messages)`,
  );
  return result;
}

/** #19's goals, measured. */
export function messagesGoals(
  r: MessagesBenchResult,
): { goal: string; measured: string; met: boolean }[] {
  const [a, b] = r.trees;
  const m = r.memory;
  return [{
    goal:
      "root's per-message report, 100 -> 1,000 leaves (D=2 -> D=3, F=10): <= 1.5 x",
    measured:
      `${r.ratio_root_bytes_1000_to_100} x (${a?.root_bytes} -> ${b?.root_bytes} bytes; ` +
      `${a?.root_bytes_per_leaf} -> ${b?.root_bytes_per_leaf} bytes per leaf; ${r.seconds} s at ${r.rate} msg/s)`,
    met: r.bytes_goal.met,
  }, {
    goal:
      `manager CPU to turn a 1,000-leaf evaluation (${r.seconds} s at ${r.rate} msg/s) into figures <= 2 s`,
    measured:
      `${r.manager_cpu_s} s (runs ${r.manager_cpu_runs_s.join(", ")} s; ` +
      `${b?.messages} messages, ${b?.root_parts} parts)`,
    met: r.cpu_goal.met,
  }, {
    goal:
      "every hop's message under the cap; the manager's live heap grows <= 1 MiB over ten streams",
    measured:
      `largest ${
        Math.max(a?.largest_hop_bytes ?? 0, b?.largest_hop_bytes ?? 0)
      } bytes ` +
      `(${r.largest_to_cap} x ${r.cap_bytes}); live heap ${
        m.live_heap_mib.join(" -> ")
      } MiB ` +
      `(+${m.live_growth_mib}; keeping the parts: ${m.kept_parts_mib} MiB), RSS ${
        m.rss_mib.join(" -> ")
      } MiB`,
    met: r.largest_to_cap < 1 && r.memory_goal.met,
  }];
}

if (import.meta.main) {
  const seconds = Number(Deno.args[0] ?? "30");
  console.log(JSON.stringify(await runMessagesBench({ seconds }), null, 2));
}
