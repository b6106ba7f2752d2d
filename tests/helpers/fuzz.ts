/**
 * Fuzz inputs for the worker: random bytes, structurally valid protobuf
 * messages with random (often out-of-range) fields, and byte mutations of
 * valid messages. Only inputs that no worker may serve are kept (they fail
 * to decode, are of a type a worker never serves, or fail validation), so
 * every one must be answered with ERR, and none can start a job.
 *
 * @module
 */
import { Rng } from "../../manager/pool.ts";
import { decode, encode, SCHEMA } from "../../proto/codec.ts";
import { FIXTURES } from "../../proto/_fixtures.ts";
import { validateCommand } from "../../worker/validate.ts";

const _Message = SCHEMA.lookupType("treecast.Message");

const NASTY = [
  "",
  "127.0.0.1:9101",
  "$(reboot)",
  "; rm -rf /",
  "`id`",
  "a".repeat(300),
  "::1",
  "[::1]:70000",
  "host:0",
  "\u0000\uffff",
  "--emulate",
];

function _random(r: Rng, depth: number): Record<string, unknown> {
  const str = () => NASTY[r.int(NASTY.length)]!;
  const num = () =>
    [0, -1, 1, 24, 1000, 2 ** 31 - 1, -(2 ** 31), r.int(100_000)][r.int(8)]!;
  const subtree = (d: number): Record<string, unknown> => ({
    addr: str(),
    children: d > 0
      ? Array.from({ length: r.int(3) }, () => subtree(d - 1))
      : [],
  });
  const command = {
    flag: r.int(7),
    instr: str(),
    layer: num(),
    select: num(),
    rate: num(),
    dur: num(),
    timeout: num(),
    addrs: Array.from({ length: r.int(4) }, str),
    warmup: num(),
    size: num(),
    record: r.next() < 0.5,
    subtrees: Array.from({ length: r.int(3) }, () => subtree(depth)),
  };
  const job = {
    id: str(),
    flag: r.int(7),
    owner: str(),
    deps: depth > 0 ? [{ id: str() }] : [],
  };
  const payloads = [
    { command },
    { report: { job, complete: r.next() < 0.5 } },
    { report: { complete: true } },
    { error: { flag: r.int(7), desc: str(), addr: str() } },
    { hello: { protocol: num(), program: str(), capabilities: [str()] } },
    {},
  ];
  return {
    id: num(),
    ts: num(),
    type: r.int(9),
    data: { src: str(), dst: str(), ...payloads[r.int(payloads.length)] },
  };
}

function _servable(b: Uint8Array): boolean {
  try {
    const m = decode(b);
    if (m.type === "COMMAND") {
      validateCommand(m.data.command!);
      return true;
    }
    if (m.type === "STOP") return m.data.report!.job.id === "";
    // REPORT for a job that does not exist is an ERR; CONNECT is served.
    return m.type === "CONNECT";
  } catch {
    return false;
  }
}

/** `count` inputs that a worker must answer with ERR, reproducible from `seed`. */
export function fuzzInputs(count: number, seed: number): Uint8Array[] {
  const r = new Rng(seed);
  const valid = Object.values(FIXTURES).map(encode);
  const out: Uint8Array[] = [];
  while (out.length < count) {
    let b: Uint8Array;
    const kind = r.next();
    if (kind < 0.2) {
      b = new Uint8Array(r.int(96));
      for (let i = 0; i < b.length; i++) b[i] = r.int(256);
    } else if (kind < 0.6) {
      b = _Message.encode(_Message.fromObject(_random(r, r.int(3)))).finish();
    } else {
      b = valid[r.int(valid.length)]!.slice();
      for (let e = 1 + r.int(4); e > 0; e--) {
        const at = r.int(Math.max(1, b.length));
        const op = r.next();
        if (op < 0.5) b[at] = r.int(256);
        else if (op < 0.75) b = b.slice(0, at);
        else {b = new Uint8Array([
            ...b.slice(0, at),
            r.int(256),
            ...b.slice(at),
          ]);}
      }
    }
    if (!_servable(b)) out.push(b);
  }
  return out;
}
