import assert from "node:assert/strict";
import * as hdr from "hdr-histogram-js";
import { decodeMessageLog, NOT_RECEIVED } from "../core/message_log.ts";
import { runChild } from "./child.ts";
import type { ChildOptions, ChildResult } from "./roles.ts";
import { parseEmulation } from "./emulate.ts";
import type { IoKind } from "./io.ts";
import { type Crafted, ioTest, sendCrafted } from "./_testing.ts";
import { FLAG_END, FLAG_WARMUP } from "./wire.ts";

const LOOPBACK = { hostname: "127.0.0.1", port: 0 };

/** Starts a child in-process; resolves with its address and its result promise. */
async function startChild(
  io: IoKind,
  opts: Partial<ChildOptions> = {},
  signal?: AbortSignal,
): Promise<{ addr: string; result: Promise<ChildResult> }> {
  let ready!: (a: string) => void;
  const addr = new Promise<string>((r) => ready = r);
  const result = runChild(
    { bind: LOOPBACK, duration: 1, timeout: 2, idle: 0.3, io, ...opts },
    { onReady: ready, ...(signal ? { signal } : {}) },
  );
  return { addr: await addr, result };
}

const range = (a: number, b: number) =>
  Array.from({ length: b - a }, (_, i) => a + i);
const garbage = (n: number, fill = 0xee) => new Uint8Array(n).fill(fill);

ioTest(
  "injected loss, duplicates, reordering and garbage are counted exactly",
  async (io) => {
    const { addr, result } = await startChild(io);
    const dropped = new Set([10, 50, 51, 103, 104]); // 103, 104: a lost tail, known from END
    const measured = range(5, 105).filter((s) => !dropped.has(s));
    // Swap 61/62 and move 70 after 75: 61 and 70 arrive after a higher number.
    const order = measured.filter((s) => s !== 61 && s !== 70);
    order.splice(order.indexOf(62) + 1, 0, 61);
    order.splice(order.indexOf(75) + 1, 0, 70);
    const badFlags = new Uint8Array(24);
    badFlags[4] = 8;
    const badReserved = new Uint8Array(24);
    badReserved[22] = 1;
    const items: Crafted[] = [
      ...range(0, 5).map((seq) => ({ seq, flags: FLAG_WARMUP })),
      garbage(10),
      ...order.flatMap((seq) =>
        seq === 20 || seq === 30
          ? [{ seq, hops: 3 }, { seq, hops: 3 }]
          : [{ seq, hops: 3 }]
      ),
      badFlags,
      badReserved,
      { seq: 105, flags: FLAG_END, hops: 3 },
    ];
    await sendCrafted(addr, items);
    const r = await result;
    assert.deepEqual(
      {
        received: r.received,
        lost: r.lost,
        duplicates: r.duplicates,
        reordered: r.reordered,
        malformed: r.malformed,
        warmup: r.warmup,
        end_seen: r.end_seen,
        stop: r.stop,
        hops: r.hops,
        first_seq: r.first_seq,
        last_seq: r.last_seq,
        error: r.error,
        emulated: r.emulated,
      },
      {
        received: 95,
        lost: 5,
        duplicates: 2,
        reordered: 2,
        malformed: 3,
        warmup: 5,
        end_seen: true,
        stop: "end",
        hops: 3,
        first_seq: 5,
        last_seq: 104,
        error: null,
        emulated: null,
      },
    );
    assert.equal(hdr.decodeFromCompressedBase64(r.histogram).totalCount, 95);
    assert.equal(r.series.reduce((n, p) => n + p.count, 0), 95);
    assert.ok(r.latency_us.min !== null && r.latency_us.min >= 0);
  },
);

ioTest("END ends the child at once, whatever its duration", async (io) => {
  const { addr, result } = await startChild(io, { duration: 60 });
  const t0 = performance.now();
  await sendCrafted(addr, [...range(0, 10).map((seq) => ({ seq })), {
    seq: 10,
    flags: FLAG_END,
  }]);
  const r = await result;
  assert.equal(r.stop, "end");
  assert.equal(r.received, 10);
  assert.ok(performance.now() - t0 < 1000, "ended by END, not by a timeout");
});

ioTest(
  "a child with no parent fails clearly within its timeout",
  async (io) => {
    const t0 = performance.now();
    const { addr, result } = await startChild(io, { timeout: 0.25 });
    const r = await result;
    const waited = performance.now() - t0;
    assert.equal(r.stop, "no_stream");
    assert.equal(r.error, `No stream arrived at "${addr}" within 0.25 s`);
    assert.equal(r.received, 0);
    assert.equal(r.latency_us.p50, null);
    assert.ok(waited >= 240 && waited < 1500, `waited ${waited} ms`);
  },
);

