import assert from "node:assert/strict";
import { splitHostPort, UsageError } from "../core/cli.ts";
import { runChild } from "./child.ts";
import type { ChildOptions, ChildResult, ProxyResult } from "./roles.ts";
import { createChildCommand, createProxyCommand } from "./cli.ts";
import type { IoKind } from "./io.ts";
import { runProxy } from "./proxy.ts";
import { parseSources } from "./sources.ts";
import {
  type Crafted,
  drain,
  ioTest,
  rawSocket,
  sendCrafted,
} from "./_testing.ts";
import { decodeHeader, FLAG_END, FLAG_WARMUP } from "./wire.ts";

const LOOPBACK = { hostname: "127.0.0.1", port: 0 };
const ANY_PORT_OF_LOOPBACK = [{ hostname: "127.0.0.1", port: 0 }];

const range = (a: number, b: number) =>
  Array.from({ length: b - a }, (_, i) => a + i);
const END: Crafted = { seq: 55, flags: FLAG_END };

async function startChild(
  io: IoKind,
  opts: Partial<ChildOptions>,
): Promise<{ addr: string; result: Promise<ChildResult> }> {
  let ready!: (a: string) => void;
  const addr = new Promise<string>((r) => ready = r);
  const result = runChild(
    { bind: LOOPBACK, duration: 5, timeout: 5, idle: 2, io, ...opts },
    { onReady: ready },
  );
  return { addr: await addr, result };
}

/** A socket on 127.0.0.2 (all of 127/8 is local on Linux), or null where it cannot bind. */
function otherAddress(): ReturnType<typeof rawSocket> | null {
  try {
    return rawSocket("127.0.0.2");
  } catch {
    return null;
  }
}

ioTest(
  "a child given --from ignores forged ENDs from another port and another address and receives its parent's whole stream",
  async (io) => {
    const parent = rawSocket(), forger = rawSocket(), far = otherAddress();
    const { addr, result } = await startChild(io, {
      from: ANY_PORT_OF_LOOPBACK,
    });
    // Before the stream: not of the format, so it pins no port.
    await sendCrafted(addr, [new Uint8Array(10)], { via: forger.conn });
    await sendCrafted(addr, [
      ...range(0, 5).map((seq) => ({ seq, flags: FLAG_WARMUP })),
      ...range(5, 55).map((seq) => ({ seq })),
    ], { via: parent.conn });
    await sendCrafted(addr, [END, END, END], { via: forger.conn });
    if (far) await sendCrafted(addr, [END, END, END], { via: far.conn });
    await sendCrafted(addr, [
      ...range(55, 105).map((seq) => ({ seq })),
      { seq: 105, flags: FLAG_END },
    ], { via: parent.conn });
    const r = await result;
    parent.conn.close();
    assert.deepEqual(
      [r.stop, r.end_seen, r.received, r.lost, r.last_seq, r.warmup],
      ["end", true, 100, 0, 104, 5],
    );
    assert.equal(r.foreign, far ? 6 : 3);
    assert.equal(r.malformed, 1, "the garbage came before the pin");
    assert.deepEqual(await drain(forger.conn, 100), [], "never echoed");
    if (far) assert.deepEqual(await drain(far.conn, 100), []);
  },
);

ioTest(
  "without --from a forged END from another port ends a child's stream (the threat)",
  async (io) => {
    const parent = rawSocket();
    const { addr, result } = await startChild(io, {});
    await sendCrafted(addr, range(0, 50).map((seq) => ({ seq })), {
      via: parent.conn,
    });
    await sendCrafted(addr, [END]);
    const r = await result;
    parent.conn.close();
    assert.deepEqual([r.stop, r.received, r.foreign], ["end", 50, 0]);
  },
);

ioTest(
  "a child given --from HOST:PORT drops the host's other ports even before the stream",
  async (io) => {
    const parent = rawSocket(), forger = rawSocket();
    const { addr, result } = await startChild(io, {
      from: [splitHostPort(parent.addr)],
    });
    await sendCrafted(addr, [{ seq: 0 }, END], { via: forger.conn });
    await sendCrafted(addr, [
      ...range(0, 20).map((seq) => ({ seq })),
      { seq: 20, flags: FLAG_END },
    ], { via: parent.conn });
    const r = await result;
    parent.conn.close();
    forger.conn.close();
    assert.deepEqual(
      [r.stop, r.received, r.foreign, r.first_seq],
      ["end", 20, 2, 0],
    );
  },
);

