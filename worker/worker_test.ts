import assert from "node:assert/strict";
import { decodeMessageLog, NOT_RECEIVED } from "../core/message_log.ts";
import { RepServer, ReqClient } from "../core/transport.ts";
import { PROGRAM_VERSION, PROTOCOL_VERSION } from "../core/version.ts";
import {
  type Command,
  decode,
  emptyCommand,
  emptyJob,
  encode,
  type Message,
} from "../proto/codec.ts";
import { FIXTURES } from "../proto/_fixtures.ts";
import { fuzzInputs } from "../tests/helpers/fuzz.ts";
import { sendCrafted } from "../probes/_testing.ts";
import { FLAG_END, FLAG_WARMUP } from "../probes/wire.ts";
import { logsMessages, probeArgs } from "./probe_args.ts";
import { BOOT_ID_FILE, readBootId } from "./kernel_clock.ts";
import { Worker } from "./worker.ts";
import { joinRun } from "./_testing.ts";

const connect = (protocol = PROTOCOL_VERSION): Message => ({
  ...FIXTURES.connect!,
  data: {
    ...FIXTURES.connect!.data,
    hello: { ...FIXTURES.connect!.data.hello!, protocol },
  },
});

Deno.test("CONNECT is answered with ACK carrying versions and capabilities", async () => {
  const w = new Worker({ name: "127.0.0.1:9101", emulate: "delay=2ms" });
  const reply = decode(await w.handle(encode(connect())));
  assert.equal(reply.type, "ACK");
  assert.equal(reply.id, 0);
  assert.equal(reply.data.dst, "manager@lab");
  assert.equal(reply.data.hello?.protocol, PROTOCOL_VERSION);
  assert.equal(reply.data.hello?.program, PROGRAM_VERSION);
  assert.deepEqual(reply.data.hello?.capabilities, [
    "parent",
    "child",
    "proxy",
    "emulate",
    "io:deno",
    "ts:user",
  ]);
  assert.equal(reply.data.hello?.emulate, "delay=2ms");
});

Deno.test("CONNECT advertises the probe I/O backends and timestamp kinds the worker was given", async () => {
  const w = new Worker({
    name: "w",
    io: { io: ["native", "deno"], timestamps: ["kernel", "user"] },
  });
  const reply = decode(await w.handle(encode(connect())));
  assert.deepEqual(
    reply.data.hello?.capabilities.filter((c) => c.includes(":")),
    ["io:native", "io:deno", "ts:kernel", "ts:user"],
  );
});

Deno.test("a COMMAND asking for an I/O mode the worker does not offer gets ERR naming io or timestamps", async () => {
  const w = new Worker({ name: "127.0.0.1:9101" }); // deno, user only
  const base = { flag: "CHILD" as const, rate: 1000, dur: 1000 };
  const cases: [ReturnType<typeof emptyCommand>, RegExp][] = [
    [
      emptyCommand({ ...base, io: "NATIVE" }),
      /^Field "io" .*\(deno\), got NATIVE/,
    ],
    [
      emptyCommand({ ...base, io: "DENO", timestamps: "KERNEL" }),
      /^Field "timestamps" must be USER .*got KERNEL/,
    ],
  ];
  for (const [command, want] of cases) {
    const reply = decode(
      await w.handle(encode({
        id: 1,
        ts: 1,
        type: "COMMAND",
        data: { src: "m", dst: "127.0.0.1:9101", command },
      })),
    );
    assert.equal(reply.type, "ERR");
    assert.match(reply.data.error!.desc, want);
  }
  assert.equal(w.jobs.running().length, 0);
  await w.close();
});

Deno.test("CONNECT with another protocol version gets ERR naming both versions", async () => {
  const w = new Worker({ name: "w" });
  const reply = decode(await w.handle(encode(connect(PROTOCOL_VERSION + 1))));
  assert.equal(reply.type, "ERR");
  assert.match(
    reply.data.error!.desc,
    new RegExp(
      `Protocol version ${
        PROTOCOL_VERSION + 1
      }.*speaks protocol ${PROTOCOL_VERSION}`,
    ),
  );
});

Deno.test("a type a worker does not serve gets ERR", async () => {
  const w = new Worker({ name: "w" });
  for (const name of ["connect_ack", "err"]) {
    const reply = decode(await w.handle(encode(FIXTURES[name]!)));
    assert.equal(reply.type, "ERR");
    assert.match(reply.data.error!.desc, /does not serve (ACK|ERR)/);
  }
});

