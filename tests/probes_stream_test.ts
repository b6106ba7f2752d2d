/**
 * Probes as the worker runs them: separate processes on loopback.
 * Assertions are on behaviour (counts, flags, hops, the emulated shift),
 * never on timing.
 */
import assert from "node:assert/strict";
import {
  ioTest,
  type LineProcess,
  spawnParent,
  spawnReady,
} from "../probes/_testing.ts";
import { runChild } from "../probes/child.ts";
import type { PeerOffset } from "../probes/echo.ts";
import { parseEmulation } from "../probes/emulate.ts";
import type { IoKind } from "../probes/io.ts";

type Json = Record<string, unknown>;
type Peer = PeerOffset;
const lat = (r: Json) =>
  r.latency_us as { min: number; p50: number; p90: number };

async function resultOf(
  p: LineProcess,
): Promise<{ code: number; result: Json; stderr: string }> {
  const { code, lines, stderr } = await p.finish();
  const result = lines.find((l) => l.event === "result");
  assert.ok(result, `no result line; exit ${code}; stderr: ${stderr}`);
  return { code, result, stderr };
}

/**
 * A child of a 1 s stream in this process, emulating `emulate`. Children
 * compared on one stream run here together: one event loop takes their
 * arrival times, so a difference is the emulation, not which process got a
 * core first.
 */
async function inProcessChild(io: IoKind, emulate: string | null) {
  let ready!: (bind: string) => void;
  const bind = new Promise<string>((r) => ready = r);
  const result = runChild({
    bind: { hostname: "127.0.0.1", port: 0 },
    duration: 1,
    timeout: 20,
    emulate: emulate === null ? null : parseEmulation(emulate),
    io,
  }, { onReady: ready });
  return { bind: await bind, result };
}

ioTest(
  "a 2 s stream at 5k pps reaches three children, each counting every packet",
  async (io) => {
    const child = () =>
      spawnReady([
        "child",
        "--io",
        io,
        "--bind",
        "127.0.0.1:0",
        "--duration",
        "2.2",
        "--timeout",
        "20",
      ]);
    const [a, b, c] = await Promise.all([child(), child(), child()]);
    const parent = spawnParent(io, [a.bind, b.bind, c.bind], {
      rate: 5000,
      duration: 2,
      warmup: 0.2,
    });
    const [pr, ...rs] = await Promise.all([
      resultOf(parent),
      resultOf(a.proc),
      resultOf(b.proc),
      resultOf(c.proc),
    ]);
    assert.equal(pr.code, 0, pr.stderr);
    assert.deepEqual(
      [pr.result.sent, pr.result.children, pr.result.warmup],
      [1000 + 10_000 + 3, 3, 1000],
    );
    assert.deepEqual([pr.result.io, pr.result.timestamps], [io, "user"]);
    for (const r of rs) {
      assert.equal(r.code, 0, r.stderr);
      const x = r.result;
      // Loopback stamps every datagram: native reads the kernel's stamps.
      assert.deepEqual(
        [x.io, x.timestamps],
        [io, io === "native" ? "kernel" : "user"],
      );
      assert.deepEqual(
        [
          x.received,
          x.lost,
          x.duplicates,
          x.malformed,
          x.warmup,
          x.end_seen,
          x.hops,
          x.first_seq,
          x.last_seq,
        ],
        [10_000, 0, 0, 0, 1000, true, 0, 1000, 10_999],
        JSON.stringify({ ...x, histogram: "…", series: "…" }),
      );
      assert.equal(x.emulated, null);
      const series = x.series as Json[];
      assert.ok(
        series.length >= 2 && series.length <= 3,
        `${series.length} seconds`,
      );
      assert.equal(series.reduce((n, p) => n + Number(p.count), 0), 10_000);
      assert.equal(
        x.echoes,
        111,
        "seq 0, 100, ..., 10900 (WARMUP included), END",
      );
    }
    const peers = pr.result.peers as Peer[];
    assert.deepEqual(peers.map((p) => p.to), [a.bind, b.bind, c.bind]);
    for (const p of peers) {
      assert.ok(p.samples >= 100, JSON.stringify(p)); // loopback loses none
      assert.ok(Math.abs(p.offset_us!) <= p.bound_us! + 0.001);
    }
    assert.equal(pr.result.stray_echoes, 0);
  },
);

ioTest(
  "--emulate delay=500us moves the median by 500 µs against a plain child on the same stream",
  async (io) => {
    const e = await inProcessChild(io, "delay=500us,seed=1");
    const plain = await inProcessChild(io, null);
    const parent = spawnParent(io, [e.bind, plain.bind], {
      rate: 5000,
      duration: 1,
      warmup: 0.2,
    });
    const [pr, re, rp] = await Promise.all([
      resultOf(parent),
      e.result,
      plain.result,
    ]);
    assert.equal(pr.code, 0, pr.stderr);
    assert.equal(re.received, 5000);
    assert.equal(rp.received, 5000);
    assert.deepEqual(re.emulated, {
      delay_us: 500,
      jitter_us: 0,
      loss: 0,
      seed: 1,
      distribution: "uniform",
    });
    const shift = re.latency_us.p50! - rp.latency_us.p50!;
    assert.ok(Math.abs(shift - 500) <= 50, `median moved by ${shift} µs`);
    assert.ok(re.latency_us.min! >= 500);
  },
);

