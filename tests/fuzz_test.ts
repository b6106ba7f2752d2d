/** 10,000 bad messages against a real worker process: ERR each time, bounded memory. */
import assert from "node:assert/strict";
import { ReqClient } from "../core/transport.ts";
import { decode, encode } from "../proto/codec.ts";
import { FIXTURES } from "../proto/_fixtures.ts";
import { fuzzInputs } from "./helpers/fuzz.ts";
import { jobsOf } from "./helpers/proc.ts";
import { startReady } from "./helpers/run.ts";

const rssKb = (pid: number) =>
  Number(
    Deno.readTextFileSync(`/proc/${pid}/status`).match(/VmRSS:\s+(\d+)/)![1],
  );

Deno.test("10,000 random and mutated protobuf messages: ERR each, the worker serves on, memory bounded", async () => {
  const w = await startReady(["worker", "--bind", "127.0.0.1:0"]);
  const client = new ReqClient(w.addr, { timeoutMs: 3000, retries: 0 });
  try {
    const inputs = fuzzInputs(10_000, 42);
    const rss: number[] = [];
    for (const [i, input] of inputs.entries()) {
      const reply = decode(await client.request(input));
      assert.equal(reply.type, "ERR", `input ${i} got ${reply.type}`);
      if (i % 2000 === 1999) rss.push(rssKb(w.child.pid));
    }
    // Oversized: refused by the transport's size limit (the peer is dropped,
    // no reply), and the worker still serves a new connection afterwards.
    const big = new ReqClient(w.addr, { timeoutMs: 300, retries: 0 });
    await assert.rejects(big.request(new Uint8Array(2 << 20)));
    big.close();
    const ack = decode(await client.request(encode(FIXTURES.connect!)));
    assert.equal(ack.type, "ACK");
    assert.deepEqual(
      jobsOf(w.child.pid),
      [],
      "a fuzz input started a probe",
    );
    const growth = rss[rss.length - 1]! - rss[0]!;
    console.log(`worker RSS after each 2,000 inputs (KiB): ${rss.join(", ")}`);
    assert.ok(growth < 20_000, `RSS grew by ${growth} KiB over 8,000 inputs`);
  } finally {
    client.close();
    await w.stop();
  }
});
