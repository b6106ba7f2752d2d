import assert from "node:assert/strict";
import process from "node:process";
import { splitHostPort } from "../core/cli.ts";
import { runParent } from "./parent.ts";
import { drain, ioTest, rawSocket } from "./_testing.ts";
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
