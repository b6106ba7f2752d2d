/**
 * The probe commands as processes: exit codes, stdout JSON lines, stderr.
 */
import assert from "node:assert/strict";
import { ioTest, spawnProbe, spawnReady } from "../probes/_testing.ts";

ioTest(
  "a child with no parent exits 1 within its timeout, with a result line",
  async (io) => {
    const t0 = performance.now();
    const { proc, bind } = await spawnReady([
      "child",
      "--io",
      io,
      "--bind",
      "127.0.0.1:0",
      "--duration",
      "5",
      "--timeout",
      "0.5",
    ]);
    const { code, lines, stderr } = await proc.finish();
    assert.ok(performance.now() - t0 < 10_000);
    assert.equal(code, 1);
    assert.equal(
      stderr,
      `error: No stream arrived at "${bind}" within 0.5 s\n`,
    );
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.event, "result");
    assert.equal(lines[0]!.stop, "no_stream");
  },
);

ioTest(
  "a bad --emulate is a usage error (exit 2) naming the bad key",
  async (io) => {
    const p = spawnProbe([
      "child",
      "--io",
      io,
      "--bind",
      "127.0.0.1:0",
      "--duration",
      "1",
      "--emulate",
      "delay=300us,jiter=5us",
    ]);
    const { code, lines, stderr } = await p.finish();
    assert.equal(code, 2);
    assert.deepEqual(lines, []);
    assert.match(
      stderr,
      /^error: Flag "--emulate": unknown key "jiter" \(known: delay, jitter, loss, seed, offset\)\n/,
    );
  },
);

ioTest("SIGTERM stops a child: partial result line, exit 130", async (io) => {
  const { proc } = await spawnReady([
    "child",
    "--io",
    io,
    "--bind",
    "127.0.0.1:0",
    "--duration",
    "60",
  ]);
  proc.kill("SIGTERM");
  const { code, lines } = await proc.finish();
  assert.equal(code, 130);
  assert.equal(lines[0]!.event, "result");
  assert.equal(lines[0]!.stop, "interrupted");
});

ioTest(
  "SIGINT stops a parent: END still sent, result line, exit 130",
  async (io) => {
    const { proc: child, bind } = await spawnReady([
      "child",
      "--io",
      io,
      "--bind",
      "127.0.0.1:0",
      "--duration",
      "60",
    ]);
    // A second child of the parent, in this process: its first datagram
    // says the stream flows (the parent sends to both in one round).
    const watch = Deno.listenDatagram({
      transport: "udp",
      hostname: "127.0.0.1",
      port: 0,
    });
    const parent = spawnProbe([
      "parent",
      "--io",
      io,
      "--to",
      `${bind},127.0.0.1:${(watch.addr as Deno.NetAddr).port}`,
      "--rate",
      "200",
      "--duration",
      "60",
    ]);
    try {
      await watch.receive();
    } finally {
      watch.close();
    }
    parent.kill("SIGINT");
    const p = await parent.finish();
    const c = await child.finish();
    assert.equal(p.code, 130, p.stderr);
    assert.equal(p.lines.at(-1)!.stop, "interrupted");
    assert.ok(Number(p.lines.at(-1)!.sent) > 3, "stopped mid-stream");
    assert.equal(c.code, 0, c.stderr);
    const r = c.lines.at(-1)!;
    assert.equal(r.end_seen, true);
    assert.equal(r.stop, "end");
    assert.equal(
      Number(r.received) + Number(r.lost),
      Number(p.lines.at(-1)!.sent) - 3,
    );
  },
);
