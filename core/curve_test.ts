import assert from "node:assert/strict";
import {
  generateKeyPair,
  readKeyPair,
  readPublicKeys,
  writeKeyPair,
  z85Encode,
  ZapHandler,
} from "./curve.ts";
import { RepServer, ReqClient, WorkerUnreachable } from "./transport.ts";

Deno.test("Z85 encodes the specification's test vector", () => {
  const bytes = new Uint8Array([
    0x86,
    0x4f,
    0xd2,
    0x6f,
    0xb5,
    0x59,
    0xf7,
    0x5b,
  ]);
  assert.equal(z85Encode(bytes), "HelloWorld");
});

Deno.test("keygen files round-trip and bad files are named", async () => {
  const dir = await Deno.makeTempDir();
  const kp = generateKeyPair();
  await writeKeyPair(`${dir}/w`, kp);
  assert.deepEqual(readKeyPair("curve-key", `${dir}/w.key`), kp);
  assert.deepEqual(
    readPublicKeys("curve-allow", [`${dir}/w.pub`, `${dir}/w.key`]),
    [kp.publicKey, kp.publicKey],
  );
  assert.equal((await Deno.stat(`${dir}/w.key`)).mode! & 0o777, 0o600);
  await Deno.writeTextFile(`${dir}/bad.key`, "nope");
  assert.throws(
    () => readKeyPair("curve-key", `${dir}/bad.key`),
    /"--curve-key": ".*bad.key" is not a treecast .key file/,
  );
});

Deno.test("CURVE: the allowed manager is answered; another key, or a wrong server key, is not", async () => {
  const worker = generateKeyPair();
  const manager = generateKeyPair();
  const stranger = generateKeyPair();
  const zap = await ZapHandler.start([manager.publicKey]);
  const server = await RepServer.bind("127.0.0.1:0", {
    curve: worker,
    zapDomain: "treecast",
  });
  const stop = new AbortController();
  const serving = server.serve((b) => Promise.resolve(b), stop.signal);
  const client = (me: typeof manager, serverKey: string) =>
    new ReqClient(server.addr, {
      timeoutMs: 300,
      retries: 0,
      curve: { ...me, serverKey },
    });
  try {
    const ok = client(manager, worker.publicKey);
    assert.deepEqual([...await ok.request(new Uint8Array([1, 2, 3]))], [
      1,
      2,
      3,
    ]);
    ok.close();
    const other = client(stranger, worker.publicKey);
    await assert.rejects(other.request(new Uint8Array([1])), WorkerUnreachable);
    other.close();
    assert.ok(zap.refused >= 1);
    // A manager that expects another worker key never completes the handshake.
    const impostor = client(manager, stranger.publicKey);
    await assert.rejects(
      impostor.request(new Uint8Array([1])),
      WorkerUnreachable,
    );
    impostor.close();
    const plain = new ReqClient(server.addr, { timeoutMs: 300, retries: 0 });
    await assert.rejects(plain.request(new Uint8Array([1])), WorkerUnreachable);
    plain.close();
  } finally {
    stop.abort();
    await serving;
    server.close();
    await zap.close();
  }
});
