/**
 * Backend benchmark (#11): each probe I/O backend (native, deno) against
 * the C reference (`tests/reference/udp_ref.c`) in the same timestamp mode
 * (native: kernel receive timestamps where the kernel gives them, C with
 * `-k`; deno: user timestamps, C without), on loopback, in one run, the two
 * sides alternating ABBA. Figures are medians over runs, every run listed.
 *
 * - `owd`: parent -> child vs C sender -> C receiver at `rate` pps, 0.5 s
 *   warm-up on both: p50/p90/p99/stddev, and CPU seconds per second of
 *   stream of each process (/proc/PID/stat utime + stime from its ready
 *   line to its exit, over warm-up + stream);
 * - `recv`: one C stream to a treecast child and a C receiver at once;
 * - `hop`: a C sender feeds a C receiver directly and, with the same
 *   packets, another through the proxy under test (treecast or the C
 *   forwarder): added delay = via - direct (p50, p99);
 * - `fanout`: the same with the proxy forwarding to 10 C receivers at
 *   `rate` pps (100k datagrams/s out), `fanoutRuns` runs per side: loss per
 *   run, added p50 (median child) and p99 (worst child);
 * - `schedule`: a sender to 10 sockets that never read: share of packets
 *   sent within 100 µs of schedule.
 *
 * Nothing is asserted: {@link backendGoals} says met / not met.
 *
 * @module
 */
import { type IoKind, ioSupport } from "../../probes/io.ts";
import { buildUdpRef } from "../helpers/udp_ref.ts";
import {
  CpuMeter,
  CRef,
  lastLine,
  type Owd,
  owdOf,
  treecastProbe,
} from "./_procs.ts";
import { type Log, median, r1, r3, stderrLog } from "./_util.ts";

/** Options of {@link runBackendBench}. */
export interface BackendBenchOptions {
  /** One round, 1 s streams, 1 fan-out run per side. */
  quick?: boolean;
  seconds?: number;
  /** ABBA rounds (default 2). */
  rounds?: number;
  /** Fan-out runs per side (default 5; #11 asks for at least 5). */
  fanoutRuns?: number;
  rate?: number;
  log?: Log;
}

type Side = "treecast" | "c";
const WARMUP = 0.5, CHILDREN = 10;

/** Medians of several {@link Owd}. */
function _med(xs: Owd[]) {
  const m = (k: "p50" | "p90" | "p99" | "stddev") =>
    r3(median(xs.map((x) => x[k])));
  return { p50: m("p50"), p90: m("p90"), p99: m("p99"), stddev: m("stddev") };
}
const _ratios = (t: ReturnType<typeof _med>, c: ReturnType<typeof _med>) => ({
  p50: r3(t.p50 / c.p50),
  p90: r3(t.p90 / c.p90),
  p99: r3(t.p99 / c.p99),
  stddev: r3(t.stddev / c.stddev),
});

