import assert from "node:assert/strict";
import { decodeMessageLog, NOT_RECEIVED } from "../core/message_log.ts";
import { splitHostPort } from "../core/cli.ts";
import { runChild } from "./child.ts";
import { runProxy } from "./proxy.ts";
import type { ChildResult, ProxyResult } from "./roles.ts";
import {
  type Crafted,
  drain,
  ioTest,
  rawSocket,
  sendCrafted,
} from "./_testing.ts";
import { decodeHeader, FLAG_END } from "./wire.ts";

const LOOPBACK = { hostname: "127.0.0.1", port: 0 };
/** Two senders on one host (a parent and a hedge parent): each pins its own port. */
const TWO_PARENTS = [LOOPBACK, LOOPBACK];
const range = (a: number, b: number) =>
  Array.from({ length: b - a }, (_, i) => a + i);

ioTest(
  "a leaf with a hedge parent keeps each message's smallest delay (emulated included), not its first copy, and counts one duplicate a message",
  async (io) => {
    const dir = Deno.makeTempDirSync({ prefix: "treecast-hedge-" });
    const parent = rawSocket(), hedge = rawSocket();
    try {
      let ready!: (a: string) => void;
      const at = new Promise<string>((r) => ready = r);
      const result: Promise<ChildResult> = runChild({
        bind: LOOPBACK,
        duration: 5,
        timeout: 5,
        idle: 2,
        io,
        from: TWO_PARENTS,
        messages: { path: `${dir}/m.tcml` },
      }, { onReady: ready });
      const addr = await at;
      // The parent's copies come first, but emulate a 1 s slower path.
      await sendCrafted(
        addr,
        range(0, 40).map((seq) => ({ seq, emuNs: 1e9 })),
        { via: parent.conn },
      );
      await sendCrafted(addr, [
        ...range(0, 40).map((seq): Crafted => ({ seq })),
        { seq: 40, flags: FLAG_END },
      ], { via: hedge.conn });
      const r = await result;
      assert.deepEqual(
        [r.stop, r.received, r.duplicates, r.lost, r.foreign],
        ["end", 40, 40, 0, 0],
      );
      const d = decodeMessageLog(Deno.readFileSync(`${dir}/m.tcml`)).delaysNs;
      assert.equal(d.length, 40);
      for (const x of d) {
        assert.ok(x !== NOT_RECEIVED && x < 0.5e9, `a delay of ${x} ns`);
      }
    } finally {
      parent.conn.close();
      hedge.conn.close();
      Deno.removeSync(dir, { recursive: true });
    }
  },
);

ioTest(
  "a proxy forwards to its hedge children too, and forwards each seq once whichever parent's copy came first",
  async (io) => {
    const kids = [rawSocket(), rawSocket(), rawSocket()];
    const parent = rawSocket(), hedge = rawSocket();
    try {
      let ready!: (a: string) => void;
      const at = new Promise<string>((r) => ready = r);
      const result: Promise<ProxyResult> = runProxy({
        bind: LOOPBACK,
        to: kids.map((k) => splitHostPort(k.addr)),
        duration: 5,
        timeout: 5,
        idle: 2,
        io,
        from: TWO_PARENTS,
      }, { onReady: ready });
      const addr = await at;
      await sendCrafted(addr, range(0, 30).map((seq) => ({ seq })), {
        via: parent.conn,
      });
      await sendCrafted(addr, [
        ...range(0, 30).map((seq): Crafted => ({ seq })),
        { seq: 30, flags: FLAG_END },
      ], { via: hedge.conn });
      const r = await result;
      assert.deepEqual(
        [r.stop, r.children, r.forwarded, r.duplicates_dropped, r.foreign],
        ["end", 3, 31, 30, 0],
      );
      for (const k of kids) {
        const seqs = (await drain(k.conn, 150)).map((b) => decodeHeader(b))
          .filter((h) => (h.flags & FLAG_END) === 0).map((h) => h.seq);
        assert.deepEqual(seqs.sort((a, b) => a - b), range(0, 30));
      }
    } finally {
      parent.conn.close();
      hedge.conn.close();
    }
  },
);

ioTest(
  "under emulation a proxy also forwards a later copy that would have come first (its arrival + emu earlier), never one that would not",
  async (io) => {
    const kid = rawSocket();
    const parent = rawSocket(), hedge = rawSocket();
    try {
      let ready!: (a: string) => void;
      const at = new Promise<string>((r) => ready = r);
      const result: Promise<ProxyResult> = runProxy({
        bind: LOOPBACK,
        to: [splitHostPort(kid.addr)],
        duration: 5,
        timeout: 5,
        idle: 2,
        io,
        from: TWO_PARENTS,
      }, { onReady: ready });
      const addr = await at;
      // The parent's copies come first but carry a 1 s emulated delay; the
      // hedge parent's copies of 0-19 carry none (they would have come
      // first), its copies of 20-29 carry 2 s (they would not).
      await sendCrafted(
        addr,
        range(0, 30).map((seq) => ({ seq, emuNs: 1e9 })),
        { via: parent.conn },
      );
      await sendCrafted(addr, [
        ...range(0, 30).map((seq): Crafted => ({
          seq,
          emuNs: seq < 20 ? 0 : 2e9,
        })),
        { seq: 30, flags: FLAG_END },
      ], { via: hedge.conn });
      const r = await result;
      assert.deepEqual(
        [r.stop, r.forwarded, r.duplicates_dropped],
        ["end", 51, 10],
      );
      const got = (await drain(kid.conn, 150)).map((b) => decodeHeader(b))
        .filter((h) => (h.flags & FLAG_END) === 0);
      for (let seq = 0; seq < 30; seq++) {
        const emus = got.filter((h) => h.seq === seq).map((h) => h.emuNs)
          .sort((a, b) => a - b);
        assert.deepEqual(emus, seq < 20 ? [0, 1e9] : [1e9], `seq ${seq}`);
      }
    } finally {
      parent.conn.close();
      hedge.conn.close();
    }
  },
);
