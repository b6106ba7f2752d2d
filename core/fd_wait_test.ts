import assert from "node:assert/strict";
import * as zmq from "zeromq";
import { type FdWait, openFdWait } from "./fd_wait.ts";
import { waitReady, wakeOnSocketEvents } from "./ready.ts";
import { RepServer } from "./transport.ts";

// A poll in flight is an async op until its timeout: ops are not sanitized.
Deno.test({
  name:
    "an idle server waiting in poll(2) is woken by its socket's signal and answers",
  sanitizeOps: false,
  ignore: openFdWait() === undefined,
  fn: async () => {
    const poll = openFdWait()!;
    const ends: boolean[] = [];
    const counted: FdWait = async (fds, ms) => {
      const signalled = await poll(fds, ms);
      ends.push(signalled);
      return signalled;
    };
    assert.ok(wakeOnSocketEvents(counted));
    const server = await RepServer.bind("127.0.0.1:0");
    const stop = new AbortController();
    const serving = server.serve((b) => Promise.resolve(b), stop.signal);
    const req = new zmq.Request({ linger: 0 });
    req.connect(`tcp://${server.addr}`);
    try {
      const deadline = performance.now() + 10_000;
      await waitReady(req, { want: "writable", deadline });
      // Past the loop's warm second: only the idle server waits, in poll(2).
      await new Promise((r) => setTimeout(r, 1500));
      const idle = ends.length;
      await req.send("hi");
      // Not hot: the reply must come through the server's idle poll.
      await waitReady(req, { want: "readable", deadline });
      const [reply] = await req.receive();
      assert.equal(new TextDecoder().decode(reply), "hi");
      assert.ok(
        ends.slice(idle).includes(true),
        `no poll(2) ended on a signal: ${ends.slice(idle)}`,
      );
    } finally {
      wakeOnSocketEvents(undefined);
      req.close();
      stop.abort();
      await serving;
      server.close();
    }
  },
});
