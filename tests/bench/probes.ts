/**
 * Probe benchmark: treecast's probes against the C reference (tests/reference/udp_ref.c),
 * side by side on loopback in one run, alternating the two (ABBA order per
 * round). Prints one JSON object of ratios treecast / C with the absolute
 * figures beside them: each figure is the median over its runs (a 2-core VM
 * shared with other work spoils the odd run), and every run is listed under
 * `runs`. Goals are reported, never asserted.
 *
 * (a) one-way delay p50 and p90, parent -> child at `rate` pps:
 *     treecast parent -> treecast child vs C sender -> C receiver (treecast
 *     with a 0.5 s WARMUP, as it runs in production: its JIT warms up; C
 *     needs none);
 * (b) sender schedule at `rate` pps to 10 children (sockets that never read):
 *     share of packets sent more than 100 µs late, treecast parent vs C sender;
 * (c) added delay of one proxy hop, p50: a C sender feeds a C receiver
 *     directly and, with the same packets, a second C receiver through the
 *     proxy under test (treecast proxy vs C forwarder); added = p50 via the
 *     proxy - p50 direct.
 *
 * Run: `deno run -A tests/bench/probes.ts [--seconds S] [--rounds N]`.
 *
 * @module
 */
import {
  freeUdpPort,
  LineProcess,
  spawnProbe,
  spawnReady,
  waitUdpBound,
} from "../../probes/_testing.ts";
import { buildUdpRef } from "../helpers/udp_ref.ts";

/** Options of {@link runProbeBench}. */
export interface ProbeBenchOptions {
  /** Length of each measured stream, s (default 3). */
  seconds?: number;
  /** Rounds; each runs treecast and C twice per figure in ABBA order (default 2). */
  rounds?: number;
  /** Packets per second (default 10000). */
  rate?: number;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
}