ioTest("garbage alone does not start the stream", async (io) => {
  const { addr, result } = await startChild(io, { timeout: 0.3 });
  await sendCrafted(addr, [garbage(3), garbage(100), garbage(24, 0xff)]);
  const r = await result;
  assert.equal(r.stop, "no_stream");
  assert.equal(r.malformed, 3);
});

ioTest(
  "a stream that stops without END ends after the idle time",
  async (io) => {
    const { addr, result } = await startChild(io, { idle: 0.2 });
    await sendCrafted(addr, range(0, 20).map((seq) => ({ seq })));
    const r = await result;
    assert.equal(r.stop, "idle");
    assert.equal(r.end_seen, false);
    assert.equal(r.received, 20);
    assert.equal(r.error, null);
  },
);

ioTest("an aborted child returns what it measured so far", async (io) => {
  const ac = new AbortController();
  const { addr, result } = await startChild(io, { duration: 60 }, ac.signal);
  await sendCrafted(addr, range(0, 50).map((seq) => ({ seq })));
  ac.abort();
  const r = await result;
  assert.equal(r.stop, "interrupted");
  assert.equal(r.received, 50);
  assert.equal(r.error, null);
});

ioTest(
  "negative delays (a sender clock ahead) are recorded as 0 and counted",
  async (io) => {
    const { addr, result } = await startChild(io);
    await sendCrafted(addr, [
      ...range(0, 5).map((seq) => ({ seq, tsOffsetNs: 50_000_000n })),
      { seq: 5, flags: FLAG_END },
    ]);
    const r = await result;
    assert.equal(r.negative, 5);
    assert.equal(r.latency_us.max, 0);
  },
);

ioTest(
  "emulated delay and the path's emu_ns add to every delay",
  async (io) => {
    const emulate = parseEmulation("delay=3ms,seed=1");
    const { addr, result } = await startChild(io, { emulate });
    await sendCrafted(addr, [
      ...range(0, 20).map((seq) => ({ seq, emuNs: 2_000_000 })),
      { seq: 20, flags: FLAG_END },
    ]);
    const r = await result;
    assert.deepEqual(r.emulated, emulate);
    assert.ok(r.latency_us.min! >= 5000, `min ${r.latency_us.min} µs`);
  },
);

ioTest(
  "emulated loss drops datagrams; dropped measured packets count as lost",
  async (io) => {
    const { addr, result } = await startChild(io, {
      emulate: parseEmulation("loss=0.3,seed=11"),
    });
    await sendCrafted(addr, [
      ...range(0, 500).map((seq) => ({ seq })),
      ...range(0, 6).map(() => ({ seq: 500, flags: FLAG_END })),
    ]);
    const r = await result;
    assert.equal(r.received + r.lost, 500);
    assert.ok(r.lost > 100 && r.lost < 200, `lost ${r.lost}`);
    assert.ok(
      r.dropped - r.lost >= 0 && r.dropped - r.lost <= 5,
      "the rest of dropped are END copies",
    );
    assert.equal(r.end_seen, true);
  },
);

ioTest("a child that cannot bind throws, naming the address", async (io) => {
  const taken = Deno.listenDatagram({
    transport: "udp",
    hostname: "127.0.0.1",
    port: 0,
  });
  const port = (taken.addr as Deno.NetAddr).port;
  try {
    await assert.rejects(
      runChild({ bind: { hostname: "127.0.0.1", port }, duration: 1, io }),
      new RegExp(
        `Cannot bind child probe to "127.0.0.1:${port}": address in use`,
      ),
    );
  } finally {
    taken.close();
  }
});

/** A fresh temporary path for a message log (in its own directory, removed with `cleanup`). */
function tempLog(): { path: string; cleanup: () => void } {
  const dir = Deno.makeTempDirSync({ prefix: "treecast-log-" });
  return {
    path: `${dir}/messages.tcml`,
    cleanup: () => Deno.removeSync(dir, { recursive: true }),
  };
}

const MS = 1_000_000;

