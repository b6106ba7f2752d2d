import assert from "node:assert/strict";
import type { Budget } from "../core/budget.ts";
import { RepServer, ReqClient } from "../core/transport.ts";
import {
  type Command,
  decode,
  emptyCommand,
  encode,
  type Message,
} from "../proto/codec.ts";
import { FIXTURES } from "../proto/_fixtures.ts";
import { Admission } from "./admit.ts";
import { Worker } from "./worker.ts";

/** A worker served on a real REP socket, with a small budget. */
async function served(budget: Budget) {
  const server = await RepServer.bind("127.0.0.1:0");
  // A relay would wait far longer than the ERRs are allowed to take.
  const worker = new Worker({
    name: server.addr,
    budget,
    relayTimeoutMs: 10_000,
  });
  const stop = new AbortController();
  const serving = worker.serve(server, stop.signal);
  let n = 0;
  const ask = async (
    type: "COMMAND" | "CONNECT",
    command: Command,
    client: ReqClient,
  ): Promise<Message> =>
    decode(
      await client.request(encode({
        id: ++n,
        ts: n,
        type,
        data: type === "COMMAND"
          ? { src: "m", dst: server.addr, command }
          : FIXTURES.connect!.data,
      })),
    );
  return {
    worker,
    addr: server.addr,
    ask,
    close: async () => {
      stop.abort();
      await serving;
      server.close();
      await worker.close();
    },
  };
}

const SMALL: Budget = {
  pps: 1000,
  dests: 2,
  size: 100,
  durationMs: 5000,
  jobs: 2,
};

/**
 * Addresses no worker listens at, on loopback (a test sends nothing beyond
 * it); none is in the run, so nothing is ever relayed to them.
 */
const NOWHERE = ["127.0.0.1:9", "127.0.0.1:10", "127.0.0.1:11"];

const parent = (f: Partial<Command>) =>
  emptyCommand({
    flag: "PARENT",
    layer: 1,
    rate: 100,
    dur: 1000,
    addrs: NOWHERE.slice(0, 2),
    ...f,
  });

Deno.test("a COMMAND over each budget limit gets ERR naming the limit and the value within 2 s, and starts nothing", async () => {
  const w = await served(SMALL);
  const client = new ReqClient(w.addr, { timeoutMs: 2000, retries: 0 });
  const cases: [Command, RegExp][] = [
    [
      parent({ rate: 1000 }),
      /^budget: rate x destinations 2000 pps exceeds --max-pps 1000 pps$/,
    ],
    [
      parent({ addrs: NOWHERE }),
      /^budget: destinations 3 exceeds --max-dests 2$/,
    ],
    [
      parent({ size: 1000 }),
      /^budget: datagram size 1000 bytes exceeds --max-size 100 bytes$/,
    ],
    [
      parent({ dur: 4500, warmup: 1000 }),
      /^budget: warm-up \+ duration 5.5 s exceeds --max-duration 5 s$/,
    ],
    [
      // A short stream that may wait an hour for its start holds a job slot.
      parent({ dur: 1000, timeout: 3_600_000 }),
      /^budget: timeout 3600 s exceeds --max-duration 5 s \+ a grace of 60 s$/,
    ],
  ];
  try {
    for (const [command, want] of cases) {
      const reply = await w.ask("COMMAND", command, client);
      assert.equal(reply.type, "ERR");
      assert.match(reply.data.error!.desc, want);
    }
    assert.equal(w.worker.jobs.running().length, 0);
    assert.equal(
      w.worker.jobs.get(`${w.worker.jobs.incarnation}.0`),
      undefined,
    );
  } finally {
    delete (w.worker.jobs as { running?: unknown }).running;
    client.close();
    await w.close();
  }
});

