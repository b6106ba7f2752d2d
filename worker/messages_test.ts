import assert from "node:assert/strict";
import { RepServer, ReqClient } from "../core/transport.ts";
import { encodeMessageLog, NOT_RECEIVED } from "../core/message_log.ts";
import { leafPart, partFromWire } from "../core/message_parts.ts";
import { percentileOf } from "../core/_message_testing.ts";
import {
  decode,
  emptyJob,
  encode,
  type Job,
  type Message,
  type PartRequest,
  SCHEMA,
} from "../proto/codec.ts";
import { FIXTURES } from "../proto/_fixtures.ts";
import { JobRecord } from "./jobs.ts";
import type { ProbeRun } from "./warm.ts";
import { jobPart } from "./messages.ts";
import { Worker } from "./worker.ts";

/** A served worker whose job table holds `jobs` (ended, no process behind). */
async function serveWith(
  jobs: (name: string) => JobRecord[],
  relayTimeoutMs = 2000,
) {
  const server = await RepServer.bind("127.0.0.1:0");
  const worker = new Worker({ name: server.addr, relayTimeoutMs });
  const recs = jobs(server.addr);
  worker.jobs.get = (id) => recs.find((r) => r.job.id === id);
  const stop = new AbortController();
  const serving = worker.serve(server, stop.signal);
  return {
    addr: server.addr,
    close: async () => {
      stop.abort();
      await serving;
      server.close();
      await worker.close();
    },
  };
}

/** An ended job with no process behind it (and its log, for a leaf). */
const ended = (job: Partial<Job>, messagesPath?: string) =>
  new JobRecord(
    emptyJob({ end: true, params: [10_000, 300, 0, 0, 0], ...job }),
    {} as ProbeRun,
    Promise.resolve(),
    setTimeout(() => {}, 0),
    messagesPath,
  );

const askPart = (id: string, partRequest: PartRequest): Message => ({
  ...FIXTURES.report!,
  data: {
    ...FIXTURES.report!.data,
    report: { job: emptyJob({ id }), complete: false, partRequest },
  },
});

// A leaf's log: seqs 50..349, every 7th not received.
const DELAYS = Array.from(
  { length: 300 },
  (_, i) => i % 7 === 3 ? NOT_RECEIVED : 20_000 + ((i * 37) % 101) * 10,
);

Deno.test("over ZeroMQ, a REPORT asking part k of a leaf job answers that part of its message log, and a proxy job merges it with a silent child named missing", async () => {
  const path = await Deno.makeTempFile();
  await Deno.writeFile(
    path,
    encodeMessageLog({ firstSeq: 50, delaysNs: Int32Array.from(DELAYS) }),
  );
  const leaf = await serveWith(() => [
    ended(
      { id: "aaaaaaaaaaaa.0", flag: "CHILD", addr: "127.0.0.1:40001" },
      path,
    ),
  ]);
  const dead = await RepServer.bind("127.0.0.1:0"); // bound, never answers
  const proxy = await serveWith(() => [
    ended({
      id: "bbbbbbbbbbbb.0",
      flag: "PROXY",
      params: [10_000, 300, 0, 0, 1],
      deps: [
        emptyJob({
          id: "aaaaaaaaaaaa.0",
          owner: leaf.addr,
          addr: "127.0.0.1:40001",
        }),
        emptyJob({
          id: "cccccccccccc.0",
          owner: dead.addr,
          addr: "127.0.0.1:40002",
        }),
      ],
      peers: [{
        addr: "127.0.0.1:40001",
        offsetUs: 2,
        boundUs: 0.5,
        samples: 3,
      }],
    }),
  ], 300);
  const client = new ReqClient(leaf.addr, { timeoutMs: 5000, retries: 0 });
  const toProxy = new ReqClient(proxy.addr, { timeoutMs: 5000, retries: 0 });
  try {
    const req = {
      index: 1,
      size: 100,
      correct: true,
      window: 10,
      percentile: 90,
    };
    const reply = decode(
      await client.request(encode(askPart("aaaaaaaaaaaa.0", req))),
    );
    assert.equal(reply.type, "ACK");
    const part = partFromWire(reply.data.report!.part!);
    assert.equal(part.firstSeq, 100);
    assert.deepEqual([...part.worstNs], DELAYS.slice(50, 150));
    assert.deepEqual(
      [...part.receivers],
      DELAYS.slice(50, 150).map((d) => d === NOT_RECEIVED ? 0 : 1),
    );
    assert.deepEqual([part.startSeq, part.endSeq, part.leaves], [50, 350, 1]);
    assert.deepEqual(
      [...part.windowMaxNs],
      Array.from({ length: 10 }, (_, w) =>
        percentileOf(
          DELAYS.slice(50 + 10 * w, 60 + 10 * w).filter((d) =>
            d !== NOT_RECEIVED
          ),
          90,
        )),
    );
    const merged = decode(
      await toProxy.request(encode(askPart("bbbbbbbbbbbb.0", req))),
    );
    assert.equal(merged.type, "ACK");
    const up = partFromWire(merged.data.report!.part!);
    assert.deepEqual(up.missing, [dead.addr]);
    assert.equal(up.leaves, 2);
    assert.deepEqual(
      [...up.worstNs],
      [...part.worstNs].map((d) => d === NOT_RECEIVED ? d : d - 2000),
    );
    assert.equal(up.boundNs, 500);
  } finally {
    client.close();
    toProxy.close();
    await leaf.close();
    await proxy.close();
    dead.close();
    await Deno.remove(path);
  }
});

