/** CURVE over real processes: keygen, an allowed manager, a stranger, the plain-text warning. */
import assert from "node:assert/strict";
import { readKeyPair } from "../core/curve.ts";
import { Node, RemoteError } from "../core/node.ts";
import { ReqClient, WorkerUnreachable } from "../core/transport.ts";
import { PROGRAM_VERSION, PROTOCOL_VERSION } from "../core/version.ts";
import { Manager } from "../manager/manager.ts";
import { emptyCommand, emptyJob, type Message } from "../proto/codec.ts";
import { ROOT, runTreecast, startReady, treecastArgs } from "./helpers/run.ts";

Deno.test("CURVE: a worker answers the allowed manager and no other", async () => {
  const dir = await Deno.makeTempDir();
  for (const name of ["workers", "manager", "relay", "stranger"]) {
    const r = await runTreecast(["keygen", `${dir}/${name}`]);
    assert.equal(r.code, 0, r.stderr);
  }
  const again = await runTreecast(["keygen", `${dir}/workers`]);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /^error: ".*workers.key" exists/);
  const w = await startReady([
    "worker",
    "--bind",
    "127.0.0.1:0",
    "--curve-key",
    `${dir}/workers.key`,
    "--curve-allow",
    `${dir}/manager.pub`,
    "--relay-key",
    `${dir}/relay.key`,
  ]);
  try {
    await Deno.writeTextFile(
      `${dir}/s.yaml`,
      `name: CURVE\ndepth: 1\nfanout: 1\naddrs: ["${w.addr}"]\nsteps: [{ action: CONNECT }]\n`,
    );
    const ok = await runTreecast([
      "manager",
      `${dir}/s.yaml`,
      "--curve-key",
      `${dir}/manager.key`,
      "--curve-server",
      `${dir}/workers.pub`,
      "--timeout",
      "500ms",
      "--retries",
      "0",
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(
      ok.stdout,
      new RegExp(`${w.addr.replaceAll(".", "\\.")}\\s+ok`),
    );
    // A stranger, a VM holding the shared worker key, and no CURVE at all.
    for (
      const args of [
        [
          "--curve-key",
          `${dir}/stranger.key`,
          "--curve-server",
          `${dir}/workers.pub`,
        ],
        [
          "--curve-key",
          `${dir}/workers.key`,
          "--curve-server",
          `${dir}/workers.pub`,
        ],
        [],
      ]
    ) {
      const no = await runTreecast([
        "manager",
        `${dir}/s.yaml`,
        ...args,
        "--timeout",
        "300ms",
        "--retries",
        "0",
      ]);
      assert.equal(no.code, 1);
      assert.match(no.stdout, /unreachable/);
    }
  } finally {
    await w.stop();
  }
});

Deno.test("CURVE: workers relay to each other with the relay key, which the worker key cannot stand in for", async () => {
  const dir = await Deno.makeTempDir();
  for (const name of ["workers", "manager", "relay"]) {
    assert.equal((await runTreecast(["keygen", `${dir}/${name}`])).code, 0);
  }
  const args = [
    "--curve-key",
    `${dir}/workers.key`,
    "--curve-allow",
    `${dir}/manager.pub`,
  ];
  const refused = await runTreecast([
    "worker",
    "--bind",
    "127.0.0.1:0",
    ...args,
  ]);
  assert.equal(refused.code, 2);
  assert.match(
    refused.stderr,
    /^error: Flag "--curve-key" needs "--relay-key"/,
  );
  const same = await runTreecast([
    "worker",
    "--bind",
    "127.0.0.1:0",
    ...args,
    "--relay-key",
    `${dir}/relay.key`,
    "--relay-allow",
    `${dir}/workers.pub`,
  ]);
  assert.equal(same.code, 2);
  assert.match(same.stderr, /The worker key must not be a client key/);
  const start = () =>
    startReady([
      "worker",
      "--bind",
      "127.0.0.1:0",
      ...args,
      "--relay-key",
      `${dir}/relay.key`,
    ]);
  const [a, b] = [await start(), await start()];
  const m = new Manager({
    timeoutMs: 3000,
    retries: 0,
    curve: {
      ...readKeyPair("k", `${dir}/manager.key`),
      serverKey: readKeyPair("k", `${dir}/workers.key`).publicKey,
    },
  });
  try {
    // The run's roster: a COMMAND names only workers it connected.
    await m.connect([a.addr, b.addr]);
    // a relays to b: b admits a's relay key.
    const job = await m.command(
      a.addr,
      emptyCommand({
        flag: "PARENT",
        layer: 1,
        rate: 1000,
        dur: 300,
        addrs: [b.addr],
      }),
    );
    assert.equal(job.deps.length, 1);
    assert.equal(job.deps[0]!.owner, b.addr);
    assert.match(job.deps[0]!.addr, /^127\.0\.0\.1:\d+$/);
  } finally {
    m.close();
    await a.stop();
    await b.stop();
  }
});

Deno.test("CURVE: the relay key reaches only the relay port, where it stops the jobs relayed COMMANDs started and none a manager started", async () => {
  const dir = await Deno.makeTempDir();
  for (const name of ["workers", "manager", "relay"]) {
    assert.equal((await runTreecast(["keygen", `${dir}/${name}`])).code, 0);
  }
  const start = () =>
    startReady([
      "worker",
      "--bind",
      "127.0.0.1:0",
      "--curve-key",
      `${dir}/workers.key`,
      "--curve-allow",
      `${dir}/manager.pub`,
      "--relay-key",
      `${dir}/relay.key`,
    ]);
  const [a, b] = [await start(), await start()];
  const serverKey = readKeyPair("k", `${dir}/workers.key`).publicKey;
  const managerKeys = { ...readKeyPair("k", `${dir}/manager.key`), serverKey };
  const relayKeys = { ...readKeyPair("k", `${dir}/relay.key`), serverKey };
  const m = new Manager({ timeoutMs: 3000, retries: 0, curve: managerKeys });
  // A VM of the pool: it holds relay.key and talks like a relaying worker.
  const vm = new Node("127.0.0.1:1");
  const clients: ReqClient[] = [];
  const ask = async (
    addr: string,
    keys: typeof relayKeys,
    build: (addr: string) => Message,
  ): Promise<Message | string> => {
    const c = new ReqClient(addr, { timeoutMs: 1000, retries: 0, curve: keys });
    clients.push(c);
    try {
      return (await vm.request(c, () => build(addr))).reply;
    } catch (e) {
      if (e instanceof RemoteError) return `ERR ${e.desc}`;
      if (e instanceof WorkerUnreachable) return "unreachable";
      throw e;
    }
  };
  const hello = {
    protocol: PROTOCOL_VERSION,
    program: PROGRAM_VERSION,
    capabilities: [],
    hostname: "vm",
    emulate: "",
    incarnation: "",
  };
  const connect = (to: string) => vm.message("CONNECT", to, { hello });
  const stop = (id: string) => (to: string) =>
    vm.message("STOP", to, {
      report: { job: emptyJob({ id }), complete: false },
    });
  // Where a worker's relay port is: its hello says (to a manager's key).
  const relayAddr = async (addr: string) => {
    const r = await ask(addr, managerKeys, connect);
    assert.ok(typeof r !== "string", r as string);
    const port = r.data.hello!.relayPort!;
    assert.ok(port > 0 && `127.0.0.1:${port}` !== addr);
    return `127.0.0.1:${port}`;
  };
  try {
    const [aRelay, bRelay] = [await relayAddr(a.addr), await relayAddr(b.addr)];
    // The control port refuses the relay key's handshake: no answer at all.
    assert.equal(await ask(a.addr, relayKeys, connect), "unreachable");
    assert.equal(await ask(a.addr, relayKeys, stop("")), "unreachable");
    // The relay port serves no CONNECT and no STOP of every job.
    assert.match(
      String(await ask(aRelay, relayKeys, connect)),
      /^ERR CONNECT is refused on the relay port/,
    );
    assert.match(
      String(await ask(aRelay, relayKeys, stop(""))),
      /^ERR STOP of every job is refused on the relay port/,
    );
    await m.connect([a.addr, b.addr]);
    // The manager starts a's PARENT job; a relays its child's COMMAND to b.
    const job = await m.command(
      a.addr,
      emptyCommand({
        flag: "PARENT",
        layer: 1,
        rate: 100,
        dur: 60_000,
        addrs: [b.addr],
      }),
    );
    const child = job.deps[0]!;
    assert.equal(child.owner, b.addr);
    // The manager's job: refused, and it keeps running.
    assert.match(
      String(await ask(aRelay, relayKeys, stop(job.id))),
      new RegExp(
        `^ERR Job "${job.id}" was started by a manager, not by a relayed COMMAND`,
      ),
    );
    assert.equal((await m.report(a.addr, job.id)).job.end, false);
    // The relayed job: stopped.
    const stopped = await ask(bRelay, relayKeys, stop(child.id));
    assert.ok(typeof stopped !== "string", stopped as string);
    assert.equal(stopped.type, "ACK");
    let end = false;
    for (let i = 0; i < 100 && !end; i++) {
      end = (await m.report(b.addr, child.id)).job.end;
      if (!end) await new Promise((r) => setTimeout(r, 100)); // poll REPORT
    }
    assert.ok(end, "the relayed child job ended after the relay port's STOP");
    assert.equal((await m.report(a.addr, job.id)).job.end, false);
  } finally {
    for (const c of clients) c.close();
    m.close();
    await a.stop();
    await b.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a worker bound beyond loopback without CURVE warns that anyone can start probes", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: treecastArgs([
      "worker",
      "--bind",
      "0.0.0.0:0",
      "--advertise",
      "127.0.0.1",
    ]),
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let err = "";
  while (!err.includes("listening")) {
    const { value, done } = await reader.read();
    if (done) break;
    err += value;
  }
  child.kill("SIGTERM");
  await child.status;
  await reader.cancel();
  assert.match(
    err,
    /warning: Worker bound to "0\.0\.0\.0:\d+" without CURVE: anyone who can reach/,
  );
});

