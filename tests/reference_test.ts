/**
 * The project's C reference (`tests/reference/udp_ref.c`) on its own: its
 * self-test of the golden vectors, the counting of its receiver and
 * forwarder on hand-made datagrams, its kernel receive timestamps, and its
 * command line. Builds it with `cc`; without a C compiler every test fails,
 * naming what to install.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  drain,
  freeUdpPort,
  LineProcess,
  rawSocket,
  sendCrafted,
  waitUdpBound,
} from "../probes/_testing.ts";
import { decodeHeader, FLAG_END, FLAG_WARMUP } from "../probes/wire.ts";
import { buildUdpRef } from "./helpers/udp_ref.ts";

type Json = Record<string, unknown>;

/** Runs `udp_ref ...args` to its end. */
async function run(args: string[]) {
  return await new LineProcess(await buildUdpRef(), args).finish();
}

/** Starts a C receiver or forwarder on a free port, bound when it resolves. */
async function listening(
  mode: "receiver" | "forwarder",
  args: string[],
): Promise<{ proc: LineProcess; addr: string }> {
  const ref = await buildUdpRef();
  const port = freeUdpPort();
  const proc = new LineProcess(ref, [mode, "-p", String(port), ...args]);
  await waitUdpBound(port);
  return { proc, addr: `127.0.0.1:${port}` };
}

/** A header with flag bit 2 set (not of the format: encodeHeader refuses it). */
function unknownFlag(seq: number): Uint8Array {
  const b = new Uint8Array(24), v = new DataView(b.buffer);
  v.setUint32(0, seq, true);
  v.setUint32(4, 4, true);
  return b;
}

async function result(p: LineProcess): Promise<Json> {
  const { code, lines, stderr } = await p.finish();
  assert.equal(code, 0, stderr);
  assert.equal(lines.length, 1, `one JSON line; stderr: ${stderr}`);
  return lines[0]!;
}

Deno.test("udp_ref selftest encodes and decodes the golden vectors of probes/WIRE.md", async () => {
  const { code, lines, stderr } = await run(["selftest"]);
  assert.equal(code, 0, stderr);
  assert.deepEqual(lines, [{ role: "selftest", vectors: 3, failed: 0 }]);
});

Deno.test("the C receiver counts WARMUP apart, and loss, duplicates, reordering, malformed", async () => {
  const { proc, addr } = await listening("receiver", ["-d", "1"]);
  await sendCrafted(addr, [
    ...[0, 1, 2, 3, 4].map((seq) => ({ seq, flags: FLAG_WARMUP })),
    { seq: 5 },
    { seq: 6 },
    { seq: 6 }, // duplicate
    new Uint8Array(10), // short
    { seq: 8 },
    { seq: 7 }, // reordered
    unknownFlag(10),
    { seq: 10, flags: FLAG_END, hops: 3 }, // 9 lost
  ]);
  const r = await result(proc);
  assert.deepEqual(
    [
      r.recv,
      r.lost,
      r.duplicates,
      r.reordered,
      r.warmup,
      r.malformed,
      r.end_seen,
      r.hops,
    ],
    [4, 1, 1, 1, 5, 2, true, 3],
  );
});

Deno.test("the C forwarder skips malformed datagrams, keeps serving, adds 1 to hops as a u16", async () => {
  const sink = rawSocket();
  const fwd = await listening("forwarder", ["-d", "1", sink.addr]);
  await sendCrafted(fwd.addr, [
    new Uint8Array(23), // short: skipped, not the end of the stream
    { seq: 0, hops: 255, size: 100 },
    unknownFlag(1), // skipped
    { seq: 1, hops: 0xffff },
    { seq: 2, flags: FLAG_END },
  ]);
  const f = await result(fwd.proc);
  const got = (await drain(sink.conn)).map((d) => ({
    size: d.length,
    ...decodeHeader(d),
  }));
  assert.deepEqual([f.forwarded, f.malformed, f.timestamps], [3, 2, "user"]);
  assert.deepEqual(got.map((h) => [h.seq, h.hops, h.size]), [
    [0, 256, 100],
    [1, 0xffff, 24],
    [2, 1, 24],
  ]);
  assert.equal(got[2]!.flags, FLAG_END);
});

Deno.test("--kernel-ts: the C receiver measures with kernel timestamps, each at or before its user-space one", async () => {
  const ref = await buildUdpRef();
  const recv = await listening("receiver", ["-d", "1", "--kernel-ts"]);
  const fwd = await listening("forwarder", ["-d", "1", "-k", recv.addr]);
  const send = new LineProcess(ref, [
    "sender",
    "-r",
    "2000",
    "-d",
    "1",
    fwd.addr,
  ]);
  const [r, f] = await Promise.all([result(recv.proc), result(fwd.proc)]);
  await result(send);
  assert.deepEqual([r.timestamps, r.recv, r.lost, r.negative], [
    "kernel",
    2000,
    0,
    0,
  ]);
  assert.equal(r.note, undefined);
  const user = r.user as Json, wakeup = r.wakeup as Json;
  // The same packets stamped twice: the kernel's stamp precedes the
  // receiver's own clock reading, packet by packet.
  assert.ok(Number(wakeup.min_us) >= 0, `wakeup min ${wakeup.min_us} µs`);
  assert.ok(Number(r.p50_us) <= Number(user.p50_us), JSON.stringify(r));
  // A few µs on a quiet machine; loose for a loaded one (a sanity bound).
  assert.ok(
    Number(user.p50_us) - Number(r.p50_us) < 1000,
    `user p50 ${user.p50_us} µs, kernel p50 ${r.p50_us} µs`,
  );
  assert.ok(Number(r.min_us) > 0 && Number(r.p50_us) < 20_000);
  console.log(
    `kernel p50 ${r.p50_us} µs, user p50 ${user.p50_us} µs, wakeup p50 ${wakeup.p50_us} µs`,
  );
  const added = f.added as Json;
  assert.deepEqual([f.timestamps, f.forwarded], ["kernel", 2001]);
  assert.ok(Number(added.min_us) >= 0 && Number(added.p50_us) < 20_000);
});

Deno.test("udp_ref exits 2 with an error line on a bad command line", async () => {
  for (
    const [args, says] of [
      [["receiver", "-p", "0"], "-p"],
      [["sender", "-r", "fast", "127.0.0.1:9"], "-r"],
      [["sender", "127.0.0.1"], "bad address"],
      [["forwarder", "-p", "9"], "destinations"],
      [["receiver", "-p", "9", "-r", "1"], "usage"],
      [["nonsense"], "usage"],
    ] as const
  ) {
    const { code, lines, stderr } = await run([...args]);
    assert.equal(code, 2, `${args.join(" ")}: ${stderr}`);
    assert.deepEqual(lines, []);
    assert.ok(stderr.includes(says), `${args.join(" ")}: ${stderr}`);
  }
});
