/**
 * The native backend's own promises: what `ioSupport` reports, kernel
 * receive timestamps read at the right place (a round trip through the
 * kernel), and no Worker outliving its probe.
 */
import assert from "node:assert/strict";
import { UsageError } from "../../core/cli.ts";
import { splitHostPort } from "../../core/cli.ts";
import { runChild } from "../child.ts";
import type { ChildResult } from "../roles.ts";
import { runParent } from "../parent.ts";
import { runProxy } from "../proxy.ts";
import { RealtimeClock } from "../clock.ts";
import { ioSupport, parseIoMode, resolveIo } from "../io.ts";
import { rawSocket, sendCrafted, spawnReady } from "../_testing.ts";
import { threadLibc } from "./libc.ts";
import {
  dropPrewarmed,
  prewarmedNative,
  prewarmNative,
  reuseNativeWorkers,
} from "./prewarm.ts";
import { liveNativeWorkers } from "./run.ts";
import { FLAG_END } from "../wire.ts";
import { NativeUdp, RecvRing } from "./socket.ts";

const linux = Deno.build.os === "linux";
const hasIpv6 = (() => {
  try {
    Deno.listenDatagram({ transport: "udp", hostname: "::1", port: 0 })
      .close();
    return true;
  } catch {
    return false;
  }
})();

Deno.test({
  name:
    "on Linux both backends and kernel timestamps are supported; auto is native",
  ignore: !linux,
  fn: () => {
    assert.deepEqual(ioSupport(), {
      io: ["native", "deno"],
      timestamps: ["kernel", "user"],
    });
    assert.equal(resolveIo("auto"), "native");
    assert.equal(resolveIo("native"), "native");
    assert.equal(resolveIo("deno"), "deno");
  },
});

Deno.test("--io takes auto, native or deno, nothing else", () => {
  assert.equal(parseIoMode("deno"), "deno");
  assert.throws(
    () => parseIoMode("fast"),
    (e) =>
      e instanceof UsageError &&
      e.message === 'Flag "--io" must be one of auto, native, deno, got "fast"',
  );
});

Deno.test({
  name:
    "a kernel receive timestamp lies between the user-space send and receive times",
  ignore: !linux,
  fn: async () => {
    const libc = threadLibc()!;
    const sock = NativeUdp.bind(libc, { hostname: "127.0.0.1", port: 0 }, {
      timestamps: true,
    });
    try {
      assert.equal(sock.kernelTs, true);
      sock.recvTimeout(1000);
      const ring = new RecvRing(sock, 4, 64);
      const to: Deno.NetAddr = {
        transport: "udp",
        hostname: "127.0.0.1",
        port: sock.local().port,
      };
      const { conn } = rawSocket();
      const bytes = new Uint8Array(24);
      const clock = new RealtimeClock();
      const lags: number[] = [];
      for (let i = 0; i < 20; i++) {
        const before = clock.sinceBase(performance.now());
        await conn.send(bytes, to);
        assert.equal(ring.recv(), 1);
        const after = clock.sinceBase(performance.now());
        assert.ok(ring.stamp(0), "the datagram carries SCM_TIMESTAMPNS");
        const k = clock.timespecSinceBase(ring.sec, ring.nsec);
        // 2 µs of slack: the clock base is read to about a microsecond.
        assert.ok(
          k >= before - 2000 && k <= after + 2000,
          `${before} ${k} ${after}`,
        );
        lags.push(after - k);
      }
      conn.close();
      lags.sort((a, b) => a - b);
      // Loose (the machine may be busy): the stamp is the arrival, not a stale value.
      assert.ok(lags[10]! < 1e6, `median ${lags[10]! / 1000} µs`);
    } finally {
      sock.close();
    }
  },
});

