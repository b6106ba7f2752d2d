import assert from "node:assert/strict";
import { generateKeyPair } from "../core/curve.ts";
import { PROTOCOL_VERSION } from "../core/version.ts";
import { FIXTURES } from "../proto/_fixtures.ts";
import { helloProblem, Manager } from "./manager.ts";

/**
 * Addresses beyond loopback. The connects below run under an aborted signal:
 * the warning is decided before any socket opens, and a test must send
 * nothing beyond loopback (on some machines a middlebox answers any TCP
 * connect, and libzmq aborted the whole test run on what it sent back).
 */
const FAR = ["198.51.100.7:9", "198.51.100.8:9"];

/**
 * Starts a manager's CONNECT to each batch, aborted before any socket is
 * opened; resolves to the warnings it gave.
 */
async function warningsOf(
  batches: string[][],
  curve = false,
): Promise<string[]> {
  const lines: string[] = [];
  const server = generateKeyPair();
  const m = new Manager({
    connectTimeoutMs: 1_000,
    retries: 0,
    warn: (l) => lines.push(l),
    ...(curve
      ? { curve: { ...generateKeyPair(), serverKey: server.publicKey } }
      : {}),
  });
  try {
    for (const addrs of batches) {
      const results = await m.connect(addrs, AbortSignal.abort());
      assert.equal(results.length, addrs.length);
    }
  } finally {
    m.close();
  }
  return lines;
}

Deno.test("a manager talking without CURVE to workers beyond loopback warns once, in one line naming one", async () => {
  const lines = await warningsOf([["127.0.0.1:9", ...FAR], [FAR[0]!]]);
  assert.equal(lines.length, 1);
  assert.doesNotMatch(lines[0]!, /\n/);
  assert.match(
    lines[0]!,
    /^warning: Talking to 2 worker\(s\) beyond loopback \("198\.51\.100\.7:9", \.\.\.\) without CURVE/,
  );
});

Deno.test("a manager warns of nothing on loopback, or with CURVE", async () => {
  assert.deepEqual(await warningsOf([["127.0.0.1:9", "localhost:9"]]), []);
  assert.deepEqual(await warningsOf([FAR], true), []);
});

Deno.test("under CURVE a worker whose hello has no relay port is refused at CONNECT, naming its version; without CURVE it is admitted", () => {
  const ack = FIXTURES.connect_ack!;
  const hello = { ...ack.data.hello!, protocol: PROTOCOL_VERSION };
  const reply = (relayPort?: number) => ({
    ...ack,
    data: {
      ...ack.data,
      hello: { ...hello, ...(relayPort ? { relayPort } : {}) },
    },
  });
  assert.equal(helloProblem(reply(), false), undefined);
  assert.equal(helloProblem(reply(9001), true), undefined);
  assert.equal(
    helloProblem(reply(), true),
    `Has no relay port (treecast ${hello.program}): under CURVE every ` +
      "worker must serve relays on a relay port of its own; upgrade it",
  );
});