Deno.test("an oversized message gets ERR naming the limit", async () => {
  const w = new Worker({ name: "w" });
  const reply = decode(await w.handle(new Uint8Array((1 << 20) + 1)));
  assert.equal(reply.type, "ERR");
  assert.match(reply.data.error!.desc, /over the 1048576-byte limit/);
});

Deno.test("1,000 random and mutated byte strings each get ERR; the worker still answers CONNECT", async () => {
  const server = await RepServer.bind("127.0.0.1:0");
  const worker = new Worker({ name: server.addr });
  const stop = new AbortController();
  const serving = worker.serve(server, stop.signal);
  const client = new ReqClient(server.addr, { timeoutMs: 2000, retries: 0 });
  const inputs = fuzzInputs(1000, 7);
  let errs = 0;
  for (const [i, input] of inputs.entries()) {
    const reply = decode(await client.request(input));
    assert.equal(reply.type, "ERR", `input ${i} got ${reply.type}`);
    assert.ok(reply.data.error!.desc.length > 0);
    errs++;
  }
  assert.equal(errs, 1000);
  const ack = decode(await client.request(encode(connect())));
  assert.equal(ack.type, "ACK");
  client.close();
  stop.abort();
  await serving;
  server.close();
});

Deno.test("a COMMAND that is not allowed gets ERR naming the field and starts nothing", async () => {
  const w = new Worker({ name: "127.0.0.1:9101" });
  const bad = [
    emptyCommand({ flag: "NONE", rate: 1000, dur: 1000 }),
    emptyCommand({ flag: "CHILD", rate: 0, dur: 1000 }),
    emptyCommand({
      flag: "PARENT",
      layer: 1,
      rate: 1000,
      dur: 1000,
      addrs: ["$(touch /tmp/pwned):1"],
    }),
  ];
  for (const command of bad) {
    const req: Message = {
      id: 1,
      ts: 1,
      type: "COMMAND",
      data: { src: "m", dst: "127.0.0.1:9101", command },
    };
    const reply = decode(await w.handle(encode(req)));
    assert.equal(reply.type, "ERR");
    assert.match(reply.data.error!.desc, /^Field "(flag|rate|addrs\[0\])"/);
  }
  assert.equal(w.jobs.running().length, 0);
  assert.equal(w.jobs.get(`${w.jobs.incarnation}.0`), undefined);
  await w.close();
});

Deno.test("probe flags are built from typed fields only: the label never reaches them", () => {
  const cmd = emptyCommand({
    flag: "PROXY",
    instr: "$(rm -rf /) ; --emulate delay=1s",
    layer: 1,
    rate: 1000,
    dur: 2000,
    warmup: 500,
    record: true,
    addrs: ["127.0.0.1:9102"],
  });
  const args = probeArgs("proxy", cmd, {
    bindHost: "127.0.0.1",
    to: ["127.0.0.1:40001"],
    emulate: "",
    timeoutMs: 9000,
    io: "native",
    timestamps: "user",
  });
  assert.deepEqual(args, [
    "--bind",
    "127.0.0.1:0",
    "--to",
    "127.0.0.1:40001",
    "--duration",
    "2.5",
    "--timeout",
    "9",
    "--record",
    "--io",
    "native",
    "--timestamps",
    "user",
  ]);
});

/** A REPORT (or STOP) naming job `id`. */
const ask = (type: "REPORT" | "STOP", id: string): Message => ({
  ...FIXTURES.report!,
  type,
  data: {
    ...FIXTURES.report!.data,
    report: { job: emptyJob({ id }), complete: false },
  },
});

Deno.test("every worker process has its own random incarnation, in its CONNECT hello", async () => {
  const [a, b] = [new Worker({ name: "w" }), new Worker({ name: "w" })];
  const hello = async (w: Worker) =>
    decode(await w.handle(encode(connect()))).data.hello!.incarnation;
  const [ia, ib] = [await hello(a), await hello(b)];
  assert.match(ia, /^[0-9a-f]{12}$/);
  assert.notEqual(ia, ib);
  assert.equal(ia, a.jobs.incarnation);
});

