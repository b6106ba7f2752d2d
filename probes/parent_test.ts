import assert from "node:assert/strict";
import process from "node:process";
import { splitHostPort } from "../core/cli.ts";
import { runParent } from "./parent.ts";
import { drain, freeUdpPort, ioTest, rawSocket } from "./_testing.ts";
import { decodeHeader, FLAG_END, FLAG_WARMUP } from "./wire.ts";

ioTest(
  "a parent sends WARMUP, measured, then END three times, the same bytes to every child",
  async (io) => {
    const a = rawSocket(), b = rawSocket();
    const before = Temporal.Now.instant().epochNanoseconds;
    // 400 pps: 8 warm-up + 40 measured + 3 END = 51 datagrams, within a socket's buffer.
    const r = await runParent({
      to: [splitHostPort(a.addr), splitHostPort(b.addr)],
      rate: 400,
      duration: 0.1,
      warmup: 0.02,
      size: 100,
      io,
    });
    const after = Temporal.Now.instant().epochNanoseconds;
    const [ga, gb] = await Promise.all([drain(a.conn), drain(b.conn)]);
    assert.deepEqual(ga, gb);
    assert.equal(ga.length, 51);
    assert.ok(ga.every((d) => d.length === 100));
    const h = ga.map((d) => decodeHeader(d));
    assert.deepEqual(h.map((x) => x.seq), [
      ...Array.from({ length: 48 }, (_, i) => i),
      48,
      48,
      48,
    ]);
    assert.deepEqual(h.map((x) => x.flags), [
      ...Array(8).fill(FLAG_WARMUP),
      ...Array(40).fill(0),
      FLAG_END,
      FLAG_END,
      FLAG_END,
    ]);
    assert.ok(h.every((x) => x.hops === 0 && x.emuNs === 0));
    assert.ok(
      h.every((x, i) =>
        x.tsNs >= before && x.tsNs <= after &&
        (i === 0 || x.tsNs >= h[i - 1]!.tsNs)
      ),
    );
    assert.deepEqual(
      [
        r.sent,
        r.children,
        r.warmup,
        r.size,
        r.rate,
        r.duration,
        r.stop,
        r.send_errors,
      ],
      [51, 2, 8, 100, 400, 0.1, "end", 0],
    );
    assert.ok(r.late_share >= 0 && r.late_share <= 1);
    assert.ok(
      r.lateness_us.p50! <= r.lateness_us.p99! &&
        r.lateness_us.p99! <= r.lateness_us.max!,
    );
  },
);

ioTest(
  "an interrupted parent stops early and still closes the stream with END",
  async (io) => {
    const a = rawSocket();
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const t0 = performance.now();
    const r = await runParent({
      to: [splitHostPort(a.addr)],
      rate: 100,
      duration: 30,
      io,
    }, { signal: ac.signal });
    assert.ok(performance.now() - t0 < 2000);
    const got = (await drain(a.conn)).map((d) => decodeHeader(d));
    assert.equal(r.stop, "interrupted");
    assert.equal(got.length, r.sent);
    const last = got.slice(-3);
    assert.ok(
      last.every((x) => x.flags === FLAG_END && x.seq === got.length - 3),
    );
  },
);

ioTest(
  "a parent given a bind address sends from it: its ready line and every datagram's source name it",
  async (io) => {
    const a = rawSocket();
    // 127.0.0.2 is not the source the kernel picks for 127.0.0.1.
    const from = { hostname: "127.0.0.2", port: freeUdpPort() };
    let ready = "";
    const got = (async () => {
      const sources = new Set<string>();
      const buf = new Uint8Array(64);
      let timer = setTimeout(() => a.conn.close(), 2000);
      try {
        for (;;) {
          const [, src] = await a.conn.receive(buf);
          sources.add(
            `${(src as Deno.NetAddr).hostname}:${(src as Deno.NetAddr).port}`,
          );
          clearTimeout(timer);
          timer = setTimeout(() => a.conn.close(), 200);
        }
      } catch {
        // closed: quiet for 200 ms
      } finally {
        clearTimeout(timer);
      }
      return sources;
    })();
    const r = await runParent({
      to: [splitHostPort(a.addr)],
      bind: from,
      rate: 200,
      duration: 0.05,
      io,
    }, { onReady: (bind) => (ready = bind) });
    assert.equal(r.sent, 13);
    assert.equal(ready, `127.0.0.2:${from.port}`);
    assert.deepEqual([...await got], [ready]);
  },
);

ioTest(
  "a parent cannot send to another address family than its bind's, and says so",
  async (io) => {
    await assert.rejects(
      runParent({
        to: [{ hostname: "::1", port: 9 }],
        bind: { hostname: "127.0.0.1", port: 0 },
        rate: 10,
        duration: 1,
        io,
      }),
      /Cannot send to "\[::1\]:9" from "127\.0\.0\.1:0": another address family/,
    );
  },
);

ioTest("a parent cannot resolve a bad name and says which", async (io) => {
  await assert.rejects(
    runParent({
      to: [{ hostname: "no-such-host.invalid", port: 9 }],
      rate: 10,
      duration: 1,
      io,
    }),
    /Cannot resolve "no-such-host.invalid"/,
  );
});

ioTest(
  "a parent sleeps to each due time, never spins: about one voluntary context switch per packet",
  async (io) => {
    const a = rawSocket();
    const before = process.resourceUsage().voluntaryContextSwitches;
    const r = await runParent({
      to: [splitHostPort(a.addr)],
      rate: 2000,
      duration: 1,
      io,
    });
    const slept = process.resourceUsage().voluntaryContextSwitches - before;
    a.conn.close();
    assert.equal(r.sent, 2003);
    // Each sleep gives up the CPU (a voluntary switch); a spinning sender
    // gives it up almost never, whatever the load. Late packets need no sleep.
    const onTime = (1 - r.late_share) * 2001;
    assert.ok(
      slept >= 0.5 * onTime,
      `${slept} voluntary switches for ${onTime} packets on time`,
    );
  },
);
