import assert from "node:assert/strict";
import {
  decodeEcho,
  decodeHeader,
  type EchoDatagram,
  encodeEcho,
  encodeHeader,
  HEADER_BYTES,
  isEchoDatagram,
  isProbeDatagram,
  WireError,
} from "./wire.ts";
import { GOLDEN } from "./_testing.ts";

const hex = (b: Uint8Array) =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const unhex = (s: string) =>
  Uint8Array.from(s.match(/../g)!, (x) => parseInt(x, 16));

Deno.test("encodeHeader gives the golden bytes of probes/WIRE.md", () => {
  for (const [h, bytes] of GOLDEN) {
    assert.deepEqual(hex(encodeHeader(h)), bytes);
  }
});

Deno.test("decodeHeader of the golden bytes gives the header", () => {
  for (const [h, bytes] of GOLDEN) {
    assert.deepEqual(decodeHeader(unhex(bytes)), h);
  }
});

Deno.test("decodeHeader ignores padding after the header", () => {
  const [h, bytes] = GOLDEN[2]!;
  const padded = new Uint8Array(200).fill(0xaa);
  padded.set(unhex(bytes));
  assert.deepEqual(decodeHeader(padded), h);
  assert.equal(
    isProbeDatagram(new DataView(padded.buffer), padded.length),
    true,
  );
});

Deno.test("encodeHeader writes into a longer buffer at its offset", () => {
  const [h, bytes] = GOLDEN[1]!;
  const big = new Uint8Array(40);
  encodeHeader(h, big.subarray(8));
  assert.deepEqual(hex(big.subarray(8, 8 + HEADER_BYTES)), bytes);
  assert.deepEqual(big.subarray(0, 8), new Uint8Array(8));
});

Deno.test("malformed datagrams are rejected by both checks", () => {
  const good = unhex(GOLDEN[0]![1]);
  const cases: [string, Uint8Array, RegExp][] = [
    ["short", good.subarray(0, 23), /at least 24 bytes, got 23/],
    ["unknown flag", _with(good, 4, 4), /Unknown flags 0x4/],
    ["an echo's kind", _with(good, 22, 1), /An echo is not a stream/],
    ["unknown kind", _with(good, 22, 2), /Unknown kind 2/],
  ];
  for (const [what, bytes, msg] of cases) {
    assert.throws(
      () => decodeHeader(bytes),
      (e) => e instanceof WireError && msg.test(e.message),
      what,
    );
    assert.equal(
      isProbeDatagram(
        new DataView(bytes.buffer, bytes.byteOffset),
        bytes.length,
      ),
      false,
      what,
    );
  }
  assert.equal(isProbeDatagram(new DataView(good.buffer), good.length), true);
});

Deno.test("encodeHeader refuses values that do not fit their field", () => {
  const h = GOLDEN[0]![0];
  assert.throws(
    () => encodeHeader({ ...h, seq: 2 ** 32 }),
    (e) => e instanceof RangeError && e.message.includes('"seq"'),
  );
  assert.throws(
    () => encodeHeader({ ...h, flags: 4 }),
    (e) => e instanceof RangeError && e.message.includes('"flags"'),
  );
  assert.throws(
    () => encodeHeader({ ...h, hops: 65536 }),
    (e) => e instanceof RangeError && e.message.includes('"hops"'),
  );
  assert.throws(
    () => encodeHeader({ ...h, emuNs: -1 }),
    (e) => e instanceof RangeError && e.message.includes('"emuNs"'),
  );
  assert.throws(
    () => encodeHeader({ ...h, tsNs: -1n }),
    (e) => e instanceof RangeError && e.message.includes('"tsNs"'),
  );
  assert.throws(
    () => encodeHeader(h, new Uint8Array(23)),
    (e) => e instanceof RangeError && e.message.includes("24 bytes"),
  );
});

function _with(bytes: Uint8Array, at: number, value: number): Uint8Array {
  const copy = bytes.slice();
  copy[at] = value;
  return copy;
}

/** The echo test vectors of probes/WIRE.md. */
const ECHO_GOLDEN: [EchoDatagram, string][] = [
  [
    {
      seq: 100,
      tsNs: 1715280981566948000n,
      end: false,
      recvNs: 1715280981567248000n,
      echoNs: 1715280981567258000n,
    },
    "6400000000000000a00248fcf6e6cd17000000000000010080964cfcf6e6cd1790bd4cfcf6e6cd17",
  ],
  [
    {
      seq: 20000,
      tsNs: 1715280983565948000n,
      end: true,
      recvNs: 1715280983565648000n,
      echoNs: 1715280983565650500n,
    },
    "204e00000100000060546e73f7e6cd17000000000000010080c06973f7e6cd1744ca6973f7e6cd17",
  ],
];

Deno.test("encodeEcho and decodeEcho give the echo vectors of probes/WIRE.md", () => {
  for (const [e, bytes] of ECHO_GOLDEN) {
    assert.equal(hex(encodeEcho(e)), bytes);
    assert.deepEqual(decodeEcho(unhex(bytes)), e);
  }
});

Deno.test("an echo is never a stream datagram, and a stream datagram never an echo", () => {
  for (const [, bytes] of ECHO_GOLDEN) {
    const b = unhex(bytes);
    const v = new DataView(b.buffer);
    assert.equal(isProbeDatagram(v, b.length), false);
    assert.equal(isEchoDatagram(v, b.length), true);
    assert.throws(() => decodeHeader(b), /An echo is not a stream datagram/);
  }
  for (const [, bytes] of GOLDEN) {
    const b = unhex(bytes);
    assert.equal(isEchoDatagram(new DataView(b.buffer), b.length), false);
    assert.throws(() => decodeEcho(b), WireError);
  }
  const short = unhex(ECHO_GOLDEN[0]![1]).subarray(0, 39);
  assert.equal(isEchoDatagram(new DataView(short.slice().buffer), 39), false);
});