ioTest(
  "a proxy given --from forwards only its parent's stream; its child's echoes are not foreign",
  async (io) => {
    const parent = rawSocket(), forger = rawSocket();
    let leafReady!: (a: string) => void;
    const leafAddr = new Promise<string>((r) => leafReady = r);
    const leaf = runChild({
      bind: LOOPBACK,
      duration: 5,
      timeout: 5,
      idle: 2,
      io,
      from: ANY_PORT_OF_LOOPBACK,
    }, { onReady: leafReady });
    const tap = rawSocket();
    let ready!: (a: string) => void;
    const addr = new Promise<string>((r) => ready = r);
    const proxied: Promise<ProxyResult> = runProxy({
      bind: LOOPBACK,
      to: [splitHostPort(await leafAddr), splitHostPort(tap.addr)],
      from: ANY_PORT_OF_LOOPBACK,
      timeout: 5,
      idle: 2,
      io,
    }, { onReady: ready });
    const at = await addr;
    await sendCrafted(at, range(0, 150).map((seq) => ({ seq })), {
      via: parent.conn,
    });
    // Forged at both: the proxy, and the leaf behind it.
    await sendCrafted(at, [END, END, END], { via: forger.conn });
    await sendCrafted(await leafAddr, [END, END, END], { via: forger.conn });
    await sendCrafted(at, [
      ...range(150, 250).map((seq) => ({ seq })),
      { seq: 250, flags: FLAG_END },
    ], { via: parent.conn });
    const [p, l] = await Promise.all([proxied, leaf]);
    parent.conn.close();
    assert.deepEqual(
      [p.stop, p.datagrams, p.forwarded, p.foreign, p.stray_echoes],
      ["end", 251, 251, 3, 0],
    );
    assert.ok(p.peers[0]!.samples > 0, "the leaf's echoes were taken");
    assert.deepEqual(
      [l.stop, l.received, l.lost, l.foreign, l.hops],
      ["end", 250, 0, 3, 1],
    );
    const got = (await drain(tap.conn)).map((d) => decodeHeader(d));
    assert.equal(got.filter((h) => h.flags & FLAG_END).length, 3);
    assert.equal(got.length, 251 + 2, "the stream, END repeated twice");
    assert.deepEqual(await drain(forger.conn, 100), [], "never echoed");
  },
);

ioTest(
  "a child whose --from names another sender fails saying how many datagrams it dropped",
  async (io) => {
    const { addr, result } = await startChild(io, {
      from: [{ hostname: "127.0.0.2", port: 0 }],
      timeout: 0.5,
    });
    await sendCrafted(addr, range(0, 4).map((seq) => ({ seq })));
    const r = await result;
    assert.deepEqual([r.stop, r.received, r.foreign], ["no_stream", 0, 4]);
    assert.equal(
      r.error,
      `No stream arrived at "${addr}" within 0.5 s; ` +
        "4 datagrams from other senders were dropped (--from)",
    );
  },
);

Deno.test("--from takes HOST:PORT and bare hosts (IPv6 bracketed or not); anything else is a usage error", () => {
  assert.deepEqual(
    parseSources("from", "10.0.0.1:5000, 10.0.0.2,[fd00::1]:7,fd00::2,[::1]"),
    [
      { hostname: "10.0.0.1", port: 5000 },
      { hostname: "10.0.0.2", port: 0 },
      { hostname: "fd00::1", port: 7 },
      { hostname: "fd00::2", port: 0 },
      { hostname: "::1", port: 0 },
    ],
  );
  for (const bad of ["", ",", "a b", "10.0.0.1:99999", "$(x)"]) {
    assert.throws(() => parseSources("from", bad), UsageError, bad);
  }
});

Deno.test("a child or proxy with a bad --from exits 2 naming the flag", async () => {
  for (const make of [createChildCommand, createProxyCommand]) {
    let err = "";
    const code = await make({ out: () => {}, err: (t) => err += t }).run([
      "--bind",
      "127.0.0.1:0",
      "--to",
      "127.0.0.1:9",
      "--duration",
      "1",
      "--from",
      "not a host",
    ].filter((_, i, a) =>
      make === createProxyCommand || (a[i] !== "--to" && a[i - 1] !== "--to")
    ));
    assert.equal(code, 2);
    assert.match(err, /^error: Flag "--from": "not a host" is not a host/m);
  }
});