/** The benchmark's JSON object. */
export interface ProbeBenchResult {
  bench: "probes";
  rate: number;
  seconds: number;
  rounds: number;
  cpus: number;
  deno: string;
  owd: {
    ratio_p50: number;
    ratio_p90: number;
    treecast_us: { p50: number; p90: number };
    c_us: { p50: number; p90: number };
    goal: { ratio_p50: number; ratio_p90: number };
    met: boolean;
  };
  schedule: {
    children: number;
    treecast_late_share: number;
    c_late_share: number;
    treecast_on_time: number;
    c_on_time: number;
    ratio_on_time: number;
    goal: { treecast_on_time: number };
    met: boolean;
  };
  proxy_hop: {
    ratio_p50: number;
    treecast_added_p50_us: number;
    c_added_p50_us: number;
    goal: { ratio_p50: number };
    met: boolean;
  };
  /** Every run's figure, in run order (µs; late shares as fractions). */
  runs: {
    owd_treecast: { p50: number; p90: number }[];
    owd_c: { p50: number; p90: number }[];
    late_treecast: number[];
    late_c: number[];
    hop_added_treecast: number[];
    hop_added_c: number[];
  };
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;
/** Median: robust to the odd run that a noisy VM spoils (every run is reported too). */
const median = (xs: number[]) => {
  const s = xs.slice().sort((a, b) => a - b), m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Runs the benchmark; see the module doc. Throws when `cc` is missing. */
export async function runProbeBench(
  opts: ProbeBenchOptions = {},
): Promise<ProbeBenchResult> {
  const seconds = opts.seconds ?? 3,
    rounds = opts.rounds ?? 2,
    rate = opts.rate ?? 10_000;
  const log = opts.log ?? ((l: string) => console.error(l));
  const ref = await buildUdpRef(); // without cc it throws, naming what to install
  const c = (mode: string, args: string[]) =>
    new LineProcess(ref, [mode, ...args]);
  const d = String(seconds);

  // (a) one-way delay, parent -> child.
  const owdT: { p50: number; p90: number }[] = [],
    owdC: { p50: number; p90: number }[] = [];
  const runOwdT = async () => {
    const { proc: child, bind } = await spawnReady([
      "child",
      "--bind",
      "127.0.0.1:0",
      "--duration",
      d,
    ]);
    const parent = spawnProbe([
      "parent",
      "--to",
      bind,
      "--rate",
      String(rate),
      "--duration",
      d,
      "--warmup",
      "0.5",
    ]);
    const res = await _result(child);
    await parent.finish();
    const lat = res.latency_us as Record<string, number>;
    owdT.push({ p50: lat.p50!, p90: lat.p90! });
    log(
      `owd treecast: p50 ${lat.p50} µs, p90 ${lat.p90} µs, received ${res.received}, lost ${res.lost}`,
    );
  };
  const runOwdC = async () => {
    const port = freeUdpPort();
    const recv = c("receiver", ["-p", String(port), "-d", d]);
    await waitUdpBound(port);
    const send = c("sender", [
      "-r",
      String(rate),
      "-d",
      d,
      `127.0.0.1:${port}`,
    ]);
    const res = await _lastLine(recv);
    await send.finish();
    owdC.push({ p50: Number(res.p50_us), p90: Number(res.p90_us) });
    log(
      `owd C: p50 ${res.p50_us} µs, p90 ${res.p90_us} µs, received ${res.recv}, lost ${res.lost}`,
    );
  };

  // (b) sender schedule to 10 sinks that never read.
  const CHILDREN = 10;
  const lateT: number[] = [], lateC: number[] = [];
  const sinks = Array.from(
    { length: CHILDREN },
    () =>
      Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 }),
  );
  const sinkAddrs = sinks.map((s) =>
    `127.0.0.1:${(s.addr as Deno.NetAddr).port}`
  );
  const runSchedT = async () => {
    const p = spawnProbe([
      "parent",
      "--to",
      sinkAddrs.join(","),
      "--rate",
      String(rate),
      "--duration",
      d,
    ]);
    const res = await _lastLine(p);
    lateT.push(Number(res.late_share));
    log(
      `schedule treecast: late ${
        (Number(res.late_share) * 100).toFixed(3)
      }%, p99 ${(res.lateness_us as Record<string, number>).p99} µs`,
    );
  };
  const runSchedC = async () => {
    const res = await _lastLine(
      c("sender", ["-r", String(rate), "-d", d, ...sinkAddrs]),
    );
    lateC.push(Number(res.late_over_100us) / Number(res.sent));
    log(
      `schedule C: late ${
        (Number(res.late_over_100us) / Number(res.sent) * 100).toFixed(3)
      }%`,
    );
  };

  // (c) one proxy hop: C sender -> {C receiver direct, proxy -> C receiver}.
  const hopT: number[] = [], hopC: number[] = [];
  const runHop = async (impl: "treecast" | "c") => {
    const direct = freeUdpPort(), viaPort = freeUdpPort();
    const rDirect = c("receiver", ["-p", String(direct), "-d", d]);
    const rVia = c("receiver", ["-p", String(viaPort), "-d", d]);
    await waitUdpBound(direct);
    await waitUdpBound(viaPort);
    let proxy: LineProcess, proxyAddr: string;
    if (impl === "treecast") {
      const r = await spawnReady([
        "proxy",
        "--bind",
        "127.0.0.1:0",
        "--to",
        `127.0.0.1:${viaPort}`,
        "--duration",
        d,
      ]);
      proxy = r.proc;
      proxyAddr = r.bind;
    } else {
      const port = freeUdpPort();
      proxy = c("forwarder", [
        "-p",
        String(port),
        "-d",
        d,
        `127.0.0.1:${viaPort}`,
      ]);
      await waitUdpBound(port);
      proxyAddr = `127.0.0.1:${port}`;
    }
    const send = c("sender", [
      "-r",
      String(rate),
      "-d",
      d,
      `127.0.0.1:${direct}`,
      proxyAddr,
    ]);
    const [a, b] = await Promise.all([_lastLine(rDirect), _lastLine(rVia)]);
    await Promise.all([send.finish(), proxy.finish()]);
    const added = Number(b.p50_us) - Number(a.p50_us);
    (impl === "treecast" ? hopT : hopC).push(added);
    log(
      `hop ${impl}: added p50 ${
        r3(added)
      } µs (direct ${a.p50_us}, via ${b.p50_us}, via lost ${b.lost})`,
    );
  };