ioTest(
  "root -> proxy -> leaf: the leaf reports hops 1 and the proxy's emulated delay",
  async (io) => {
    const leaf = await spawnReady([
      "child",
      "--io",
      io,
      "--bind",
      "127.0.0.1:0",
      "--duration",
      "0.5",
      "--timeout",
      "20",
    ]);
    const proxy = await spawnReady([
      "proxy",
      "--io",
      io,
      "--bind",
      "127.0.0.1:0",
      "--to",
      leaf.bind,
      "--duration",
      "0.5",
      "--timeout",
      "20",
      "--record",
      "--emulate",
      "delay=3ms,jitter=1ms,seed=5",
    ]);
    const parent = spawnParent(io, [proxy.bind], {
      rate: 2000,
      duration: 0.5,
      warmup: 0.1,
    });
    const [pr, xr, lr] = await Promise.all([
      resultOf(parent),
      resultOf(proxy.proc),
      resultOf(leaf.proc),
    ]);
    assert.equal(pr.code, 0, pr.stderr);
    assert.equal(xr.code, 0, xr.stderr);
    assert.equal(lr.code, 0, lr.stderr);
    assert.deepEqual(
      [
        lr.result.hops,
        lr.result.received,
        lr.result.warmup,
        lr.result.end_seen,
      ],
      [1, 1000, 200, true],
    );
    assert.ok(
      lat(lr.result).min >= 2000,
      `leaf min ${lat(lr.result).min} µs includes >= 2 ms emulated`,
    );
    assert.ok(lat(lr.result).p50 >= 3000);
    assert.deepEqual(
      [
        xr.result.forwarded,
        xr.result.dropped,
        xr.result.malformed,
        xr.result.hops,
        xr.result.received,
      ],
      [1201, 0, 0, 0, 1000],
    );
    assert.ok(
      lat(xr.result).min >= 2000,
      "the recording proxy includes its own emulated delay",
    );
    // Echoes of seq 0, 100, ..., 1100 and END on both edges; the proxy's
    // emulated 3 ms delay is not a clock offset (an echo reports the raw arrival).
    assert.deepEqual([lr.result.echoes, xr.result.echoes], [13, 13]);
    for (const [who, r] of [["root", pr], ["proxy", xr]] as const) {
      const [p] = r.result.peers as Peer[];
      assert.ok(p && p.samples >= 10, `${who}: ${JSON.stringify(p)}`);
      assert.ok(
        Math.abs(p.offset_us!) <= p.bound_us! + 0.001,
        `${who} measured ${JSON.stringify(p)}: one host, one clock`,
      );
    }
    assert.equal((pr.result.peers as Peer[])[0]!.to, proxy.bind);
    assert.equal((xr.result.peers as Peer[])[0]!.to, leaf.bind);
  },
);

ioTest(
  "--emulate offset=300us: the parent measures the child's offset within its bound, and the child's delays carry it",
  async (io) => {
    const skewed = await inProcessChild(io, "offset=300us");
    const plain = await inProcessChild(io, null);
    const parent = spawnParent(io, [skewed.bind, plain.bind], {
      rate: 2000,
      duration: 1,
      warmup: 0.1,
    });
    const [pr, rs, rp] = await Promise.all([
      resultOf(parent),
      skewed.result,
      plain.result,
    ]);
    assert.equal(pr.code, 0, pr.stderr);
    assert.equal(rs.emulated?.offset_us, 300);
    assert.deepEqual([rs.echoes, rp.echoes, rs.malformed], [23, 23, 0]);
    const [s, p] = pr.result.peers as Peer[];
    assert.deepEqual([s!.to, p!.to], [skewed.bind, plain.bind]);
    assert.equal(pr.result.echoes, s!.samples + p!.samples);
    for (const [peer, want] of [[s!, 300], [p!, 0]] as const) {
      assert.ok(peer.samples >= 15, JSON.stringify(peer));
      // Kernel timestamps on both ends resolve it; the Deno parent sees an
      // echo only when its event loop waits (its END's), so its bound is loose.
      if (io === "native") {
        assert.ok(peer.bound_us! < 150, JSON.stringify(peer));
      }
      assert.ok(
        Math.abs(peer.offset_us! - want) <= peer.bound_us! + 0.001,
        `measured ${JSON.stringify(peer)}, emulated ${want} µs`,
      );
    }
    // The skewed child's delays grow by its offset; minus it, they match.
    const shift = rs.latency_us.p50! - rp.latency_us.p50!;
    assert.ok(Math.abs(shift - 300) <= 50, `median moved by ${shift} µs`);
    const fixed = rs.latency_us.p50! - s!.offset_us! -
      (rp.latency_us.p50! - p!.offset_us!);
    assert.ok(
      Math.abs(fixed) <= 50 + s!.bound_us! + p!.bound_us!,
      `corrected medians differ by ${fixed} µs`,
    );
  },
);
