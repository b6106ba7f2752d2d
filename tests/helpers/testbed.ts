/**
 * The testbed of cross-process tests: the demo's (`demo/testbed.ts`), on
 * 127.0.0.1, in the short form most tests need.
 *
 * @module
 */
import {
  startTestbed as startDemoTestbed,
  type Testbed as DemoTestbed,
} from "../../demo/testbed.ts";

/** A local testbed, and the addresses of its stragglers. */
export interface Testbed extends DemoTestbed {
  stragglers: string[];
}

/**
 * Starts `n` workers on 127.0.0.1 (port 0); workers at the `slow` indices
 * run with `--emulate EMULATE`; `args` go to every worker, `perWorker[i]`
 * to worker i.
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
  const bed = await startDemoTestbed({
    workers: n,
    slow: new Set(opts.slow ?? []),
    ...(opts.emulate !== undefined ? { emulate: opts.emulate } : {}),
    workerArgs: (i) => [...opts.args ?? [], ...opts.perWorker?.[i] ?? []],
  });
  return { ...bed, stragglers: bed.info.stragglers.map((s) => s.addr) };
}
