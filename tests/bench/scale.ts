/**
 * How the manager's control plane scales with the number of workers (#21).
 * For each N, N fake workers are served by one separate process
 * (`tests/helpers/fake_pool.ts`), and this process, the manager, measures
 * ({@link connectScale}; the bench's `scale` section, `scale_bench.ts`,
 * runs it at 100, 1,000 and 5,000):
 * CONNECT time until every worker is admitted and its clock sampled; apart
 * from it, admission: the time from the step's start until the last worker
 * received its first CONNECT (the pool's clock, `nowUs`, shared with this
 * process) and until the last one was admitted (its first exchange answered,
 * `Manager.connect`'s `onAdmitted`); the median (and p90) best
 * CONNECT round trip (what each clock offset's bound is half of), the
 * manager's CPU share while N requests wait for replies the pool holds,
 * and the manager's memory (RSS) per worker.
 *
 *     deno run -A tests/bench/scale.ts [N ...]        (default 10 100 1000 2000 5000)
 *     deno run -A tests/bench/scale.ts idle [MAIN_TS] [SECONDS]
 *
 * `idle` starts `treecast worker` alone (this checkout's main.ts, or
 * MAIN_TS) and prints its CPU share over SECONDS (default 20) of idling.
 * Not a timed test: figures depend on the machine; run it alone.
 *
 * @module
 */
import { Manager } from "../../manager/manager.ts";
import { nowUs } from "../../proto/codec.ts";
import { cpuSeconds } from "./_procs.ts";
import { median, percentile, r1, r3, sleep } from "./_util.ts";

const POOL = new URL("../helpers/fake_pool.ts", import.meta.url).pathname;
const HOLD_S = 3;

/** Reads JSON lines from a child's stdout. */
function jsonLines(child: Deno.ChildProcess) {
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  return async (): Promise<Record<string, unknown>> => {
    for (;;) {
      const nl = buf.indexOf("\n");
      if (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith("{")) return JSON.parse(line);
        continue;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error("The fake pool exited");
      buf += value;
    }
  };
}

/** CONNECT at one N. */
export interface ConnectScale {
  workers: number;
  admitted: number;
  connect_s: number;
  /** From the step's start until the last worker received its first CONNECT, s. */
  first_connect_last_s: number;
  /** From the step's start until the last worker was admitted, s. */
  admitted_last_s: number;
  /** CONNECT time per worker, ms. */
  connect_per_worker_ms: number;
  /** Each worker's best CONNECT round trip: median and p90, ms. */
  rtt_median_ms: number;
  rtt_p90_ms: number;
  /** The manager's CPU share (cores) while N requests wait for replies. */
  cpu_pending_cores: number;
  /** The manager's CPU time during CONNECT, s. */
  connect_cpu_s: number;
  rss_per_worker_kib: number;
}

/** N fake workers in a process of their own; the manager here (see the module doc). */
export async function connectScale(n: number): Promise<ConnectScale> {
  const pool = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", POOL, String(n)],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const next = jsonLines(pool);
  const ready = await next();
  const addrs = ready.addrs as string[];
  const m = new Manager({ timeoutMs: 60_000, retries: 0 });
  const rss0 = Deno.memoryUsage().rss;
  const c0 = cpuSeconds(Deno.pid)!;
  const t0Us = nowUs();
  const t0 = performance.now();
  let admittedAt = NaN;
  const results = await m.connect(addrs, undefined, () => {
    admittedAt = performance.now();
  });
  const connectS = (performance.now() - t0) / 1000;
  const connectCpu = cpuSeconds(Deno.pid)! - c0;
  const ok = results.filter((r) => r.status === "ok");
  const rtts = ok.map((r) => r.rttUs!);
  let lastReceivedUs = NaN;
  while (ok.length === n) { // else some never got one: no such line
    const ev = await next();
    if (ev.event === "connected") {
      lastReceivedUs = ev.lastUs as number;
      break;
    }
  }
  // N requests the pool holds: the manager waits for N replies at once.
  const pending = addrs.map((a) => m.report(a, "held").catch(() => {}));
  for (;;) {
    const ev = await next();
    if (ev.event === "held" && ev.n === n) break;
  }
  await sleep(500); // past the burst of sends
  const cpu0 = cpuSeconds(Deno.pid)!;
  const w0 = performance.now();
  await sleep(HOLD_S * 1000);
  const cpuShare = (cpuSeconds(Deno.pid)! - cpu0) /
    ((performance.now() - w0) / 1000);
  const rssPerWorker = (Deno.memoryUsage().rss - rss0) / n;
  m.close();
  await Promise.all(pending);
  await pool.stdin.close();
  await pool.status;
  return {
    workers: n,
    admitted: ok.length,
    connect_s: r3(connectS),
    first_connect_last_s: r3((lastReceivedUs - t0Us) / 1e6),
    admitted_last_s: r3((admittedAt - t0) / 1000),
    connect_per_worker_ms: r3(connectS * 1000 / n),
    rtt_median_ms: r3(median(rtts) / 1000),
    rtt_p90_ms: r3(percentile(rtts, 90) / 1000),
    cpu_pending_cores: r3(cpuShare),
    connect_cpu_s: r3(connectCpu),
    rss_per_worker_kib: r1(rssPerWorker / 1024),
  };
}

/** A line of {@link ConnectScale}. */
export function connectLine(c: ConnectScale): string {
  return `N=${c.workers}: admitted ${c.admitted}/${c.workers}, the last one's ` +
    `first CONNECT received at ${c.first_connect_last_s} s and admitted at ` +
    `${c.admitted_last_s} s; CONNECT with clock samples ${c.connect_s} s ` +
    `(${c.connect_per_worker_ms} ms per worker, manager CPU ${c.connect_cpu_s} s); ` +
    `best CONNECT round trip median ${c.rtt_median_ms} ms (p90 ${c.rtt_p90_ms} ms); ` +
    `manager CPU with ${c.workers} requests pending ${c.cpu_pending_cores} core ` +
    `(over ${HOLD_S} s); manager RSS ${c.rss_per_worker_kib} KiB per worker`;
}

async function idle(main: string, seconds: number): Promise<void> {
  const w = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", main, "worker", "--bind", "127.0.0.1:0"],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  await jsonLines(w)(); // the ready line
  await sleep(2000); // past start-up
  const c0 = cpuSeconds(w.pid)!;
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const share = (cpuSeconds(w.pid)! - c0) / ((performance.now() - t0) / 1000);
  w.kill("SIGTERM");
  await w.status;
  console.log(
    `idle worker (${main}): ${r3(share * 100)} % of a core over ${seconds} s`,
  );
}

if (import.meta.main) {
  if (Deno.args[0] === "idle") {
    const main = Deno.args[1] ??
      new URL("../../main.ts", import.meta.url).pathname;
    await idle(main, Number(Deno.args[2] ?? "20"));
  } else {
    const ns = Deno.args.length
      ? Deno.args.map(Number)
      : [10, 100, 1000, 2000, 5000];
    for (const n of ns) console.log(connectLine(await connectScale(n)));
  }
}