Deno.test({
  name:
    "on one stream, kernel-stamped delays are a little below user-stamped ones",
  ignore: !linux,
  fn: async () => {
    const start = async (timestamps: "kernel" | "user") => {
      let ready!: (a: string) => void;
      const addr = new Promise<string>((r) => ready = r);
      const result = runChild({
        bind: { hostname: "127.0.0.1", port: 0 },
        duration: 1,
        timeout: 10,
        io: "native",
        timestamps,
      }, { onReady: ready });
      return { addr: await addr, result };
    };
    const k = await start("kernel"), u = await start("user");
    await runParent({
      to: [k.addr, u.addr].map(splitHostPort),
      rate: 2000,
      duration: 1,
      io: "native",
    });
    const [rk, ru] = await Promise.all([k.result, u.result]);
    assert.deepEqual([rk.timestamps, ru.timestamps], ["kernel", "user"]);
    assert.deepEqual([rk.received, ru.received], [2000, 2000]);
    const gap = ru.latency_us.p50! - rk.latency_us.p50!;
    // The user-space time adds the receiver's wake-up; loose bounds, not flaky.
    assert.ok(gap >= 0 && gap < 1000, `user p50 - kernel p50 = ${gap} µs`);
  },
});

Deno.test({
  name:
    "an aborted native child returns its partial result and leaves no Worker behind",
  ignore: !linux,
  fn: async () => {
    const ac = new AbortController();
    let ready!: (a: string) => void;
    const addr = new Promise<string>((r) => ready = r);
    const result: Promise<ChildResult> = runChild(
      { bind: { hostname: "127.0.0.1", port: 0 }, duration: 60, io: "native" },
      { onReady: ready, signal: ac.signal },
    );
    await sendCrafted(await addr, [{ seq: 0 }, { seq: 1 }, { seq: 2 }]);
    assert.equal(liveNativeWorkers(), 1);
    const t0 = performance.now();
    ac.abort();
    const r = await result;
    assert.ok(performance.now() - t0 < 1000, "the Worker saw the stop flag");
    assert.deepEqual([r.stop, r.received, r.io], ["interrupted", 3, "native"]);
    assert.equal(liveNativeWorkers(), 0);
  },
});

Deno.test({
  name: "SIGTERM ends a native child process promptly with its partial result",
  ignore: !linux,
  fn: async () => {
    const { proc, bind } = await spawnReady([
      "child",
      "--io",
      "native",
      "--bind",
      "127.0.0.1:0",
      "--duration",
      "60",
    ]);
    await sendCrafted(bind, [{ seq: 0 }, { seq: 1 }]);
    const t0 = performance.now();
    proc.kill("SIGTERM");
    const { code, lines } = await proc.finish();
    assert.ok(
      performance.now() - t0 < 2000,
      "no thread kept the process alive",
    );
    assert.equal(code, 130);
    assert.deepEqual(
      [lines[0]!.stop, lines[0]!.received, lines[0]!.io],
      ["interrupted", 2, "native"],
    );
  },
});

Deno.test({
  name:
    "a prewarmed Worker is taken by the next native probe; an unused one is ended",
  ignore: !linux,
  fn: async () => {
    prewarmNative();
    assert.ok(prewarmedNative());
    let ready!: (a: string) => void;
    const addr = new Promise<string>((r) => ready = r);
    const result = runChild(
      { bind: { hostname: "127.0.0.1", port: 0 }, duration: 1, io: "native" },
      { onReady: ready },
    );
    await sendCrafted(await addr, [{ seq: 0 }, { seq: 1, flags: FLAG_END }]);
    assert.equal((await result).received, 1);
    assert.ok(!prewarmedNative(), "the probe took it");
    assert.equal(liveNativeWorkers(), 0);
    prewarmNative();
    dropPrewarmed();
    assert.ok(!prewarmedNative());
  },
});

Deno.test({
  name:
    "native I/O is IPv4 only: --io native refuses IPv6, auto falls back to Deno's sockets",
  ignore: !linux || !hasIpv6,
  fn: async () => {
    const v6 = { hostname: "::1", port: 0 };
    await assert.rejects(
      runChild({ bind: v6, duration: 1, io: "native" }),
      /Native I\/O is IPv4 only, got "::1"; use --io deno/,
    );
    const r = await runChild({ bind: v6, duration: 1, timeout: 0.1 });
    assert.deepEqual([r.io, r.timestamps, r.stop], [
      "deno",
      "user",
      "no_stream",
    ]);
  },
});

