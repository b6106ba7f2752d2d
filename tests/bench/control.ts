/**
 * Control-plane benchmark: real `treecast worker` processes on 127.0.0.1.
 *
 * (a) REQ/ACK round trip: `rounds` CONNECT round trips to one worker through
 *     `Manager`'s REQ client and `Node.request` (encode, send, the worker's
 *     decode / dispatch / encode, receive, decode), after a warm-up; p50,
 *     p90, p99, max. Baseline in the same run: the same bytes to a bare
 *     `RepServer` echo process (`_echo.ts`: the transport alone).
 * (b) CONNECT to 50 workers: only the `Manager.connect` call is timed (each
 *     worker: a fresh REQ socket, 1 + 4 CONNECT round trips for the clock
 *     offset, close). First the cold call (the first contact with every
 *     worker, as in a real manager run), then `repeats` warm calls;
 *     baseline: `Manager.connect` to one worker, `repeats` times. The
 *     workers' resident memory after the calls is reported too.
 *
 * Figures only; nothing is asserted.
 *
 * @module
 */
import { Manager } from "../../manager/manager.ts";
import { ReqClient } from "../../core/transport.ts";
import { PROGRAM_VERSION, PROTOCOL_VERSION } from "../../core/version.ts";
import { encode, type Hello } from "../../proto/codec.ts";
import { LineProcess, REPO_ROOT } from "../../probes/_testing.ts";
import { spawnReady } from "../../demo/spawn.ts";
import {
  type Log,
  median,
  mib,
  percentile,
  r1,
  r3,
  startWorkers,
  statusKiB,
  stderrLog,
  stopAll,
} from "./_util.ts";

/** Options of {@link runControlBench}. */
export interface ControlBenchOptions {
  /** Measured round trips (default 2000). */
  rounds?: number;
  /** Round trips before measuring (default 200). */
  warmup?: number;
  /** Workers for the CONNECT figure (default 50). */
  workers?: number;
  /** Warm CONNECT calls, and one-worker baseline calls (default 5). */
  repeats?: number;
  log?: Log;
}