Deno.test("a worker or manager given a secret key file open to group or others exits 2 naming it, like ssh's unprotected private key", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const name of ["workers", "manager", "relay"]) {
      const r = await runTreecast(["keygen", `${dir}/${name}`]);
      assert.equal(r.code, 0, r.stderr);
    }
    await Deno.chmod(`${dir}/relay.key`, 0o644);
    const worker = await runTreecast([
      "worker",
      "--bind",
      "127.0.0.1:0",
      "--curve-key",
      `${dir}/workers.key`,
      "--curve-allow",
      `${dir}/manager.pub`,
      "--relay-key",
      `${dir}/relay.key`,
    ]);
    assert.equal(worker.code, 2, worker.stderr);
    assert.deepEqual(
      worker.stderr.split("\n").filter((l) => l.startsWith("error:")),
      [
        `error: Flag "--relay-key": unprotected secret key file "${dir}/relay.key": ` +
        "mode 0644 lets group or others read it; a secret key must be readable " +
        `by its owner only (chmod 600 "${dir}/relay.key")`,
      ],
    );
    await Deno.chmod(`${dir}/manager.key`, 0o640);
    await Deno.writeTextFile(
      `${dir}/s.yaml`,
      'name: K\naddrs: ["127.0.0.1:9"]\nsteps: [{ action: CONNECT }]\n',
    );
    const manager = await runTreecast([
      "manager",
      `${dir}/s.yaml`,
      "--curve-key",
      `${dir}/manager.key`,
      "--curve-server",
      `${dir}/workers.pub`,
    ]);
    assert.equal(manager.code, 2, manager.stderr);
    assert.match(
      manager.stderr,
      /^error: Flag "--curve-key": unprotected secret key file ".*manager\.key": mode 0640/m,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
