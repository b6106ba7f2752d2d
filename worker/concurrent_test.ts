import assert from "node:assert/strict";
import { RemoteError } from "../core/node.ts";
import { RepServer } from "../core/transport.ts";
import { Manager } from "../manager/manager.ts";
import { decode, emptyCommand } from "../proto/codec.ts";
import { fakeProbes, served } from "./_testing.ts";
import { Worker } from "./worker.ts";

/**
 * A worker below that answers CONNECT as a worker does but never answers a
 * COMMAND: a relay to it waits out its deadline. `commanded` resolves when
 * a COMMAND arrived.
 */
async function silentBelow() {
  const server = await RepServer.bind("127.0.0.1:0");
  const worker = new Worker({ name: server.addr });
  let heard = () => {};
  const commanded = new Promise<void>((r) => (heard = r));
  const never = new Promise<Uint8Array>(() => {});
  const stop = new AbortController();
  const serving = server.serve(
    async (bytes) => {
      if (decode(bytes).type !== "COMMAND") return await worker.handle(bytes);
      heard();
      return await Promise.race([
        never,
        new Promise<Uint8Array>((r) =>
          stop.signal.addEventListener("abort", () => r(new Uint8Array()))
        ),
      ]);
    },
    stop.signal,
    { concurrent: 8 },
  );
  return {
    addr: server.addr,
    commanded,
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
  const below = await silentBelow();
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
  // The worker below answers the relayed COMMAND only once the gate opens.
  const belowServer = await RepServer.bind("127.0.0.1:0");
  const belowKinds: string[] = [];
  const below = new Worker({
    name: belowServer.addr,
    probes: fakeProbes(belowKinds),
  });
  let relayed = () => {};
  const relaying = new Promise<void>((r) => (relayed = r));
  let open = () => {};
  const gate = new Promise<void>((r) => (open = r));
  const stopBelow = new AbortController();
  const servingBelow = belowServer.serve(
    async (bytes) => {
      if (decode(bytes).type === "COMMAND") {
        relayed();
        await gate;
      }
      return await below.handle(bytes);
    },
    stopBelow.signal,
    { concurrent: 8 },
  );
  const a = await served({ relayTimeoutMs: 10_000 });
  const m = new Manager({ timeoutMs: 20_000, retries: 0 });
  const other = new Manager({ timeoutMs: 10_000, retries: 0 });
  try {
    await m.connect([a.addr, belowServer.addr]);
    const command = m.command(
      a.addr,
      emptyCommand({
        flag: "PARENT",
        layer: 1,
        rate: 100,
        dur: 60_000,
        addrs: [belowServer.addr],
      }),
    );
    command.catch(() => {});
    await relaying;
    assert.deepEqual(await other.stopAll([a.addr], 5_000), [a.addr]);
    open();
    await assert.rejects(
      command,
      (e) =>
        e instanceof RemoteError && /Stopped while starting/.test(e.message),
    );
    assert.deepEqual(a.kinds, [], "the worker started its probe after all");
    assert.deepEqual(belowKinds, ["child"]);
    assert.equal(below.jobs.running().length, 0, "the job below runs on");
  } finally {
    m.close();
    other.close();
    await a.close();
    stopBelow.abort();
    await servingBelow;
    belowServer.close();
    await below.close();
  }
});
