import assert from "node:assert/strict";
import {
  generateKeyPair,
  MANAGER_DOMAIN,
  readKeyPair,
  readPublicKeys,
  RELAY_DOMAIN,
  writeKeyPair,
  z85Encode,
  ZapHandler,
} from "./curve.ts";
import { UsageError } from "./cli.ts";
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

Deno.test("a secret key file that group or others may read is refused, naming it and the fix; keygen writes 0600 even over an open file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const kp = generateKeyPair();
    await Deno.writeTextFile(`${dir}/w.key`, "open to all\n", { mode: 0o644 });
    await Deno.chmod(`${dir}/w.key`, 0o644);
    await writeKeyPair(`${dir}/w`, kp); // replaces it
    assert.equal((await Deno.stat(`${dir}/w.key`)).mode! & 0o777, 0o600);
    assert.deepEqual(readKeyPair("curve-key", `${dir}/w.key`), kp);
    for (const mode of [0o640, 0o604, 0o620]) {
      await Deno.chmod(`${dir}/w.key`, mode);
      assert.throws(
        () => readKeyPair("relay-key", `${dir}/w.key`),
        (e) =>
          e instanceof UsageError &&
          e.message.includes(
            `Flag "--relay-key": unprotected secret key file "${dir}/w.key": mode 0${
              mode.toString(8)
            }`,
          ) && e.message.includes(`chmod 600 "${dir}/w.key"`),
      );
    }
    // A public key may be read by anyone.
    await Deno.chmod(`${dir}/w.pub`, 0o644);
    assert.deepEqual(readPublicKeys("curve-allow", [`${dir}/w.pub`]), [
      kp.publicKey,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CURVE: the allowed manager is answered; another key, or a wrong server key, is not", async () => {
  const worker = generateKeyPair();
  const manager = generateKeyPair();
  const stranger = generateKeyPair();
  const zap = await ZapHandler.start({ [MANAGER_DOMAIN]: [manager.publicKey] });
  const server = await RepServer.bind("127.0.0.1:0", {
    curve: worker,
    zapDomain: MANAGER_DOMAIN,
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

Deno.test("ZAP admits each key on its own domain's sockets only: managers on the control port, relay keys on the relay port, nobody on an unknown domain", async () => {
  const worker = generateKeyPair();
  const manager = generateKeyPair();
  const relay = generateKeyPair();
  const zap = await ZapHandler.start({
    [MANAGER_DOMAIN]: [manager.publicKey],
    [RELAY_DOMAIN]: [relay.publicKey],
  });
  const stop = new AbortController();
  const servers = await Promise.all(
    [MANAGER_DOMAIN, RELAY_DOMAIN, "other"].map((zapDomain) =>
      RepServer.bind("127.0.0.1:0", { curve: worker, zapDomain })
    ),
  );
  const serving = servers.map((s) =>
    s.serve((b) => Promise.resolve(b), stop.signal)
  );
  const [control, relayPort, other] = servers.map((s) => s.addr);
  /** Whether a request with `me`'s key to `addr` is answered. */
  const answered = async (me: typeof manager, addr: string) => {
    const c = new ReqClient(addr, {
      timeoutMs: 300,
      retries: 0,
      curve: { ...me, serverKey: worker.publicKey },
    });
    try {
      await c.request(new Uint8Array([7]));
      return true;
    } catch (e) {
      if (e instanceof WorkerUnreachable) return false;
      throw e;
    } finally {
      c.close();
    }
  };
  try {
    assert.deepEqual(
      [
        await answered(manager, control!),
        await answered(relay, relayPort!),
        await answered(relay, control!),
        await answered(manager, relayPort!),
        await answered(manager, other!),
        await answered(relay, other!),
      ],
      [true, true, false, false, false, false],
    );
    assert.ok(zap.refused >= 4);
  } finally {
    stop.abort();
    await Promise.all(serving);
    for (const s of servers) s.close();
    await zap.close();
  }
});