/** One backend's section. */
async function _backend(
  io: IoKind,
  c: CRef,
  o: { seconds: number; rounds: number; fanoutRuns: number; rate: number },
  log: Log,
) {
  const d = String(o.seconds), rate = String(o.rate);
  const abba = (n: number): Side[] =>
    Array.from(
      { length: n },
      (_, i) => (i % 4 === 0 || i % 4 === 3) ? "treecast" : "c",
    );
  const tag = `${io}/${c.kernel ? "kernel" : "user"}`;

  // owd: parent -> child, and CPU per stream second.
  const owd = { treecast: [] as Owd[], c: [] as Owd[] };
  const cpu = {
    parent: [] as number[],
    child: [] as number[],
    c_sender: [] as number[],
    c_receiver: [] as number[],
  };
  const stream = WARMUP + o.seconds;
  for (const side of abba(4 * o.rounds)) {
    if (side === "treecast") {
      const child = await treecastProbe("child", io, [
        "--bind",
        "127.0.0.1:0",
        "--duration",
        d,
      ]);
      const cm = new CpuMeter(child.p.pid);
      cm.start();
      const parent = await treecastProbe("parent", io, [
        "--to",
        child.addr,
        "--rate",
        rate,
        "--duration",
        d,
        "--warmup",
        String(WARMUP),
      ]);
      const pm = new CpuMeter(parent.p.pid);
      pm.start();
      const [res] = await Promise.all([lastLine(child.p), lastLine(parent.p)]);
      cpu.child.push(r3(cm.stop() / stream));
      cpu.parent.push(r3(pm.stop() / stream));
      owd.treecast.push(owdOf(res));
    } else {
      const recv = await c.receiver(o.seconds);
      const rm = new CpuMeter(recv.p.pid);
      rm.start();
      const send = c.sender(o.rate, o.seconds, [recv.addr], WARMUP);
      const sm = new CpuMeter(send.pid);
      sm.start();
      const [res] = await Promise.all([lastLine(recv.p), lastLine(send)]);
      cpu.c_receiver.push(r3(rm.stop() / stream));
      cpu.c_sender.push(r3(sm.stop() / stream));
      owd.c.push(owdOf(res));
    }
    const last = (side === "treecast" ? owd.treecast : owd.c).at(-1)!;
    log(
      `${tag} owd ${side}: p50 ${last.p50} p99 ${last.p99} stddev ${last.stddev} µs (${last.timestamps}), lost ${last.lost}`,
    );
  }

  // recv: one C stream, a treecast child and a C receiver side by side.
  const recv = { treecast: [] as Owd[], c: [] as Owd[] };
  for (let i = 0; i < 2 * o.rounds; i++) {
    const child = await treecastProbe("child", io, [
      "--bind",
      "127.0.0.1:0",
      "--duration",
      d,
    ]);
    const cr = await c.receiver(o.seconds);
    const to = i % 2 ? [child.addr, cr.addr] : [cr.addr, child.addr];
    const send = c.sender(o.rate, o.seconds, to, WARMUP);
    const [t, cc] = await Promise.all([
      lastLine(child.p),
      lastLine(cr.p),
      lastLine(send),
    ]);
    recv.treecast.push(owdOf(t));
    recv.c.push(owdOf(cc));
    log(
      `${tag} same stream: treecast p50 ${recv.treecast.at(-1)!.p50}, C p50 ${
        recv.c.at(-1)!.p50
      } µs`,
    );
  }

  // hop and fanout: C sender -> {C direct, proxy -> C receiver(s)}.
  const viaProxy = async (side: Side, children: number) => {
    const direct = await c.receiver(o.seconds);
    const outs = await Promise.all(
      Array.from({ length: children }, () => c.receiver(o.seconds)),
    );
    const to = outs.map((x) => x.addr);
    const proxy = side === "treecast"
      ? await treecastProbe("proxy", io, [
        "--bind",
        "127.0.0.1:0",
        "--to",
        to.join(","),
        "--duration",
        d,
      ])
      : await c.forwarder(o.seconds, to);
    const send = c.sender(o.rate, o.seconds, [direct.addr, proxy.addr], WARMUP);
    const [a, ...via] =
      (await Promise.all([direct.p, ...outs.map((x) => x.p)].map(lastLine)))
        .map(owdOf);
    await Promise.all([lastLine(send), lastLine(proxy.p)]);
    const run = {
      lost: via.reduce((s, v) => s + v.lost, 0),
      added_p50_us: r3(median(via.map((v) => v.p50)) - a!.p50),
      added_p99_us: r3(Math.max(...via.map((v) => v.p99)) - a!.p99),
    };
    log(
      `${tag} ${
        children === 1 ? "hop" : "fan-out"
      } ${side}: added p50 ${run.added_p50_us} p99 ${run.added_p99_us} µs, lost ${run.lost}`,
    );
    return run;
  };
  const hop = {
    treecast: [] as Awaited<ReturnType<typeof viaProxy>>[],
    c: [] as Awaited<ReturnType<typeof viaProxy>>[],
  };
  for (const side of abba(4 * o.rounds)) {
    hop[side].push(await viaProxy(side, 1));
  }
  const fan = { treecast: [] as typeof hop.c, c: [] as typeof hop.c };
  for (const side of abba(2 * o.fanoutRuns)) {
    fan[side].push(await viaProxy(side, CHILDREN));
  }

  // schedule: to 10 sockets that never read.
  const sinks = Array.from(
    { length: CHILDREN },
    () =>
      Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 }),
  );
  const sinkAddrs = sinks.map((s) =>
    `127.0.0.1:${(s.addr as Deno.NetAddr).port}`
  );
  const onTime = { treecast: [] as number[], c: [] as number[] };
  try {
    for (const side of abba(4 * o.rounds)) {
      if (side === "treecast") {
        const p = await treecastProbe("parent", io, [
          "--to",
          sinkAddrs.join(","),
          "--rate",
          rate,
          "--duration",
          d,
        ]);
        onTime.treecast.push(r3(1 - Number((await lastLine(p.p)).late_share)));
      } else {
        const r = await lastLine(c.sender(o.rate, o.seconds, sinkAddrs));
        onTime.c.push(r3(1 - Number(r.late_over_100us) / Number(r.sent)));
      }
      log(
        `${tag} schedule ${side}: ${r1(onTime[side].at(-1)! * 100)} % on time`,
      );
    }
  } finally {
    sinks.forEach((s) => s.close());
  }

  const mOwd = { treecast: _med(owd.treecast), c: _med(owd.c) };
  const mRecv = { treecast: _med(recv.treecast), c: _med(recv.c) };
  const medOf = (xs: typeof hop.c, k: "added_p50_us" | "added_p99_us") =>
    r3(median(xs.map((x) => x[k])));
  const cpuMed = Object.fromEntries(
    Object.entries(cpu).map(([k, v]) => [k, r3(median(v))]),
  ) as Record<keyof typeof cpu, number>;
  return {
    io,
    timestamps: c.kernel ? "kernel" : "user",
    reported_timestamps: [
      ...new Set([...owd.treecast, ...recv.treecast].map((x) => x.timestamps)),
    ],
    owd: {
      treecast_us: mOwd.treecast,
      c_us: mOwd.c,
      ratio: _ratios(mOwd.treecast, mOwd.c),
    },
    cpu_per_stream_s: {
      ...cpuMed,
      ratio: r3(
        (cpuMed.parent + cpuMed.child) / (cpuMed.c_sender + cpuMed.c_receiver),
      ),
    },
    recv: {
      treecast_us: mRecv.treecast,
      c_us: mRecv.c,
      ratio: _ratios(mRecv.treecast, mRecv.c),
    },
    hop: {
      treecast_added_p50_us: medOf(hop.treecast, "added_p50_us"),
      c_added_p50_us: medOf(hop.c, "added_p50_us"),
      ratio_p50: r3(
        medOf(hop.treecast, "added_p50_us") / medOf(hop.c, "added_p50_us"),
      ),
    },
    fanout: {
      children: CHILDREN,
      runs: fan.treecast.length,
      treecast_lossless_runs: fan.treecast.filter((r) => r.lost === 0).length,
      c_lossless_runs: fan.c.filter((r) => r.lost === 0).length,
      treecast_added_us: {
        p50: medOf(fan.treecast, "added_p50_us"),
        p99: medOf(fan.treecast, "added_p99_us"),
      },
      c_added_us: {
        p50: medOf(fan.c, "added_p50_us"),
        p99: medOf(fan.c, "added_p99_us"),
      },
      ratio_p50: r3(
        medOf(fan.treecast, "added_p50_us") / medOf(fan.c, "added_p50_us"),
      ),
      ratio_p99: r3(
        medOf(fan.treecast, "added_p99_us") / medOf(fan.c, "added_p99_us"),
      ),
    },
    schedule: {
      children: CHILDREN,
      treecast_on_time: r3(median(onTime.treecast)),
      c_on_time: r3(median(onTime.c)),
    },
    runs: { owd, recv, cpu, hop, fanout: fan, on_time: onTime },
  };
}

/** One backend's figures. */
export type BackendResult = Awaited<ReturnType<typeof _backend>>;

/** The section's JSON. */
export interface BackendBenchResult {
  rate: number;
  seconds: number;
  rounds: number;
  backends: BackendResult[];
}

/** Runs the benchmark; see the module doc. Throws when `cc` is missing. */
export async function runBackendBench(
  opts: BackendBenchOptions = {},
): Promise<BackendBenchResult> {
  const log = opts.log ?? stderrLog;
  const o = {
    seconds: opts.seconds ?? (opts.quick ? 1 : 3),
    rounds: opts.rounds ?? (opts.quick ? 1 : 2),
    fanoutRuns: opts.fanoutRuns ?? (opts.quick ? 1 : 5),
    rate: opts.rate ?? 10_000,
  };
  const bin = await buildUdpRef();
  const host = ioSupport();
  const backends: BackendResult[] = [];
  for (const io of host.io) {
    const kernel = io === "native" && host.timestamps.includes("kernel");
    backends.push(await _backend(io, new CRef(bin, kernel), o, log));
  }
  return { ...o, backends };
}

if (import.meta.main) {
  console.log(
    JSON.stringify(
      await runBackendBench({ quick: Deno.args.includes("--quick") }),
    ),
  );
}