Deno.test("of 100 COMMANDs at once, those beyond --max-jobs get ERR naming it and the worker keeps serving", async () => {
  const w = await served(SMALL);
  const clients = Array.from(
    { length: 100 },
    () => new ReqClient(w.addr, { timeoutMs: 60_000, retries: 0 }),
  );
  const child = emptyCommand({ flag: "CHILD", rate: 100, dur: 4000 });
  try {
    const replies = await Promise.all(
      clients.map((c) => w.ask("COMMAND", child, c)),
    );
    const acks = replies.filter((r) => r.type === "ACK");
    const errs = replies.filter((r) => r.type === "ERR");
    assert.equal(acks.length, SMALL.jobs);
    assert.equal(errs.length, 100 - SMALL.jobs);
    for (const e of errs) {
      assert.equal(
        e.data.error!.desc,
        "budget: jobs at once 3 exceeds --max-jobs 2",
      );
    }
    assert.equal(w.worker.jobs.running().length, SMALL.jobs);
    const hello = await w.ask("CONNECT", child, clients[0]!);
    assert.equal(hello.type, "ACK");
  } finally {
    for (const c of clients) c.close();
    await w.close();
  }
});

Deno.test("packets per second add up over a worker's running jobs", async () => {
  const w = await served({ ...SMALL, dests: 4, jobs: 4 });
  const client = new ReqClient(w.addr, { timeoutMs: 2000, retries: 0 });
  try {
    // A running job sending 800 pps (its record, as the job table keeps it).
    w.worker.jobs.running = () =>
      [{ job: { params: [400], deps: [{}, {}] } }] as never;
    const reply = await w.ask("COMMAND", parent({ rate: 150 }), client);
    assert.equal(reply.type, "ERR");
    assert.equal(
      reply.data.error!.desc,
      "budget: rate x destinations 300 pps + running jobs' 800 pps = 1100 pps exceeds --max-pps 1000 pps",
    );
  } finally {
    client.close();
    await w.close();
  }
});

Deno.test("a subtree naming the worker itself, or one worker twice, gets ERR at once and starts nothing", async () => {
  const w = await served({ ...SMALL, dests: 4, pps: 100_000 });
  const client = new ReqClient(w.addr, { timeoutMs: 2000, retries: 0 });
  const mcast = (deep: string) =>
    emptyCommand({
      flag: "MCAST",
      layer: 2,
      rate: 100,
      dur: 1000,
      addrs: NOWHERE.slice(0, 2),
      subtrees: [
        { addr: NOWHERE[0]!, children: [{ addr: deep, children: [] }] },
        { addr: NOWHERE[1]!, children: [] },
      ],
    });
  try {
    const self = await w.ask("COMMAND", mcast(w.addr), client);
    assert.equal(self.type, "ERR");
    assert.match(
      self.data.error!.desc,
      /^Field "subtrees\[0\]\.children\[0\]\.addr" names ".*" again: it is this worker's own address/,
    );
    const twice = await w.ask("COMMAND", mcast(NOWHERE[1]!), client);
    assert.equal(twice.type, "ERR");
    assert.match(
      twice.data.error!.desc,
      /^Field "subtrees\[1\]\.addr" names "127\.0\.0\.1:10" again: it is subtrees\[0\]\.children\[0\]\.addr/,
    );
    assert.equal(w.worker.jobs.running().length, 0);
  } finally {
    client.close();
    await w.close();
  }
});

Deno.test("COMMANDs being started count against the budget until released", () => {
  const a = new Admission({ ...SMALL, dests: 4, jobs: 2 });
  const release = a.admit(parent({ rate: 300 }), []); // 600 pps, starting
  assert.throws(
    () => a.admit(parent({ rate: 250 }), []),
    /^Error: budget: rate x destinations 500 pps \+ running jobs' 600 pps = 1100 pps/,
  );
  const child = emptyCommand({ flag: "CHILD", rate: 100, dur: 1000 });
  const releaseChild = a.admit(child, []);
  assert.throws(
    () => a.admit(child, []),
    /jobs at once 3 exceeds --max-jobs 2/,
  );
  release();
  release(); // twice: once only
  releaseChild();
  const again = a.admit(parent({ rate: 300 }), []);
  assert.throws(() => a.admit(parent({ rate: 250 }), []), /1100 pps/);
  again();
  a.admit(parent({ rate: 500 }), [])(); // the whole budget, once free
});
