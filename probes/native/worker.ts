/**
 * The Web Worker of the native backend: takes a {@link NativeJob}, runs
 * its hot loop with blocking FFI calls (`recv.ts` for child and proxy,
 * `send.ts` for parent), and posts `running`, then the result line (or the
 * failure), then waits for the next job. Started by `run.ts`; listed with
 * `--include` in the compile task.
 *
 * @module
 */
import { threadLibc } from "./libc.ts";
import { childLoop, proxyLoop } from "./recv.ts";
import type { NativeJob, NativeReport } from "./run.ts";
import { parentLoop } from "./send.ts";
import { NativeUdp } from "./socket.ts";

const self = globalThis as unknown as {
  onmessage: ((e: MessageEvent<NativeJob>) => void) | null;
  postMessage(m: NativeReport): void;
  close(): void;
};

// One job at a time: `run.ts` posts the next only after this one reported.
self.onmessage = (e: MessageEvent<NativeJob>) => {
  const job = e.data;
  try {
    const libc = threadLibc();
    if (libc === null) {
      throw new Error("libc.so.6 cannot be loaded in the Worker");
    }
    const sock = NativeUdp.adopt(libc, job.fd, job.kernelTs);
    const stop = new Int32Array(job.stop);
    const running = () => self.postMessage({ kind: "running" });
    const result = job.role === "child"
      ? childLoop(sock, job.bind, job.opts, stop, running)
      : job.role === "proxy"
      ? proxyLoop(sock, job.bind, job.opts, job.targets, stop, running)
      : parentLoop(sock, job.opts, job.targets, stop, running);
    self.postMessage({ kind: "result", result });
  } catch (err) {
    self.postMessage({ kind: "error", message: (err as Error).message });
  }
};
