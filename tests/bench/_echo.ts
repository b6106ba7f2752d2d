/**
 * The control-plane baseline of the benchmark: a bare ZeroMQ REP socket
 * (the same `RepServer` and readiness polling a worker uses) that answers
 * every request with its own bytes: no decoding, no worker. Prints
 * `{"event":"ready","bind":"HOST:PORT"}` and serves until SIGTERM.
 *
 * Run: `deno run -A tests/bench/_echo.ts`.
 *
 * @module
 */
import { RepServer } from "../../core/transport.ts";

if (import.meta.main) {
  const server = await RepServer.bind("127.0.0.1:0");
  const stop = new AbortController();
  Deno.addSignalListener("SIGTERM", () => stop.abort());
  console.log(JSON.stringify({ event: "ready", bind: server.addr }));
  await server.serve((request) => Promise.resolve(request), stop.signal);
  server.close();
}
