/**
 * A local testbed of real worker processes for cross-process tests.
 *
 * @module
 */
import { type ReadyProcess, spawnAllReady } from "../../core/self.ts";

/** Workers started on 127.0.0.1 (port 0); `stragglers` of them emulate `emulate`. */
export interface Testbed {
  addrs: string[];
  stragglers: string[];
  workers: ReadyProcess[];
  stop(): Promise<void>;
}

/**
 * Starts `n` workers; workers at the `slow` indices run with `--emulate`;
 * `args` go to every worker, `perWorker[i]` to worker i.
 */
export async function startTestbed(
  n: number,
  opts: {
    slow?: number[];
    emulate?: string;
    args?: string[];
    perWorker?: string[][];
  } = {},
): Promise<Testbed> {
  const slow = new Set(opts.slow ?? []);
  const workers = await spawnAllReady(
    Array.from({ length: n }, (_, i) => [
      "worker",
      "--bind",
      "127.0.0.1:0",
      ...(slow.has(i) && opts.emulate ? ["--emulate", opts.emulate] : []),
      ...(opts.args ?? []),
      ...(opts.perWorker?.[i] ?? []),
    ]),
  );
  const addrs = workers.map((w) => w.addr);
  return {
    addrs,
    stragglers: addrs.filter((_, i) => slow.has(i)),
    workers,
    stop: async () => {
      await Promise.all(workers.map((w) => w.stop()));
    },
  };
}