Deno.test("a worker's CONNECT hello carries its host's boot id, none when it fakes a clock offset", async () => {
  const w = new Worker({ name: "w" });
  const hello = decode(await w.handle(encode(connect()))).data.hello!;
  assert.equal(hello.bootId, readBootId());
  if (Deno.build.os === "linux") {
    assert.equal(hello.bootId, Deno.readTextFileSync(BOOT_ID_FILE).trim());
    assert.match(hello.bootId!, /^[0-9a-f-]{36}$/);
  }
  const skewed = new Worker({ name: "w", emulate: "offset=300us" });
  const other = decode(await skewed.handle(encode(connect()))).data.hello!;
  assert.equal(
    other.bootId,
    "",
    "a faked clock offset is not the host's clock",
  );
});

Deno.test("REPORT and STOP for a job of another incarnation get a typed ERR: the worker restarted", async () => {
  const w = new Worker({ name: "w" });
  for (const type of ["REPORT", "STOP"] as const) {
    // The id a previous process of this worker gave out.
    const reply = decode(await w.handle(encode(ask(type, "0123456789ab.0"))));
    assert.equal(reply.type, "ERR");
    assert.equal(reply.data.error!.code, "OTHER_INCARNATION");
    assert.match(reply.data.error!.desc, /restarted/);
  }
});

Deno.test("REPORT for an unknown job of this incarnation gets ERR naming it", async () => {
  const w = new Worker({ name: "w" });
  const id = `${w.jobs.incarnation}.5`;
  const reply = decode(await w.handle(encode(ask("REPORT", id))));
  assert.equal(reply.type, "ERR");
  assert.equal(reply.data.error!.code, "NO_SUCH_JOB");
  assert.match(reply.data.error!.desc, new RegExp(`No job "${id}"`));
});

/**
 * A fake worker below: answers every request with ACK and a CHILD job whose
 * probe address is `probeAddr`; records every request it got.
 */
async function fakeBelow(probeAddr: string) {
  const server = await RepServer.bind("127.0.0.1:0");
  const seen: Message[] = [];
  const stop = new AbortController();
  const job = emptyJob({
    id: "0123456789ab.0",
    flag: "CHILD",
    addr: probeAddr,
    params: [1000, 1000, 0, 0, 0],
  });
  const served = server.serve((bytes) => {
    const m = decode(bytes);
    seen.push(m);
    return Promise.resolve(encode({
      id: m.id,
      ts: m.ts,
      type: "ACK",
      data: {
        src: server.addr,
        dst: m.data.src,
        report: { job, complete: m.type === "STOP" },
      },
    }));
  }, stop.signal);
  return {
    addr: server.addr,
    seen,
    close: async () => {
      stop.abort();
      await served;
      server.close();
    },
  };
}

const parentCommand = (addr: string): Message => ({
  id: 1,
  ts: 1,
  type: "COMMAND",
  data: {
    src: "m",
    dst: "127.0.0.1:9101",
    command: emptyCommand({
      flag: "PARENT",
      layer: 1,
      rate: 1000,
      dur: 1000,
      addrs: [addr],
    }),
  },
});

Deno.test("a relayed probe address that is not HOST:PORT gets ERR, starts nothing, and the job below is stopped", async () => {
  for (const bad of ["-x:1", "$(reboot):1", "127.0.0.1:0", "a b:1"]) {
    const below = await fakeBelow(bad);
    const w = new Worker({ name: "127.0.0.1:9101", relayTimeoutMs: 2000 });
    try {
      const ofRun = await joinRun(w);
      const reply = decode(
        await w.handle(encode(ofRun(parentCommand(below.addr)))),
      );
      assert.equal(reply.type, "ERR", bad);
      assert.match(reply.data.error!.desc, /invalid probe address/);
      assert.equal(reply.data.error!.addr, below.addr);
      assert.equal(w.jobs.running().length, 0);
      assert.deepEqual(below.seen.map((m) => m.type), ["COMMAND", "STOP"]);
      assert.equal(below.seen[1]!.data.report!.job.id, "0123456789ab.0");
    } finally {
      await w.close();
      await below.close();
    }
  }
});