/** Round-trip figures, µs. */
export interface RttFigures {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** The section's JSON. */
export interface ControlBenchResult {
  req_ack: {
    rounds: number;
    message: "CONNECT";
    worker_us: RttFigures;
    echo_baseline_us: RttFigures;
    ratio_p50: number;
    ratio_p99: number;
    goal: { p50_us: number };
    met: boolean;
  };
  connect: {
    workers: number;
    /** Every worker answered ok in every call. */
    all_ok: boolean;
    cold_ms: number;
    warm_ms: number[];
    warm_median_ms: number;
    one_worker_ms: number[];
    one_worker_median_ms: number;
    /** warm median / one-worker median. */
    ratio_to_one: number;
    /** Largest round trip a worker reported in the cold call (best of its 4 clock samples), µs. */
    cold_max_rtt_us: number;
    start_workers_s: number;
    worker_rss_mib: { median: number; max: number };
    goal: { ms: number };
    met: boolean;
  };
}

const _hello = (): Hello => ({
  protocol: PROTOCOL_VERSION,
  program: PROGRAM_VERSION,
  capabilities: [],
  hostname: Deno.hostname(),
  emulate: "",
  incarnation: "",
});

function _figures(us: number[]): RttFigures {
  return {
    p50: r1(percentile(us, 50)),
    p90: r1(percentile(us, 90)),
    p99: r1(percentile(us, 99)),
    max: r1(Math.max(...us)),
    mean: r1(us.reduce((a, b) => a + b, 0) / us.length),
  };
}

/** Runs both parts; see the module doc. */
export async function runControlBench(
  opts: ControlBenchOptions = {},
): Promise<ControlBenchResult> {
  const log = opts.log ?? stderrLog;
  const rounds = opts.rounds ?? 2000, warmup = opts.warmup ?? 200;
  const n = opts.workers ?? 50, repeats = opts.repeats ?? 5;

  // (a) REQ/ACK round trips, worker then echo baseline, alternating halves
  // (ABBA) so that a noisy spell of the VM does not land on one side only.
  const m = new Manager({ timeoutMs: 5000, retries: 0 });
  const worker = await spawnReady(["worker", "--bind", "127.0.0.1:0"]);
  const echo = new LineProcess(Deno.execPath(), [
    "run",
    "-A",
    `${REPO_ROOT}tests/bench/_echo.ts`,
  ]);
  const workerUs: number[] = [], echoUs: number[] = [];
  let echoClient: ReqClient | undefined;
  try {
    const ready = await echo.nextJson(30_000);
    echoClient = new ReqClient(String(ready.bind), {
      timeoutMs: 5000,
      retries: 0,
    });
    const wc = m.client(worker.addr);
    const hello = _hello();
    const toWorker = async (out?: number[]) => {
      const t = performance.now();
      await m.request(wc, () => m.message("CONNECT", worker.addr, { hello }));
      out?.push((performance.now() - t) * 1000);
    };
    const bytes = encode(m.message("CONNECT", echoClient.addr, { hello }));
    const toEcho = async (out?: number[]) => {
      const t = performance.now();
      await echoClient!.request(bytes);
      out?.push((performance.now() - t) * 1000);
    };
    for (let i = 0; i < warmup; i++) {
      await toWorker();
      await toEcho();
    }
    const half = Math.ceil(rounds / 2);
    for (
      const [f, out, k] of [
        [toWorker, workerUs, half],
        [toEcho, echoUs, half],
        [toEcho, echoUs, rounds - half],
        [toWorker, workerUs, rounds - half],
      ] as const
    ) {
      for (let i = 0; i < k; i++) await f(out);
    }
  } finally {
    echoClient?.close();
    m.close();
    echo.kill();
    await echo.finish();
    await worker.stop();
  }
  const w = _figures(workerUs), e = _figures(echoUs);
  const reqAck: ControlBenchResult["req_ack"] = {
    rounds,
    message: "CONNECT",
    worker_us: w,
    echo_baseline_us: e,
    ratio_p50: r3(w.p50 / e.p50),
    ratio_p99: r3(w.p99 / e.p99),
    goal: { p50_us: 1000 },
    met: w.p50 <= 1000,
  };
  log(
    `req/ack: worker p50 ${w.p50} µs p99 ${w.p99} µs; echo baseline p50 ${e.p50} µs ` +
      `p99 ${e.p99} µs; ratio p50 ${reqAck.ratio_p50}`,
  );

  // (b) CONNECT to n workers.
  const t0 = performance.now();
  log(`starting ${n} workers...`);
  const workers = await startWorkers(n);
  const startS = r1((performance.now() - t0) / 1000);
  log(`${n} workers ready in ${startS} s`);
  const addrs = workers.map((p) => p.addr);
  const cm = new Manager();
  let allOk = true;
  const timed = async (list: string[]) => {
    const t = performance.now();
    const res = await cm.connect(list);
    const ms = performance.now() - t;
    if (res.some((r) => r.status !== "ok")) allOk = false;
    return { ms, res };
  };
  let connect: ControlBenchResult["connect"];
  try {
    const cold = await timed(addrs);
    const warm: number[] = [], one: number[] = [];
    for (let i = 0; i < repeats; i++) {
      one.push((await timed([addrs[i % n]!])).ms);
      warm.push((await timed(addrs)).ms);
    }
    const rss = workers.map((p) => statusKiB(p.child.pid));
    connect = {
      workers: n,
      all_ok: allOk,
      cold_ms: r1(cold.ms),
      warm_ms: warm.map(r1),
      warm_median_ms: r1(median(warm)),
      one_worker_ms: one.map(r1),
      one_worker_median_ms: r1(median(one)),
      ratio_to_one: r3(median(warm) / median(one)),
      cold_max_rtt_us: r1(Math.max(...cold.res.map((r) => r.rttUs ?? 0))),
      start_workers_s: startS,
      worker_rss_mib: { median: mib(median(rss)), max: mib(Math.max(...rss)) },
      goal: { ms: 2000 },
      met: allOk && cold.ms <= 2000 && median(warm) <= 2000,
    };
  } finally {
    cm.close();
    await stopAll(workers);
  }
  log(
    `connect ${n}: cold ${connect.cold_ms} ms, warm median ${connect.warm_median_ms} ms ` +
      `(${
        connect.warm_ms.join(", ")
      }); one worker median ${connect.one_worker_median_ms} ms; ` +
      `all ok ${connect.all_ok}; worker RSS median ${connect.worker_rss_mib.median} MiB`,
  );
  return { req_ack: reqAck, connect };
}

if (import.meta.main) {
  console.log(JSON.stringify(await runControlBench()));
}
