import assert from "node:assert/strict";
import { RemoteError } from "../core/node.ts";
import { newRun, rosterTags } from "../core/roster.ts";
import { ReqClient } from "../core/transport.ts";
import { Manager } from "../manager/manager.ts";
import { decode, emptyCommand, encode } from "../proto/codec.ts";
import { FIXTURES } from "../proto/_fixtures.ts";
import { Rosters } from "./roster.ts";
import { served } from "./_testing.ts";

/**
 * An address no worker listens at, on loopback (a test sends nothing
 * beyond it); it is not in the run, so nothing is ever relayed to it.
 */
const NOWHERE = "127.0.0.1:9";

Deno.test("a COMMAND naming an address the run did not connect gets ERR naming it within 2 s and starts nothing", async () => {
  const [a, b] = [await served(), await served()];
  // No retry: an answer later than 2 s is a TransportError, not an ERR.
  const m = new Manager({ timeoutMs: 2000, retries: 0 });
  try {
    const connected = await m.connect([a.addr, b.addr]);
    assert.deepEqual(connected.map((c) => c.status), ["ok", "ok"]);
    const stage = emptyCommand({
      flag: "PARENT",
      layer: 1,
      rate: 100,
      dur: 1000,
      addrs: [b.addr, NOWHERE],
    });
    await assert.rejects(
      m.command(a.addr, stage),
      (e) =>
        e instanceof RemoteError &&
        /Field "addrs\[1\]" names "127\.0\.0\.1:9", which is not a worker the manager admitted/
          .test(e.message),
    );
    const evaluation = emptyCommand({
      flag: "MCAST",
      layer: 2,
      rate: 100,
      dur: 1000,
      addrs: [b.addr],
      subtrees: [{
        addr: b.addr,
        children: [{ addr: NOWHERE, children: [] }],
      }],
    });
    await assert.rejects(
      m.command(a.addr, evaluation),
      /Field "subtrees\[0\]\.children\[0\]\.addr" names "127\.0\.0\.1:9"/,
    );
    // Nothing was relayed to b, nothing started anywhere.
    assert.deepEqual([a.kinds, b.kinds], [[], []]);
  } finally {
    m.close();
    await a.close();
    await b.close();
  }
});

Deno.test("a COMMAND between workers the run connected is relayed with their tags and starts", async () => {
  const [a, b, c] = [await served(), await served(), await served()];
  const m = new Manager({ timeoutMs: 5000, retries: 0 });
  try {
    await m.connect([a.addr, b.addr, c.addr]);
    const job = await m.command(
      a.addr,
      emptyCommand({
        flag: "MCAST",
        layer: 2,
        rate: 100,
        dur: 60_000,
        addrs: [b.addr],
        subtrees: [{
          addr: b.addr,
          children: [{ addr: c.addr, children: [] }],
        }],
      }),
    );
    assert.equal(job.deps[0]!.owner, b.addr);
    assert.equal(job.deps[0]!.deps[0]!.owner, c.addr);
    assert.deepEqual([a.kinds, b.kinds, c.kinds], [["parent"], ["proxy"], [
      "child",
    ]]);
  } finally {
    m.close();
    await a.close();
    await b.close();
    await c.close();
  }
});

Deno.test("a COMMAND naming workers without a run, or of a run that never CONNECTed the worker, gets ERR naming run", async () => {
  const a = await served();
  const client = new ReqClient(a.addr, { timeoutMs: 2000, retries: 0 });
  const stage = emptyCommand({
    flag: "PARENT",
    layer: 1,
    rate: 100,
    dur: 1000,
    addrs: [NOWHERE],
  });
  const { run, key } = newRun();
  try {
    // A hello with a run (another manager's) teaches a that run only.
    await client.request(encode(FIXTURES.connect!));
    for (
      const command of [stage, {
        ...stage,
        run,
        rosterTags: rosterTags(key, [NOWHERE]),
      }]
    ) {
      const reply = decode(
        await client.request(encode({
          id: 2,
          ts: Date.now(),
          type: "COMMAND",
          data: { src: "m", dst: a.addr, command },
        })),
      );
      assert.equal(reply.type, "ERR");
      assert.match(reply.data.error!.desc, /^Field "run" /);
    }
    assert.deepEqual(a.kinds, []);
  } finally {
    client.close();
    await a.close();
  }
});

Deno.test("a run reaches a worker named by a host name at the address the name resolved to", async () => {
  const rosters = new Rosters();
  const { run, key } = newRun();
  rosters.connect({ ...FIXTURES.connect!.data.hello!, run, rosterKey: key });
  const cmd = emptyCommand({
    flag: "PARENT",
    layer: 1,
    addrs: ["localhost:9000", "127.0.0.2:9000"],
    run,
    rosterTags: rosterTags(key, ["localhost:9000", "127.0.0.2:9000"]),
  });
  const targets = await rosters.pin(cmd);
  assert.deepEqual([...targets], [
    ["localhost:9000", "127.0.0.1:9000"],
    ["127.0.0.2:9000", "127.0.0.2:9000"],
  ]);
});

Deno.test("a run reaches each worker at its relay port on the admitted host; under CURVE a worker without one is refused, naming the field", async () => {
  const rosters = new Rosters();
  const { run, key } = newRun();
  rosters.connect({ ...FIXTURES.connect!.data.hello!, run, rosterKey: key });
  const addrs = ["localhost:9000", "127.0.0.2:9000"];
  const cmd = (relayPorts: number[]) =>
    emptyCommand({
      flag: "PARENT",
      layer: 1,
      addrs,
      run,
      rosterTags: rosterTags(key, addrs),
      relayPorts,
    });
  assert.deepEqual([...await rosters.pin(cmd([9001, 7000]))], [
    ["localhost:9000", "127.0.0.1:9001"],
    ["127.0.0.2:9000", "127.0.0.2:7000"],
  ]);
  // Without CURVE: no relay ports, the control addresses.
  assert.deepEqual([...await rosters.pin(cmd([]))], [
    ["localhost:9000", "127.0.0.1:9000"],
    ["127.0.0.2:9000", "127.0.0.2:9000"],
  ]);
  await assert.rejects(
    rosters.pin(cmd([9001])),
    /Field "relayPorts" has 1 ports for the 2 workers the command names/,
  );
  for (const ports of [[], [9001, 0]]) {
    await assert.rejects(
      rosters.pin(cmd(ports), { relayPorts: true }),
      /Field "relayPorts" gives no relay port for "(localhost|127\.0\.0\.2):9000" \(addrs\[[01]\]\): under CURVE/,
    );
  }
});