Deno.test("a probe that fails to start after its relays stops the jobs already started below it", async () => {
  const below = await fakeBelow("127.0.0.1:40001");
  const w = new Worker({ name: "127.0.0.1:9101", relayTimeoutMs: 2000 });
  w.jobs.start = () => Promise.reject(new Error("The parent probe exited"));
  try {
    const ofRun = await joinRun(w);
    const reply = decode(
      await w.handle(encode(ofRun(parentCommand(below.addr)))),
    );
    assert.equal(reply.type, "ERR");
    assert.match(reply.data.error!.desc, /The parent probe exited/);
    assert.deepEqual(below.seen.map((m) => m.type), ["COMMAND", "STOP"]);
    assert.equal(below.seen[1]!.data.report!.job.id, "0123456789ab.0");
  } finally {
    await w.close();
    await below.close();
  }
});

Deno.test("a parent probe sends from the worker's probe host; from a wildcard host it takes the probe's own wildcard", () => {
  const cmd = emptyCommand({
    flag: "PARENT",
    layer: 1,
    rate: 1000,
    dur: 2000,
    warmup: 0,
    addrs: ["198.18.7.3:9000"],
  });
  const args = (bindHost: string) =>
    probeArgs("parent", cmd, {
      bindHost,
      to: ["198.18.7.3:40001"],
      emulate: "",
      timeoutMs: 9000,
      io: "deno",
      timestamps: "user",
    });
  assert.deepEqual(args("198.18.7.2").slice(0, 4), [
    "--bind",
    "198.18.7.2:0",
    "--to",
    "198.18.7.3:40001",
  ]);
  assert.deepEqual(args("fd00::2").slice(0, 2), ["--bind", "[fd00::2]:0"]);
  for (const wildcard of ["0.0.0.0", "::"]) {
    assert.equal(args(wildcard).includes("--bind"), false, wildcard);
    assert.equal(args(wildcard)[0], "--to");
  }
});

Deno.test("a leaf of an MCAST evaluation writes its per-message log in the worker's private directory; close removes it", async () => {
  const w = new Worker({ name: "127.0.0.1:9101" });
  const command = (record: boolean) =>
    encode({
      id: record ? 1 : 2,
      ts: 1,
      type: "COMMAND",
      data: {
        src: "m",
        dst: "127.0.0.1:9101",
        // rate 10 pps, 0.5 s warm-up, 1 s measured: seqs 0-4 WARMUP, 5-14.
        command: emptyCommand({
          flag: "CHILD",
          rate: 10,
          dur: 1000,
          warmup: 500,
          timeout: 20_000,
          record,
        }),
      },
    });
  try {
    const reply = decode(await w.handle(command(true)));
    assert.equal(reply.type, "ACK", reply.data.error?.desc ?? "");
    const job = reply.data.report!.job;
    const rec = w.jobs.get(job.id)!;
    const path = rec.messagesPath!;
    const dir = path.slice(0, path.lastIndexOf("/"));
    assert.equal(Deno.statSync(dir).mode! & 0o777, 0o700);
    await sendCrafted(job.addr, [
      ...[0, 1, 2, 3, 4].map((seq) => ({ seq, flags: FLAG_WARMUP })),
      ...[5, 6, 7, 9, 10, 11, 12, 13, 14].map((seq) => ({ seq })), // 8 lost
      { seq: 15, flags: FLAG_END },
    ]);
    await rec.done;
    assert.equal(rec.job.ret, 0, rec.job.output.join("\n"));
    const log = decodeMessageLog(Deno.readFileSync(path));
    assert.equal(log.firstSeq, 5);
    assert.equal(log.delaysNs.length, 10);
    assert.deepEqual(
      [...log.delaysNs].map((d, i) => d === NOT_RECEIVED ? i + 5 : -1)
        .filter((s) => s >= 0),
      [8],
    );
    // A job that does not record (a child of a tree's stage) keeps no log.
    const other = decode(await w.handle(command(false))).data.report!.job;
    assert.equal(w.jobs.get(other.id)!.messagesPath, undefined);
    await w.close();
    assert.throws(() => Deno.statSync(dir), Deno.errors.NotFound);
  } finally {
    await w.close();
  }
});

