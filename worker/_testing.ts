/**
 * Test helpers of the worker's unit tests.
 *
 * @module
 */
import { commandNames, newRun, rosterTags } from "../core/roster.ts";
import { decode, encode, type Message } from "../proto/codec.ts";
import { FIXTURES } from "../proto/_fixtures.ts";
import type { Worker } from "./worker.ts";

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
