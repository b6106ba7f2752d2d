import assert from "node:assert/strict";
import { generateKeyPair } from "../core/curve.ts";
import { Manager } from "./manager.ts";

/** Addresses beyond loopback where nothing answers. */
const FAR = ["198.51.100.7:9", "198.51.100.8:9"];

/** Connects a manager to `addrs`; resolves to the warnings it gave. */
async function warningsOf(
  batches: string[][],
  curve = false,
): Promise<string[]> {
  const lines: string[] = [];
  const server = generateKeyPair();
  const m = new Manager({
    connectTimeoutMs: 100,
    retries: 0,
    warn: (l) => lines.push(l),
    ...(curve
      ? { curve: { ...generateKeyPair(), serverKey: server.publicKey } }
      : {}),
  });
  try {
    for (const addrs of batches) await m.connect(addrs);
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
