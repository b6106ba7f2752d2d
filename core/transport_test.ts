import assert from "node:assert/strict";
import * as zmq from "zeromq";
import { deadAddr } from "../tests/helpers/net.ts";
import {
  Closed,
  RepServer,
  ReqClient,
  TransportError,
  waitReady,
  WorkerUnreachable,
} from "./transport.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

Deno.test("REQ/REP round trip through the readiness-polling transport", async () => {
  const server = await RepServer.bind("127.0.0.1:0");
  const stop = new AbortController();
  const serving = server.serve(
    (b) => Promise.resolve(enc.encode(`echo ${dec.decode(b)}`)),
    stop.signal,
  );
  const client = new ReqClient(server.addr, { timeoutMs: 2000, retries: 0 });
  for (let i = 0; i < 200; i++) {
    const reply = await client.request(enc.encode(`m${i}`));
    assert.equal(dec.decode(reply), `echo m${i}`);
  }
  client.close();
  stop.abort();
  await serving;
  server.close();
});

Deno.test("an address where nothing listens is WorkerUnreachable after every retry", async () => {
  const addr = await deadAddr();
  const client = new ReqClient(addr, { timeoutMs: 80, retries: 2 });
  const attempts: number[] = [];
  const t0 = performance.now();
  await assert.rejects(
    client.request((a) => {
      attempts.push(a);
      return enc.encode("x");
    }),
    (e) =>
      e instanceof WorkerUnreachable && e.addr === addr && e.attempts === 3 &&
      e.message.includes(`"${addr}"`),
  );
  const took = performance.now() - t0;
  assert.ok(took >= 3 * 80 && took < 3000, `took ${took} ms`);
  client.close();
});

Deno.test("Lazy Pirate: a timed-out request is retried with a fresh id on a fresh connection and succeeds", async () => {
  const server = await RepServer.bind("127.0.0.1:0");
  const stop = new AbortController();
  let calls = 0;
  const serving = server.serve(async (b) => {
    calls++;
    if (calls === 1) await new Promise((r) => setTimeout(r, 300)); // slower than the deadline
    return b;
  }, stop.signal);
  const client = new ReqClient(server.addr, { timeoutMs: 150, retries: 3 });
  const reply = dec.decode(
    await client.request((a) => enc.encode(`attempt ${a}`)),
  );
  // The stalled first request's late reply is not taken for a later one.
  assert.match(reply, /^attempt [123]$/);
  // The socket still works for the next request (no stuck REQ state).
  assert.equal(dec.decode(await client.request(enc.encode("next"))), "next");
  client.close();
  stop.abort();
  await serving;
  server.close();
});

Deno.test("an aborted wait ends with Closed, not a hang", async () => {
  const addr = await deadAddr();
  const client = new ReqClient(addr, { timeoutMs: 60_000, retries: 0 });
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 50);
  await assert.rejects(
    client.request(enc.encode("x"), { signal: ac.signal }),
    Closed,
  );
  client.close();
});

Deno.test("binding an address in use is a clear error", async () => {
  const a = await RepServer.bind("127.0.0.1:0");
  await assert.rejects(
    RepServer.bind(a.addr),
    /Cannot bind worker to "127\.0\.0\.1:\d+"/,
  );
  a.close();
});

Deno.test("a connection that cannot be opened fails that client's request as a TransportError; other clients are answered", async () => {
  const server = await RepServer.bind("127.0.0.1:0");
  const stop = new AbortController();
  const serving = server.serve((b) => Promise.resolve(b), stop.signal);
  const bad = new ReqClient("127.0.0.1:-1", { timeoutMs: 2000, retries: 2 });
  const good = new ReqClient(server.addr, { timeoutMs: 2000, retries: 0 });
  await assert.rejects(
    bad.request(enc.encode("x")),
    (e) =>
      e instanceof TransportError && !(e instanceof WorkerUnreachable) &&
      /Cannot connect to "127\.0\.0\.1:-1"/.test(e.message),
  );
  assert.equal(dec.decode(await good.request(enc.encode("ok"))), "ok");
  bad.close();
  good.close();
  stop.abort();
  await serving;
  server.close();
});

Deno.test("50 clients of one server wait at once over one shared connection, each gets its own reply", async () => {
  const server = await RepServer.bind("127.0.0.1:0");
  const stop = new AbortController();
  const serving = server.serve((b) => Promise.resolve(b), stop.signal);
  const clients = Array.from(
    { length: 50 },
    () => new ReqClient(server.addr, { timeoutMs: 5000, retries: 0 }),
  );
  const replies = await Promise.all(
    clients.map((c, i) => c.request(enc.encode(`m${i}`))),
  );
  assert.deepEqual(
    replies.map((r) => dec.decode(r)),
    clients.map((_, i) => `m${i}`),
  );
  for (const c of clients) c.close();
  stop.abort();
  await serving;
  server.close();
});

Deno.test("a plain REQ socket is answered by a RepServer (a ROUTER answering as REP)", async () => {
  const server = await RepServer.bind("127.0.0.1:0");
  const stop = new AbortController();
  const serving = server.serve(
    (b) => Promise.resolve(enc.encode(`re ${dec.decode(b)}`)),
    stop.signal,
  );
  const req = new zmq.Request({ linger: 0 });
  req.connect(`tcp://${server.addr}`);
  try {
    const deadline = performance.now() + 5000;
    for (const m of ["a", "b"]) {
      await waitReady(req, { want: "writable", deadline });
      await req.send(m);
      await waitReady(req, { want: "readable", deadline, hot: true });
      const [reply] = await req.receive();
      assert.equal(dec.decode(reply), `re ${m}`);
    }
  } finally {
    req.close();
    stop.abort();
    await serving;
    server.close();
  }
});

// Canary: under Deno 2.9.6 a plain `await receive()` that has to wait for a
// reply from another process does not resolve (zeromq's poller does not fire),
// which is why transport.ts polls `readable`. When this test fails, the pinned
// Deno has fixed it: the polling in transport.ts can be replaced by plain awaits.
Deno.test("canary: a plain await receive() still hangs under this Deno", async () => {
  const server = await RepServer.bind("127.0.0.1:0");
  const stop = new AbortController();
  const serving = server.serve(async (b) => {
    await new Promise((r) => setTimeout(r, 100)); // the client has to wait
    return b;
  }, stop.signal);
  // The hang is not certain on every try (seen: most tries hang), so up to
  // 10 round trips are tried, each on a fresh socket; the first hang answers.
  const code = `
    import * as zmq from "zeromq";
    for (let i = 0; i < 10; i++) {
      const req = new zmq.Request({ linger: 0 });
      req.connect("tcp://${server.addr}");
      await req.send("ping");
      const hung = await Promise.race([
        req.receive().then(() => false),
        new Promise((r) => setTimeout(() => r(true), 700)),
      ]);
      if (hung) { console.log("hung after " + i + " round trips"); Deno.exit(0); }
      req.close();
    }
    console.log("received every reply");
    Deno.exit(0);`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", code],
    cwd: new URL("..", import.meta.url).pathname,
    stdout: "piped",
    stderr: "null",
  }).output();
  stop.abort();
  await serving;
  server.close();
  assert.match(
    dec.decode(out.stdout),
    /hung/,
    "A plain await receive() works under this Deno: the readiness polling in core/transport.ts can go",
  );
});
