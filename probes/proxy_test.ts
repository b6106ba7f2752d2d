import assert from "node:assert/strict";
import { runChild } from "./child.ts";
import { parseEmulation } from "./emulate.ts";
import { runProxy } from "./proxy.ts";
import type { ProxyOptions, ProxyResult } from "./roles.ts";
import type { IoKind } from "./io.ts";
import { drain, GOLDEN, ioTest, rawSocket, sendCrafted } from "./_testing.ts";
import { splitHostPort } from "../core/cli.ts";
import { decodeHeader, FLAG_END, FLAG_WARMUP } from "./wire.ts";

const LOOPBACK = { hostname: "127.0.0.1", port: 0 };

async function startProxy(
  io: IoKind,
  to: string[],
  opts: Partial<ProxyOptions> = {},
): Promise<{ addr: string; result: Promise<ProxyResult> }> {
  let ready!: (a: string) => void;
  const addr = new Promise<string>((r) => ready = r);
  const result = runProxy(
    {
      bind: LOOPBACK,
      to: to.map(splitHostPort),
      timeout: 2,
      idle: 0.3,
      io,
      ...opts,
    },
    { onReady: ready },
  );
  return { addr: await addr, result };
}

const range = (a: number, b: number) =>
  Array.from({ length: b - a }, (_, i) => a + i);

ioTest(
  "a proxy forwards datagrams whole with hops + 1, END too, and nothing else",
  async (io) => {
    const a = rawSocket(), b = rawSocket();
    const { addr, result } = await startProxy(io, [a.addr, b.addr]);
    await sendCrafted(addr, [
      { seq: 0, flags: FLAG_WARMUP, hops: 4, emuNs: 7, size: 300 },
      new Uint8Array(12), // too short: malformed
      { seq: 1, hops: 65535 }, // saturates
      { seq: 2, flags: FLAG_END },
    ]);
    const r = await result;
    const [ga, gb] = await Promise.all([drain(a.conn), drain(b.conn)]);
    assert.deepEqual(ga, gb, "every child gets the same bytes");
    assert.equal(ga.length, 3 + 2, "three datagrams, then END repeated");
    const h = ga.map((d) => decodeHeader(d));
    assert.equal(ga[0]!.length, 300, "padding forwarded");
    assert.deepEqual(h.map((x) => [x.seq, x.flags, x.hops, x.emuNs]), [
      [0, FLAG_WARMUP, 5, 7],
      [1, 0, 65535, 0],
      [2, FLAG_END, 1, 0],
      [2, FLAG_END, 1, 0],
      [2, FLAG_END, 1, 0],
    ]);
    assert.equal(r.stop, "end");
    assert.equal(r.end_seen, true);
    assert.deepEqual([
      r.datagrams,
      r.forwarded,
      r.malformed,
      r.dropped,
      r.children,
    ], [3, 3, 1, 0, 2]);
    assert.equal(r.hops, 65535);
    assert.equal(r.latency_us, undefined, "no record fields without --record");
  },
);

ioTest(
  "root -> emulating proxy -> leaf: hops 1, the leaf sees the proxy's delay",
  async (io) => {
    let leafReady!: (a: string) => void;
    const leafAddr = new Promise<string>((r) => leafReady = r);
    const leaf = runChild(
      { bind: LOOPBACK, duration: 1, timeout: 2, idle: 0.3, io },
      { onReady: leafReady },
    );
    const { addr, result } = await startProxy(io, [await leafAddr], {
      record: true,
      emulate: parseEmulation("delay=2ms,jitter=0.5ms,seed=3"),
    });
    await sendCrafted(addr, [
      ...range(0, 10).map((seq) => ({ seq, flags: FLAG_WARMUP })),
      ...range(10, 210).map((seq) => ({ seq })),
      { seq: 210, flags: FLAG_END },
    ]);
    const [p, l] = await Promise.all([result, leaf]);
    assert.equal(l.hops, 1);
    assert.equal(l.received, 200);
    assert.equal(l.warmup, 10);
    assert.equal(l.end_seen, true);
    assert.equal(l.malformed, 0);
    assert.ok(
      l.latency_us.min! >= 1500,
      `leaf min ${l.latency_us.min} µs includes >= 1.5 ms emulated`,
    );
    assert.ok(l.latency_us.p50! >= 2000, `leaf p50 ${l.latency_us.p50} µs`);
    // The recording proxy measures like a child, its own emulated delay included.
    assert.equal(p.received, 200);
    assert.equal(p.hops, 0);
    assert.ok(p.latency_us!.min! >= 1500);
    assert.deepEqual(
      p.emulated,
      parseEmulation("delay=2ms,jitter=0.5ms,seed=3"),
    );
    assert.equal(p.forwarded, 211);
  },
);

ioTest(
  "emulated loss at a proxy is dropped, not forwarded, and counted",
  async (io) => {
    const a = rawSocket();
    const { addr, result } = await startProxy(io, [a.addr], {
      emulate: parseEmulation("loss=0.5,seed=2"),
    });
    await sendCrafted(addr, [
      ...range(0, 200).map((seq) => ({ seq })),
      ...range(0, 8).map(() => ({ seq: 200, flags: FLAG_END })),
    ]);
    const r = await result;
    const got = await drain(a.conn);
    assert.ok(r.dropped > 50 && r.dropped < 150, `dropped ${r.dropped}`);
    assert.equal(r.forwarded + r.dropped, r.datagrams);
    assert.equal(
      got.length,
      r.forwarded + 2,
      "forwarded, plus END repeated twice",
    );
  },
);

ioTest(
  "a proxy without a stream fails clearly within its timeout",
  async (io) => {
    const a = rawSocket();
    const { addr, result } = await startProxy(io, [a.addr], { timeout: 0.2 });
    const r = await result;
    a.conn.close();
    assert.equal(r.stop, "no_stream");
    assert.equal(r.error, `No stream arrived at "${addr}" within 0.2 s`);
  },
);

ioTest(
  "the golden wire vectors pass a proxy byte for byte, only hops + 1",
  async (io) => {
    const a = rawSocket();
    const { addr, result } = await startProxy(io, [a.addr]);
    const hex = (b: Uint8Array) =>
      Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    const bytes = (h: string) =>
      new Uint8Array(h.match(/../g)!.map((x) => parseInt(x, 16)));
    await sendCrafted(addr, GOLDEN.map(([, h]) => bytes(h)));
    const r = await result;
    const got = (await drain(a.conn)).map(hex);
    const plusHop = GOLDEN.map(([v, h]) =>
      h.slice(0, 40) + (v.hops + 1).toString(16).padStart(2, "0") + h.slice(42)
    );
    // The last vector is END: forwarded three times.
    assert.deepEqual(got, [...plusHop, plusHop[2], plusHop[2]]);
    assert.deepEqual([r.forwarded, r.end_seen, r.io], [3, true, io]);
  },
);