  try {
    for (let i = 0; i < rounds; i++) {
      for (const step of [runOwdT, runOwdC, runOwdC, runOwdT]) await step();
      for (const step of [runSchedT, runSchedC, runSchedC, runSchedT]) {
        await step();
      }
      for (const impl of ["treecast", "c", "c", "treecast"] as const) {
        await runHop(impl);
      }
    }
  } finally {
    sinks.forEach((s) => s.close());
  }

  const tP50 = median(owdT.map((x) => x.p50)),
    tP90 = median(owdT.map((x) => x.p90));
  const cP50 = median(owdC.map((x) => x.p50)),
    cP90 = median(owdC.map((x) => x.p90));
  const lT = median(lateT), lC = median(lateC);
  const hT = median(hopT), hC = median(hopC);
  return {
    bench: "probes",
    rate,
    seconds,
    rounds,
    cpus: navigator.hardwareConcurrency,
    deno: Deno.version.deno,
    owd: {
      ratio_p50: r3(tP50 / cP50),
      ratio_p90: r3(tP90 / cP90),
      treecast_us: { p50: r3(tP50), p90: r3(tP90) },
      c_us: { p50: r3(cP50), p90: r3(cP90) },
      goal: { ratio_p50: 1.25, ratio_p90: 1.5 },
      met: tP50 / cP50 <= 1.25 && tP90 / cP90 <= 1.5,
    },
    schedule: {
      children: CHILDREN,
      treecast_late_share: r3(lT * 1000) / 1000,
      c_late_share: r3(lC * 1000) / 1000,
      treecast_on_time: r3((1 - lT) * 1000) / 1000,
      c_on_time: r3((1 - lC) * 1000) / 1000,
      ratio_on_time: r3((1 - lT) / (1 - lC)),
      goal: { treecast_on_time: 0.99 },
      met: 1 - lT >= 0.99,
    },
    proxy_hop: {
      ratio_p50: r3(hT / hC),
      treecast_added_p50_us: r3(hT),
      c_added_p50_us: r3(hC),
      goal: { ratio_p50: 1.5 },
      met: hT / hC <= 1.5,
    },
    runs: {
      owd_treecast: owdT,
      owd_c: owdC,
      late_treecast: lateT.map((x) => r3(x * 1000) / 1000),
      late_c: lateC.map((x) => r3(x * 1000) / 1000),
      hop_added_treecast: hopT.map(r3),
      hop_added_c: hopC.map(r3),
    },
  };
}

/** The result line of a probe process; throws with its stderr if there is none. */
async function _result(p: LineProcess): Promise<Record<string, unknown>> {
  const { lines, stderr, code } = await p.finish();
  const res = lines.find((l) => l.event === "result");
  if (!res) throw new Error(`Probe exited ${code} without a result: ${stderr}`);
  return res;
}

/** The last JSON line of a process (the C reference prints one). */
async function _lastLine(p: LineProcess): Promise<Record<string, unknown>> {
  const { lines, stderr, code } = await p.finish();
  const last = lines.at(-1);
  if (!last) {
    throw new Error(`Process exited ${code} without output: ${stderr}`);
  }
  return last;
}

if (import.meta.main) {
  const arg = (name: string) => {
    const i = Deno.args.indexOf(`--${name}`);
    return i >= 0 ? Number(Deno.args[i + 1]) : undefined;
  };
  const seconds = arg("seconds"), rounds = arg("rounds");
  const result = await runProbeBench({
    ...(seconds !== undefined ? { seconds } : {}),
    ...(rounds !== undefined ? { rounds } : {}),
  });
  console.log(JSON.stringify(result));
}
