/**
 * Interoperability with the project's C reference
 * (`tests/reference/udp_ref.c`), both ways and through each kind of
 * forwarder. Builds it with `cc`; without a C compiler every test fails,
 * naming what to install.
 */
import assert from "node:assert/strict";
import {
  freeUdpPort,
  ioTest,
  LineProcess,
  spawnParent,
  spawnReady,
  waitUdpBound,
} from "../probes/_testing.ts";
import { buildUdpRef } from "./helpers/udp_ref.ts";

type Json = Record<string, unknown>;
const lat = (r: Json) => r.latency_us as { min: number; p50: number };

/** Starts a C receiver on a free port and waits until it is bound. */
async function cReceiver(
  seconds: number,
): Promise<{ proc: LineProcess; addr: string }> {
  const ref = await buildUdpRef();
  const port = freeUdpPort();
  const proc = new LineProcess(ref, [
    "receiver",
    "-p",
    String(port),
    "-d",
    String(seconds),
  ]);
  await waitUdpBound(port);
  return { proc, addr: `127.0.0.1:${port}` };
}

async function lastLine(p: LineProcess): Promise<Json> {
  const { code, lines, stderr } = await p.finish();
  assert.equal(code, 0, stderr);
  const last = lines.at(-1);
  assert.ok(last, `no output; stderr: ${stderr}`);
  return last;
}

ioTest("a C sender feeds a treecast child", async (io) => {
  const ref = await buildUdpRef();
  const { proc, bind } = await spawnReady([
    "child",
    "--io",
    io,
    "--bind",
    "127.0.0.1:0",
    "--duration",
    "1",
    "--timeout",
    "20",
  ]);
  const sender = new LineProcess(ref, [
    "sender",
    "-r",
    "2000",
    "-d",
    "1",
    bind,
  ]);
  const [r, s] = await Promise.all([lastLine(proc), lastLine(sender)]);
  // udp_ref sends seq 0..rate*d-1, then END with seq rate*d.
  assert.equal(s.sent, 2000);
  assert.deepEqual(
    [
      r.received,
      r.lost,
      r.malformed,
      r.warmup,
      r.end_seen,
      r.first_seq,
      r.last_seq,
      r.hops,
      r.negative,
    ],
    [2000, 0, 0, 0, true, 0, 1999, 0, 0],
  );
  // Same clock, same host: the C timestamps read as a plausible delay.
  assert.ok(lat(r).p50 > 0 && lat(r).p50 < 20_000, `p50 ${lat(r).p50} µs`);
});

ioTest(
  "a treecast parent feeds a C receiver, which leaves WARMUP out",
  async (io) => {
    const recv = await cReceiver(1);
    const parent = spawnParent(io, [recv.addr], {
      rate: 2000,
      duration: 1,
      warmup: 0.1,
    });
    const [r, p] = await Promise.all([lastLine(recv.proc), lastLine(parent)]);
    assert.equal(p.sent, 200 + 2000 + 3);
    assert.deepEqual(
      [r.recv, r.lost, r.warmup, r.duplicates, r.end_seen, r.timestamps],
      [2000, 0, 200, 0, true, "user"],
    );
    assert.ok(
      Number(r.p50_us) > 0 && Number(r.p50_us) < 20_000,
      `p50 ${r.p50_us} µs`,
    );
  },
);

ioTest(
  "treecast parent -> C forwarder -> treecast child counts one hop",
  async (io) => {
    const ref = await buildUdpRef();
    const { proc: child, bind } = await spawnReady([
      "child",
      "--io",
      io,
      "--bind",
      "127.0.0.1:0",
      "--duration",
      "1",
      "--timeout",
      "20",
    ]);
    const port = freeUdpPort();
    const fwd = new LineProcess(ref, [
      "forwarder",
      "-p",
      String(port),
      "-d",
      "1",
      bind,
    ]);
    await waitUdpBound(port);
    const parent = spawnParent(io, [`127.0.0.1:${port}`], {
      rate: 1000,
      duration: 1,
      warmup: 0.1,
    });
    const [r, f] = await Promise.all([
      lastLine(child),
      lastLine(fwd),
      lastLine(parent),
    ]);
    // The C forwarder stops after forwarding the first END.
    assert.equal(f.forwarded, 100 + 1000 + 1);
    assert.deepEqual([r.received, r.lost, r.warmup, r.end_seen, r.hops], [
      1000,
      0,
      100,
      true,
      1,
    ]);
  },
);

ioTest("C sender -> treecast proxy -> C receiver", async (io) => {
  const ref = await buildUdpRef();
  const recv = await cReceiver(1);
  const proxy = await spawnReady([
    "proxy",
    "--io",
    io,
    "--bind",
    "127.0.0.1:0",
    "--to",
    recv.addr,
    "--duration",
    "1",
    "--timeout",
    "20",
  ]);
  const sender = new LineProcess(ref, [
    "sender",
    "-r",
    "2000",
    "-d",
    "1",
    proxy.bind,
  ]);
  const [r, x] = await Promise.all([
    lastLine(recv.proc),
    lastLine(proxy.proc),
    lastLine(sender),
  ]);
  assert.deepEqual([r.recv, r.lost], [2000, 0]);
  assert.deepEqual([x.forwarded, x.malformed, x.end_seen], [2001, 0, true]);
});