const _raw = (report: Record<string, unknown>) => {
  const T = SCHEMA.lookupType("treecast.Message");
  return T.encode(T.fromObject({ type: 4, data: { src: "m", report } }))
    .finish();
};

Deno.test("a malformed part request or a job without a message log gets ERR naming why, and the worker keeps serving", async () => {
  const w = await serveWith(() => [
    ended({ id: "aaaaaaaaaaaa.0", flag: "CHILD" }),
    ended({ id: "aaaaaaaaaaaa.1", flag: "CHILD", end: false }, "/nonexistent"),
  ]);
  const client = new ReqClient(w.addr, { timeoutMs: 5000, retries: 0 });
  const job = { id: "aaaaaaaaaaaa.0" };
  const ok = { index: 0, size: 100, window: 10, percentile: 97 };
  const cases: [Uint8Array, RegExp][] = [
    [_raw({ job, partRequest: { ...ok, size: 0 } }), /part_request\.size/],
    [_raw({ job, partRequest: { ...ok, size: 40_000 } }), /part_request\.size/],
    [_raw({ job, partRequest: { ...ok, window: 30 } }), /part_request\.window/],
    [_raw({ job, partRequest: { ...ok, percentile: 101 } }), /percentile/],
    [_raw({ job, partRequest: ok }), /keeps no per-message log/],
    [
      _raw({ job: { id: "aaaaaaaaaaaa.1" }, partRequest: ok }),
      /still running/,
    ],
  ];
  try {
    for (const [bytes, want] of cases) {
      const reply = decode(await client.request(bytes));
      assert.equal(reply.type, "ERR");
      assert.match(reply.data.error!.desc, want);
    }
    const ack = decode(await client.request(encode(FIXTURES.connect!)));
    assert.equal(ack.type, "ACK");
  } finally {
    client.close();
    await w.close();
  }
});

Deno.test("a child answering a part outside the one asked (or with another window) counts as missing, never stretching the merge", async () => {
  const rec = ended({
    id: "bbbbbbbbbbbb.0",
    flag: "MCAST",
    deps: [
      emptyJob({ id: "a.0", owner: "far:1", addr: "far:40001" }),
      emptyJob({ id: "b.0", owner: "odd:1", addr: "odd:40001" }),
      emptyJob({ id: "c.0", owner: "good:1", addr: "good:40001" }),
    ],
  });
  const req = {
    index: 2,
    size: 100,
    correct: false,
    window: 10,
    percentile: 97,
  };
  const log = (firstSeq: number) => ({
    firstSeq,
    delaysNs: Int32Array.from({ length: 100 }, () => 1000),
  });
  const extent = { startSeq: 0, endSeq: 4_000_000_000 };
  const part = await jobPart(rec, req, (dep) =>
    Promise.resolve(
      dep.owner === "far:1"
        ? leafPart(log(3_999_000_000), 10, 97, extent)
        : dep.owner === "odd:1"
        ? leafPart(log(200), 20, 97, extent)
        : leafPart(log(200), 10, 97, extent),
    ));
  assert.deepEqual(part.missing, ["far:1", "odd:1"]);
  assert.equal(part.worstNs.length, 100);
  assert.deepEqual([...new Set(part.receivers)], [1]);
});