Deno.test("only a recording CHILD keeps a message log; its flags name the path and the stream's rate and warm-up", () => {
  const cmd = (flag: "CHILD" | "PROXY", record: boolean) =>
    emptyCommand({ flag, rate: 500, dur: 2000, warmup: 250, record });
  assert.equal(logsMessages("child", cmd("CHILD", true)), true);
  assert.equal(logsMessages("child", cmd("CHILD", false)), false);
  assert.equal(logsMessages("proxy", cmd("PROXY", true)), false);
  const args = probeArgs("child", cmd("CHILD", true), {
    bindHost: "127.0.0.1",
    to: [],
    emulate: "",
    timeoutMs: 9000,
    io: "deno",
    timestamps: "user",
    messagesPath: "/tmp/treecast-worker-x/0.tcml",
  });
  assert.deepEqual(args.slice(args.indexOf("--messages")), [
    "--messages",
    "/tmp/treecast-worker-x/0.tcml",
    "--rate",
    "500",
    "--warmup",
    "0.25",
  ]);
  assert.equal(
    args.slice(0, 4).join(" "),
    "--bind 127.0.0.1:0 --duration 2.25",
  );
});

/** `w`'s jobs never start; each start's kind and probe flags are recorded. */
function refuseStarts(w: Worker): { kind: string; args: string[] }[] {
  const started: { kind: string; args: string[] }[] = [];
  w.jobs.start = (s) => {
    started.push({ kind: s.kind, args: s.args });
    return Promise.reject(new Error("not started in this test"));
  };
  return started;
}

Deno.test("a relayed CHILD or PROXY command names the relaying worker's probe host as its stream's sender", async () => {
  const below = await fakeBelow("127.0.0.1:40001");
  const mcast = (addr: string): Message => {
    const m = parentCommand(addr);
    const sub = { addr, children: [{ addr: "127.0.0.1:9", children: [] }] };
    return {
      ...m,
      id: 2,
      data: {
        ...m.data,
        command: {
          ...m.data.command!,
          flag: "MCAST",
          layer: 2,
          subtrees: [sub],
        },
      },
    };
  };
  const workers = [
    new Worker({ name: "127.0.0.1:9101", relayTimeoutMs: 2000 }),
    // Probes on a wildcard: the host the worker is advertised at.
    new Worker({
      name: "198.18.0.9:9101",
      bindHost: "0.0.0.0",
      advertise: "198.18.0.9",
      relayTimeoutMs: 2000,
    }),
  ];
  try {
    for (
      const [w, host] of [[workers[0]!, "127.0.0.1"], [
        workers[1]!,
        "198.18.0.9",
      ]] as const
    ) {
      refuseStarts(w);
      const ofRun = await joinRun(w);
      below.seen.length = 0;
      await w.handle(encode(ofRun(parentCommand(below.addr)))); // a stage
      await w.handle(encode(ofRun(mcast(below.addr)))); // an evaluation
      const relayed = below.seen.filter((m) => m.type === "COMMAND")
        .map((m) => [m.data.command!.flag, m.data.command!.senders]);
      assert.deepEqual(relayed, [["CHILD", [host]], ["PROXY", [host]]]);
    }
  } finally {
    for (const w of workers) await w.close();
    await below.close();
  }
});

Deno.test("a CHILD or PROXY job's probe takes its stream only from the command's senders (--from)", async () => {
  const below = await fakeBelow("127.0.0.1:40001");
  const w = new Worker({ name: "127.0.0.1:9101", relayTimeoutMs: 2000 });
  const started = refuseStarts(w);
  const command = (id: number, fields: Partial<Command>): Message => ({
    id,
    ts: 1,
    type: "COMMAND",
    data: {
      src: "127.0.0.1:9100",
      dst: "127.0.0.1:9101",
      command: emptyCommand({ rate: 1000, dur: 1000, ...fields }),
    },
  });
  try {
    const senders = ["198.18.0.1", "fd00::1"];
    await w.handle(encode(command(1, { flag: "CHILD", senders })));
    const ofRun = await joinRun(w);
    await w.handle(encode(ofRun(command(2, {
      flag: "PROXY",
      layer: 1,
      addrs: [below.addr],
      senders,
    }))));
    await w.handle(encode(command(3, { flag: "CHILD" }))); // no sender: any
    const from = started.map((s) => {
      const i = s.args.indexOf("--from");
      return [s.kind, i < 0 ? null : s.args[i + 1]];
    });
    assert.deepEqual(from, [
      ["child", "198.18.0.1,fd00::1"],
      ["proxy", "198.18.0.1,fd00::1"],
      ["child", null],
    ]);
  } finally {
    await w.close();
    await below.close();
  }
});