/** Three sockets with kernel timestamps, for `send`; returns which got each seq first. */
async function firstArrivals(
  send: (to: { hostname: string; port: number }[]) => Promise<unknown>,
  count: number,
): Promise<number[]> {
  const libc = threadLibc()!;
  const socks = [0, 1, 2].map(() =>
    NativeUdp.bind(libc, { hostname: "127.0.0.1", port: 0 }, {
      timestamps: true,
    })
  );
  try {
    await send(
      socks.map((s) => ({ hostname: "127.0.0.1", port: s.local().port })),
    );
    // Kernel arrival times by seq, per socket (one sendmmsg delivers in order).
    const arrival = socks.map((s) => {
      s.recvTimeout(100);
      const ring = new RecvRing(s, 64, 64);
      const bySeq = new Map<number, bigint>();
      for (let n = ring.recv(); n > 0; n = ring.recv()) {
        for (let i = 0; i < n; i++) {
          assert.ok(ring.stamp(i));
          const seq = ring.views[i]!.getUint32(0, true);
          const ns = BigInt(ring.sec) * 1_000_000_000n + BigInt(ring.nsec);
          if (!bySeq.has(seq)) bySeq.set(seq, ns);
        }
      }
      return bySeq;
    });
    return Array.from({ length: count }, (_, seq) => {
      const t = arrival.map((m) => m.get(seq)!);
      return t.indexOf(t.reduce((a, b) => (b < a ? b : a)));
    });
  } finally {
    for (const s of socks) s.close();
  }
}

const rotating = (n: number) => Array.from({ length: n }, (_, i) => i % 3);

Deno.test({
  name:
    "the native parent's send order rotates: packet i reaches child i mod N first",
  ignore: !linux,
  fn: async () => {
    const firsts = await firstArrivals(
      (to) => runParent({ to, rate: 1000, duration: 0.03, io: "native" }),
      30,
    );
    assert.deepEqual(firsts, rotating(30));
  },
});

Deno.test({
  name:
    "the native proxy's send order rotates: datagram i reaches child i mod N first",
  ignore: !linux,
  fn: async () => {
    const firsts = await firstArrivals(async (to) => {
      let ready!: (a: string) => void;
      const addr = new Promise<string>((r) => ready = r);
      const result = runProxy({
        bind: { hostname: "127.0.0.1", port: 0 },
        to,
        timeout: 5,
        io: "native",
      }, { onReady: ready });
      await sendCrafted(await addr, [
        ...Array.from({ length: 30 }, (_, seq) => ({ seq })),
        { seq: 30, flags: FLAG_END },
      ]);
      await result;
    }, 30);
    assert.deepEqual(firsts, rotating(30));
  },
});

Deno.test({
  name:
    "with reuse (a warm standby), one Worker runs native probe after probe: kept idle between them, none running",
  ignore: !linux,
  fn: async () => {
    reuseNativeWorkers();
    try {
      for (const n of [1, 2]) {
        let ready!: (a: string) => void;
        const addr = new Promise<string>((r) => ready = r);
        const result = runChild(
          {
            bind: { hostname: "127.0.0.1", port: 0 },
            duration: 1,
            io: "native",
          },
          { onReady: ready },
        );
        const seqs = Array.from({ length: n }, (_, seq) => ({ seq }));
        await sendCrafted(await addr, [...seqs, { seq: n, flags: FLAG_END }]);
        const r = await result;
        assert.deepEqual([r.received, r.lost, r.io], [n, 0, "native"]);
        assert.ok(prewarmedNative(), "the Worker was not kept");
        assert.equal(liveNativeWorkers(), 0);
      }
    } finally {
      reuseNativeWorkers(false);
      dropPrewarmed();
    }
    assert.ok(!prewarmedNative());
  },
});
