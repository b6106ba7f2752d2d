/**
 * Test helpers of the worker's unit tests.
 *
 * @module
 */
import { commandNames, newRun, rosterTags } from "../core/roster.ts";
import { decode, encode, type Message } from "../proto/codec.ts";
import { FIXTURES } from "../proto/_fixtures.ts";
import { RepServer } from "../core/transport.ts";
import type { ProbeRunner } from "./jobs.ts";
import { Worker } from "./worker.ts";

/**
 * CONNECTs `worker` in a fresh run (as a manager does); resolves to what
 * makes a COMMAND message one of that run's, naming workers it admitted.
 */
export async function joinRun(
  worker: Worker,
): Promise<(m: Message) => Message> {
  const { run, key } = newRun();
  const hello = { ...FIXTURES.connect!.data.hello!, run, rosterKey: key };
  const reply = decode(
    await worker.handle(encode({
      ...FIXTURES.connect!,
      data: { ...FIXTURES.connect!.data, hello },
    })),
  );
  if (reply.type !== "ACK") throw new Error("CONNECT was refused");
  return (m) => {
    const cmd = m.data.command!;
    return {
      ...m,
      data: {
        ...m.data,
        command: {
          ...cmd,
          run,
          rosterTags: rosterTags(key, commandNames(cmd)),
        },
      },
    };
  };
}

/** Probes that print a ready line and run until stopped; `kinds` records each start. */
export function fakeProbes(kinds: string[]): ProbeRunner {
  return (kind) => {
    kinds.push(kind);
    let end: (code: number) => void = () => {};
    const ended = new Promise<number>((r) => (end = r));
    return {
      pid: 0,
      run: (onOut) => {
        onOut(JSON.stringify({ event: "ready", bind: "127.0.0.1:40000" }));
        return ended;
      },
      kill: () => end(143),
    };
  };
}

/** A worker on a real REP socket whose relays wait 30 s unless told; its probes are {@link fakeProbes}. */
export async function served(
  opts: { relayTimeoutMs?: number } = {},
) {
  const server = await RepServer.bind("127.0.0.1:0");
  const kinds: string[] = [];
  const worker = new Worker({
    name: server.addr,
    relayTimeoutMs: opts.relayTimeoutMs ?? 30_000,
    probes: fakeProbes(kinds),
  });
  const stop = new AbortController();
  const serving = worker.serve(server, stop.signal);
  return {
    addr: server.addr,
    worker,
    kinds,
    close: async () => {
      stop.abort();
      await serving;
      server.close();
      await worker.close();
    },
  };
}
