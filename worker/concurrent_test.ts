import assert from "node:assert/strict";
import { RemoteError } from "../core/node.ts";
import { RepServer } from "../core/transport.ts";
import { Manager } from "../manager/manager.ts";
import { decode, emptyCommand } from "../proto/codec.ts";
import { fakeProbes, served } from "./_testing.ts";
import { Worker } from "./worker.ts";

/**
 * A worker below (fake probes) that answers CONNECT at once and holds every
 * COMMAND until `release` is called (never, unless told): a relay to it
 * waits. `commanded` resolves when a COMMAND arrived.
 */
async function heldBelow() {
  const server = await RepServer.bind("127.0.0.1:0");
  const kinds: string[] = [];
  const worker = new Worker({ name: server.addr, probes: fakeProbes(kinds) });
  let heard = () => {};
  const commanded = new Promise<void>((r) => (heard = r));
  let release = () => {};
  const released = new Promise<void>((r) => (release = r));
  const stop = new AbortController();
  const closed = new Promise<void>((r) =>
    stop.signal.addEventListener("abort", () => r())
  );
  const serving = server.serve(
    async (bytes) => {
      if (decode(bytes).type === "COMMAND") {
        heard();
        await Promise.race([released, closed]);
        if (stop.signal.aborted) return new Uint8Array();
      }
      return await worker.handle(bytes);
    },
    stop.signal,
    { concurrent: 8 },
  );
  return {
    addr: server.addr,
    worker,
    kinds,
    commanded,
    release,
    close: async () => {
      stop.abort();
      server.close();
      await serving;
      await worker.close();
    },
  };
}

Deno.test("a COMMAND waiting on a slow relay below does not hold up the worker's other requests", async () => {
  const a = await served({ relayTimeoutMs: 3_000 });
  const below = await heldBelow();
  const m = new Manager({ timeoutMs: 30_000, retries: 0 });
  // Another client: one client's requests to a worker go one at a time.
  const other = new Manager({ timeoutMs: 30_000, retries: 0 });
  try {
    await m.connect([a.addr, below.addr]);
    let settled = false;
    const command = m.command(
      a.addr,
      emptyCommand({
        flag: "PARENT",
        layer: 1,
        rate: 100,
        dur: 1000,
        addrs: [below.addr],
      }),
    ).finally(() => (settled = true));
    command.catch(() => {}); // it fails once the relay gives up: not this test's point
    await below.commanded; // the relay to the silent worker is under way
    await assert.rejects(
      other.report(a.addr, "no-such.1"),
      (e) => e instanceof RemoteError && /incarnation/.test(e.message),
    );
    assert.equal(
      settled,
      false,
      "the REPORT was answered before the relay ended",
    );
    await command.catch(() => {});
  } finally {
    m.close();
    other.close();
    await a.close();
    await below.close();
  }
});

Deno.test("a STOP of every job that overtakes a COMMAND during its relays: its probe never starts, the job below is stopped", async () => {
  const below = await heldBelow();
  const a = await served({ relayTimeoutMs: 10_000 });
  const m = new Manager({ timeoutMs: 20_000, retries: 0 });
  const other = new Manager({ timeoutMs: 10_000, retries: 0 });
  try {
    await m.connect([a.addr, below.addr]);
    const command = m.command(
      a.addr,
      emptyCommand({
        flag: "PARENT",
        layer: 1,
        rate: 100,
        dur: 60_000,
        addrs: [below.addr],
      }),
    );
    command.catch(() => {});
    await below.commanded;
    assert.deepEqual(await other.stopAll([a.addr], 5_000), [a.addr]);
    below.release();
    await assert.rejects(
      command,
      (e) =>
        e instanceof RemoteError && /Stopped while starting/.test(e.message),
    );
    assert.deepEqual(a.kinds, [], "the worker started its probe after all");
    assert.deepEqual(below.kinds, ["child"]);
    assert.equal(
      below.worker.jobs.running().length,
      0,
      "the job below runs on",
    );
  } finally {
    m.close();
    other.close();
    await a.close();
    await below.close();
  }
});
