/**
 * N fake workers served from one process, for scale tests and benches: one
 * ROUTER socket bound on N loopback ports, real ZeroMQ and the project's
 * protobuf codec. A fake worker answers CONNECT as `worker/worker.ts` does
 * (an ACK with its hello, or an ERR for another protocol version); any
 * other request is held (no reply) until {@link FakePool.release}, or, in
 * `echo` mode, answered at once with an empty ACK.
 *
 * As a program (`deno run -A tests/helpers/fake_pool.ts N`) it prints
 * `{"event":"ready","addrs":[...]}`, holds every non-CONNECT request, and
 * prints `{"event":"held","n":K}` as the K-th is held, and
 * `{"event":"connected","lastUs":T}` once every fake worker has received a
 * CONNECT (T: when the last one did, `nowUs`); it exits when stdin closes.
 *
 * @module
 */
import * as zmq from "zeromq";
import { waitReady } from "../../core/ready.ts";
import { PROGRAM_VERSION, PROTOCOL_VERSION } from "../../core/version.ts";
import { decode, encode, type Message, nowUs } from "../../proto/codec.ts";

/** A running pool of fake workers. */
export interface FakePool {
  /** Each fake worker's `HOST:PORT`. */
  addrs: string[];
  /** Requests held so far (not yet released). */
  readonly held: number;
  /** Answers every held request with an empty ACK. */
  release(): Promise<void>;
  /** Stops serving and closes the socket. */
  close(): Promise<void>;
}

function _ack(req: Message, type: "ACK" | "ERR", extra = {}): Uint8Array {
  return encode({
    id: req.id,
    ts: nowUs(),
    type,
    data: { src: req.data.dst, dst: req.data.src, ...extra },
  });
}

function _answer(req: Message, incarnation: string): Uint8Array {
  const hello = req.data.hello;
  if (hello && hello.protocol !== PROTOCOL_VERSION) {
    return _ack(req, "ERR", {
      error: {
        flag: "NONE",
        desc: `Protocol version ${hello.protocol} is not supported`,
        addr: "",
        code: "ERROR_CODE_UNSPECIFIED",
      },
    });
  }
  return _ack(req, "ACK", {
    hello: {
      protocol: PROTOCOL_VERSION,
      program: PROGRAM_VERSION,
      capabilities: [],
      hostname: "fake",
      emulate: "",
      incarnation,
      clock: {
        known: true,
        synced: true,
        maxerrorUs: 0,
        esterrorUs: 0,
        emulated: true,
      },
    },
  });
}

/** Starts `n` fake workers on 127.0.0.1 (ports picked by the kernel). */
export async function startFakePool(
  n: number,
  opts: {
    echo?: boolean;
    onHeld?: (held: number) => void;
    /** Told once every fake worker has received a CONNECT: the last one's time (`nowUs`). */
    onAllConnected?: (lastUs: number) => void;
  } = {},
): Promise<FakePool> {
  const s = new zmq.Router({ linger: 0 });
  const addrs: string[] = [];
  for (let i = 0; i < n; i++) {
    await s.bind("tcp://127.0.0.1:*");
    addrs.push((s.lastEndpoint ?? "").replace(/^tcp:\/\//, ""));
  }
  const incarnation = crypto.randomUUID();
  const held: Uint8Array[][] = [];
  const connected = new Set<string>();
  let sending: Promise<unknown> = Promise.resolve();
  const send = (frames: Uint8Array[]) => {
    sending = sending.then(() => s.send(frames)).catch(() => {});
    return sending;
  };
  const serving = (async () => {
    for (;;) {
      try {
        await waitReady(s, { want: "readable", deadline: Infinity });
      } catch {
        return; // closed
      }
      while (!s.closed && s.readable) {
        const frames = await s.receive();
        const bottom = frames.findIndex((f, i) => i > 0 && f.length === 0);
        if (bottom < 0) continue;
        const env = frames.slice(0, bottom + 1);
        let req: Message;
        try {
          req = decode(frames[bottom + 1] ?? new Uint8Array());
        } catch {
          continue;
        }
        if (req.type === "CONNECT") {
          const at = nowUs();
          send([...env, _answer(req, incarnation)]);
          if (connected.size < n && !connected.has(req.data.dst)) {
            connected.add(req.data.dst);
            if (connected.size === n) opts.onAllConnected?.(at);
          }
        } else if (opts.echo) {
          send([...env, _ack(req, "ACK")]);
        } else {
          held.push([...env, _ack(req, "ACK")]);
          opts.onHeld?.(held.length);
        }
      }
    }
  })();
  return {
    addrs,
    get held() {
      return held.length;
    },
    async release() {
      for (const frames of held.splice(0)) await send(frames);
    },
    async close() {
      s.close();
      await serving;
    },
  };
}

if (import.meta.main) {
  const n = Number(Deno.args[0] ?? "100");
  const out = (obj: object) => console.log(JSON.stringify(obj));
  const pool = await startFakePool(n, {
    onHeld: (k) => {
      out({ event: "held", n: k });
    },
    onAllConnected: (lastUs) => out({ event: "connected", lastUs }),
  });
  out({ event: "ready", addrs: pool.addrs });
  for await (const _ of Deno.stdin.readable) { /* until stdin closes */ }
  await pool.close();
}
