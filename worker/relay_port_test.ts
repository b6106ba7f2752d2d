import assert from "node:assert/strict";
import { decode, emptyCommand, emptyJob, encode } from "../proto/codec.ts";
import type { Message, MsgType } from "../proto/codec.ts";
import { FIXTURES } from "../proto/_fixtures.ts";
import { type Port, relayBind } from "./relay_port.ts";
import { UsageError } from "../core/cli.ts";
import { Worker } from "./worker.ts";
import { fakeProbes } from "./_testing.ts";

/** A worker with a relay port and fake probes, asked on either port. */
function relayWorker() {
  const w = new Worker({
    name: "127.0.0.1:9000",
    relayPort: 9001,
    probes: fakeProbes([]),
  });
  let id = 0;
  const ask = async (
    port: Port,
    type: MsgType,
    payload: Message["data"],
    msgId = id++,
  ): Promise<Message> =>
    decode(
      await w.handle(
        encode({ id: msgId, ts: 1, type, data: { ...payload } }),
        port,
      ),
    );
  const data = { src: "127.0.0.1:7000", dst: "127.0.0.1:9000" };
  const child = async (port: Port) => {
    const reply = await ask(port, "COMMAND", {
      ...data,
      command: emptyCommand({ flag: "CHILD", rate: 100, dur: 60_000 }),
    });
    assert.equal(reply.type, "ACK", reply.data.error?.desc ?? "");
    return reply.data.report!.job.id;
  };
  const stop = (port: Port, jobId: string, msgId?: number) =>
    ask(port, "STOP", {
      ...data,
      report: { job: emptyJob({ id: jobId }), complete: false },
    }, msgId);
  return { w, ask, data, child, stop };
}

Deno.test("the relay port stops only jobs relayed COMMANDs started; the control port stops any; CONNECT and STOP-all are refused on the relay port", async () => {
  const { w, ask, data, child, stop } = relayWorker();
  try {
    const hello = FIXTURES.connect!.data.hello!;
    const ok = await ask("control", "CONNECT", { ...data, hello });
    assert.equal(ok.data.hello?.relayPort, 9001);
    const no = await ask("relay", "CONNECT", { ...data, hello });
    assert.equal(no.type, "ERR");
    assert.match(no.data.error!.desc, /^CONNECT is refused on the relay port/);
    const managers = await child("control");
    const relayed = await child("relay");
    assert.deepEqual(
      [w.jobs.get(managers)!.relayed, w.jobs.get(relayed)!.relayed],
      [false, true],
    );
    // A manager's job: ERR on the relay port, and it keeps running. The
    // same request on the control port is no retry of it: it stops the job.
    const refused = await stop("relay", managers, 50);
    assert.equal(refused.type, "ERR");
    assert.equal(
      refused.data.error!.desc,
      `Job "${managers}" was started by a manager, not by a relayed ` +
        "COMMAND: the relay port stops only relayed jobs",
    );
    assert.equal(w.jobs.get(managers)!.job.end, false);
    const all = await stop("relay", "");
    assert.match(all.data.error!.desc, /^STOP of every job is refused/);
    assert.equal(w.jobs.running().length, 2);
    assert.equal((await stop("relay", relayed)).type, "ACK");
    await w.jobs.get(relayed)!.done;
    assert.equal(w.jobs.get(managers)!.job.end, false);
    assert.equal((await stop("control", managers, 50)).type, "ACK");
    await w.jobs.get(managers)!.done;
  } finally {
    await w.close();
  }
});

Deno.test("a relayed job's id ends in 64 random bits: a holder of the relay key who only guesses the sequence number stops nothing", async () => {
  const { w, child, stop } = relayWorker();
  try {
    const relayed = await child("relay");
    const m = relayed.match(/^([0-9a-f]{12})\.(\d+)-([0-9a-f]{16})$/);
    assert.ok(m, relayed);
    assert.notEqual(relayed, await child("relay"));
    const guess = await stop("relay", `${m[1]}.${m[2]}`);
    assert.equal(guess.type, "ERR");
    assert.match(guess.data.error!.desc, /^No job ".*" on this worker/);
    assert.equal(w.jobs.get(relayed)!.job.end, false);
    assert.equal((await stop("relay", relayed)).type, "ACK");
    await w.jobs.get(relayed)!.done;
    // A manager's job keeps the short id: the relay port refuses it anyway.
    assert.match(await child("control"), /^[0-9a-f]{12}\.\d+$/);
  } finally {
    await w.close();
  }
});

Deno.test("a worker without a relay port says none in its hello", async () => {
  const w = new Worker({ name: "127.0.0.1:9000" });
  const reply = decode(await w.handle(encode(FIXTURES.connect!)));
  assert.equal(reply.type, "ACK");
  assert.equal(reply.data.hello?.relayPort, undefined);
  await w.close();
});

Deno.test("the relay port binds at --relay-bind, else beside --bind (port + 1, a free port for 0); no port above 65535 is a usage error", () => {
  const bind = (port: number) => ({ hostname: "0.0.0.0", port });
  assert.deepEqual(relayBind(bind(9000), undefined), bind(9001));
  assert.deepEqual(relayBind(bind(0), undefined), bind(0));
  assert.deepEqual(relayBind(bind(9000), "10.0.0.5:7000"), {
    hostname: "10.0.0.5",
    port: 7000,
  });
  assert.throws(
    () => relayBind(bind(65535), undefined),
    (e) => e instanceof UsageError && /--relay-bind HOST:PORT/.test(e.message),
  );
  assert.throws(
    () => relayBind(bind(9000), "nope"),
    (e) => e instanceof UsageError && /^Flag "--relay-bind"/.test(e.message),
  );
});