ioTest(
  "the message log holds each measured message's signed delay, its smallest copy, and not-received for a lost one",
  async (io) => {
    const log = tempLog();
    try {
      const { addr, result } = await startChild(io, {
        messages: { path: log.path },
      });
      // seq s was sent s x 100 ms ago (its ts), with emu_ns of s µs: its
      // delay is s x 100 ms + s µs + the loopback's own (well under 90 ms).
      const at = (seq: number, extraNs = 0n) => ({
        seq,
        emuNs: seq * 1000,
        tsOffsetNs: -BigInt(seq * 100 * MS) - extraNs,
      });
      const items: Crafted[] = [
        ...range(0, 3).map((seq) => ({ seq, flags: FLAG_WARMUP })),
        ...range(3, 9).flatMap((seq) =>
          // 7 comes thrice: 300 ms late, on time, 200 ms late.
          seq === 7
            ? [at(7, 300n * BigInt(MS)), at(7), at(7, 200n * BigInt(MS))]
            : [at(seq)]
        ),
        // 9 is lost; 12 has a ts 500 ms in the future (a clock ahead).
        ...range(10, 12).map((seq) => at(seq)),
        { seq: 12, tsOffsetNs: 500n * BigInt(MS) },
        { seq: 13, flags: FLAG_END },
      ];
      await sendCrafted(addr, items);
      const r = await result;
      assert.deepEqual(r.messages, {
        path: log.path,
        first_seq: 3,
        count: 10,
        dropped: 0,
      });
      const got = decodeMessageLog(Deno.readFileSync(log.path));
      assert.equal(got.firstSeq, 3);
      const d = [...got.delaysNs];
      assert.equal(d[9 - 3], NOT_RECEIVED);
      for (const seq of [3, 4, 5, 6, 7, 8, 10, 11]) {
        const want = seq * 100 * MS + seq * 1000;
        const x = d[seq - 3]!;
        // 1 ms below: the two clocks' bases are read to about a microsecond.
        assert.ok(x > want - MS && x < want + 90 * MS, `seq ${seq}: ${x} ns`);
      }
      assert.ok(d[12 - 3]! < -400 * MS, `negative kept: ${d[12 - 3]} ns`);
      assert.equal(r.negative, 1, "the statistics still clip it");
      assert.equal(r.duplicates, 2);
    } finally {
      log.cleanup();
    }
  },
);

ioTest(
  "a child that got nothing logs its expected range as not received; without --rate, an empty log",
  async (io) => {
    const log = tempLog();
    try {
      const shaped = await startChild(io, {
        timeout: 0.25,
        duration: 1.5,
        messages: { path: log.path, rate: 40, warmup: 0.5 },
      });
      const r = await shaped.result;
      assert.equal(r.stop, "no_stream");
      // 20 WARMUP packets (0..19), then 40 measured (20..59).
      assert.deepEqual(r.messages, {
        path: log.path,
        first_seq: 20,
        count: 40,
        dropped: 0,
      });
      const got = decodeMessageLog(Deno.readFileSync(log.path));
      assert.ok(got.delaysNs.every((x) => x === NOT_RECEIVED));
      const bare = await startChild(io, {
        timeout: 0.25,
        messages: { path: log.path },
      });
      assert.equal((await bare.result).messages?.count, 0);
      assert.equal(
        decodeMessageLog(Deno.readFileSync(log.path)).delaysNs.length,
        0,
      );
    } finally {
      log.cleanup();
    }
  },
);

ioTest(
  "an interrupted child writes what it got; the rest of its expected range reads as not received",
  async (io) => {
    const log = tempLog();
    const ac = new AbortController();
    try {
      const { addr, result } = await startChild(io, {
        duration: 60,
        messages: { path: log.path, rate: 10, warmup: 1 },
      }, ac.signal);
      await sendCrafted(addr, range(10, 30).map((seq) => ({ seq })));
      ac.abort();
      const r = await result;
      assert.equal(r.stop, "interrupted");
      assert.deepEqual(r.messages, {
        path: log.path,
        first_seq: 10,
        count: 590,
        dropped: 0,
      });
      const d = decodeMessageLog(Deno.readFileSync(log.path)).delaysNs;
      assert.ok(d.subarray(0, 20).every((x) => x !== NOT_RECEIVED));
      assert.ok(d.subarray(20).every((x) => x === NOT_RECEIVED));
    } finally {
      log.cleanup();
    }
  },
);

ioTest(
  "the message log keeps at most --messages-max entries and counts the datagrams beyond",
  async (io) => {
    const log = tempLog();
    try {
      const { addr, result } = await startChild(io, {
        messages: { path: log.path, max: 8 },
      });
      await sendCrafted(addr, [
        ...range(0, 20).map((seq) => ({ seq })),
        { seq: 5 }, // a duplicate within the bound: stored, not counted
        { seq: 15 }, // one beyond it: counted
        { seq: 20, flags: FLAG_END },
      ]);
      const r = await result;
      assert.deepEqual(r.messages, {
        path: log.path,
        first_seq: 0,
        count: 8,
        dropped: 13,
      });
      const d = decodeMessageLog(Deno.readFileSync(log.path)).delaysNs;
      assert.ok(d.every((x) => x !== NOT_RECEIVED));
    } finally {
      log.cleanup();
    }
  },
);

ioTest(
  "a message log path that cannot be written fails before binding",
  async (io) => {
    const log = tempLog();
    log.cleanup();
    let bound = false;
    await assert.rejects(
      runChild(
        { bind: LOOPBACK, duration: 1, io, messages: { path: log.path } },
        { onReady: () => bound = true },
      ),
      new RegExp(`Cannot write the message log "${log.path}"`),
    );
    assert.equal(bound, false);
  },
);
