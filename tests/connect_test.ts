import assert from "node:assert/strict";
import { splitHostPort } from "../core/cli.ts";
import { ReqClient } from "../core/transport.ts";
import { PROTOCOL_VERSION } from "../core/version.ts";
import { Manager } from "../manager/manager.ts";
import { FIXTURES } from "../proto/_fixtures.ts";
import { decode, encode } from "../proto/codec.ts";
import { startFakePool } from "./helpers/fake_pool.ts";
import { deadAddr } from "./helpers/net.ts";
import { runTreecast, startReady } from "./helpers/run.ts";

Deno.test("manager CONNECT: three workers answer, a dead address is named, exit 1, no hang", async () => {
  const workers = await Promise.all(
    [0, 1, 2].map(() => startReady(["worker", "--bind", "127.0.0.1:0"])),
  );
  const dead = await deadAddr();
  const dir = await Deno.makeTempDir();
  const script = `${dir}/connect.yaml`;
  const addrs = [...workers.map((w) => w.addr), dead];
  await Deno.writeTextFile(
    script,
    `name: CONNECT-TEST\ndepth: 1\nfanout: 1\naddrs:\n${
      addrs.map((a) => `  - "${a}"`).join("\n")
    }\nsteps:\n  - action: CONNECT\n`,
  );
  try {
    const t0 = performance.now();
    const r = await runTreecast([
      "manager",
      script,
      "--timeout",
      "300ms",
      "--retries",
      "1",
    ]);
    const took = performance.now() - t0;
    assert.equal(r.code, 1, r.stderr);
    const rows = r.stdout.trim().split("\n");
    assert.match(rows[0]!, /^address\s+status\s+rtt_us\s+offset_us/);
    for (const w of workers) {
      const row = rows.find((l) => l.startsWith(w.addr));
      assert.ok(row, `no row for ${w.addr}`);
      assert.match(
        row!,
        new RegExp(`^${w.addr.replaceAll(".", "\\.")}\\s+ok\\s+\\d+`),
      );
    }
    assert.match(rows.find((l) => l.startsWith(dead))!, /unreachable/);
    assert.match(
      r.stderr,
      new RegExp(`error: 1 of 4 workers did not answer CONNECT: "${dead}"`),
    );
    // 2 attempts of 300 ms for the dead one, plus process start: nowhere near a hang.
    assert.ok(took < 20_000, `took ${took} ms`);
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
});

Deno.test("a worker stops cleanly on SIGTERM and SIGINT", async () => {
  for (const sig of ["SIGTERM", "SIGINT"] as const) {
    const w = await startReady(["worker", "--bind", "127.0.0.1:0"]);
    const status = await w.stop(sig);
    assert.equal(status.code, 0);
  }
});

Deno.test("CONNECT shows each worker's kernel clock; an unsynchronised one is warned about, or refused with clocks: require-sync", async () => {
  const fake = await startReady([
    "worker",
    "--bind",
    "127.0.0.1:0",
    "--emulate",
    "clock=unsync",
  ]);
  const dir = await Deno.makeTempDir();
  const run = async (extra: string) => {
    await Deno.writeTextFile(
      `${dir}/c.yaml`,
      `name: CLOCKS\ndepth: 1\nfanout: 1\naddrs: ["${fake.addr}"]\n` +
        `steps: [{ action: CONNECT }]\n${extra}`,
    );
    return await runTreecast(["manager", `${dir}/c.yaml`, "--timeout", "2s"]);
  };
  const row = (out: string) =>
    out.split("\n").find((l) => l.startsWith(fake.addr)) ?? "";
  try {
    const trust = await run("");
    assert.equal(trust.code, 0, trust.stderr);
    assert.match(row(trust.stdout), /\bok\b.*UNSYNC\*/);
    assert.match(
      trust.stderr,
      new RegExp(
        `warning: Worker "${fake.addr}": its kernel says its clock is not ` +
          `synchronised \\(emulated\\)`,
      ),
    );
    const strict = await run("clocks: require-sync\n");
    assert.equal(strict.code, 1, strict.stderr);
    assert.match(
      row(strict.stdout),
      /refused.*not synchronised \(emulated\).*\(clocks: require-sync\)/,
    );
  } finally {
    await fake.stop();
  }
});

Deno.test("a worker bound to 0.0.0.0 answers in the name of its --advertise address; a wildcard --advertise exits 2", async () => {
  const w = await startReady([
    "worker",
    "--bind",
    "0.0.0.0:0",
    "--advertise",
    "127.0.0.1",
  ]);
  const port = splitHostPort(w.addr).port;
  const c = new ReqClient(`127.0.0.1:${port}`, { timeoutMs: 5000, retries: 0 });
  try {
    assert.equal(
      w.addr,
      `0.0.0.0:${port}`,
      "its ready line says what it bound",
    );
    const reply = decode(await c.request(encode(FIXTURES.connect!)));
    assert.equal(reply.type, "ACK");
    assert.equal(reply.data.src, `127.0.0.1:${port}`);
  } finally {
    c.close();
    await w.stop();
  }
  const bad = await runTreecast([
    "worker",
    "--bind",
    "0.0.0.0:0",
    "--advertise",
    "0.0.0.0",
  ]);
  assert.equal(bad.code, 2, bad.stderr);
  assert.deepEqual(
    bad.stderr.split("\n").filter((l) => l.startsWith("error:")),
    [
      'error: Flag "--advertise" must be an address the manager reaches, got "0.0.0.0"',
    ],
  );
});

// 1,100 workers: past libzmq's default 1,023 sockets per context, the wall
// that one socket per worker hit ("Too many open file descriptors").
Deno.test("Manager.connect admits 1,100 workers served from one process, each with a clock offset", async () => {
  const pool = await startFakePool(1100);
  const m = new Manager({ timeoutMs: 10_000, retries: 1 });
  try {
    const results = await m.connect(pool.addrs);
    assert.deepEqual(results.map((r) => r.addr), pool.addrs);
    const notOk = results.filter((r) => r.status !== "ok");
    assert.deepEqual(notOk, []);
    for (const r of results) {
      assert.ok(r.rttUs! >= 0 && r.offsetBoundUs === r.rttUs! / 2, r.addr);
      assert.equal(r.hello?.protocol, PROTOCOL_VERSION);
    }
  } finally {
    m.close();
    await pool.close();
  }
});

Deno.test("a connection that cannot be opened costs only its worker: unreachable, named, the others admitted", async () => {
  const pool = await startFakePool(3);
  const bad = "127.0.0.1:-1";
  const m = new Manager({ timeoutMs: 5000, retries: 0 });
  try {
    const results = await m.connect([
      pool.addrs[0]!,
      bad,
      ...pool.addrs.slice(1),
    ]);
    assert.deepEqual(results.map((r) => r.status), [
      "ok",
      "unreachable",
      "ok",
      "ok",
    ]);
    assert.match(results[1]!.error!, /Cannot connect to "127\.0\.0\.1:-1"/);
  } finally {
    m.close();
    await pool.close();
  }
});
