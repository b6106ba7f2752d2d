/**
 * One set of local worker processes kept across the cases of a test file,
 * so that each case does not pay a dozen Deno start-ups. Every case takes
 * the first `n` workers, each live, unpaused and idle (its warm probes
 * started, no probe job running): when a case ends (`release`), a worker
 * it killed, paused (told with {@link SharedTestbed.paused}) or left
 * running a job is replaced by a fresh one (port 0).
 *
 * The processes outlive a test, so the cases that take them run without
 * Deno's resource and op sanitizers; {@link SharedTestbed.stop} ends them
 * (`Deno.test.afterAll`).
 *
 * @module
 */
import { killTree } from "../../demo/proc.ts";
import { settle } from "../../demo/settle.ts";
import { type ReadyProcess, spawnAllReady } from "../../demo/spawn.ts";
import { alive, jobsOf, until } from "./proc.ts";

/** What a case gets: the workers' control addresses and processes, by index. */
export interface SharedWorkers {
  addrs: string[];
  workers: ReadyProcess[];
  /** Ends the case: what it spoilt is replaced for the next. */
  release(): Promise<void>;
}

/** How long a worker may keep a job of the last case before it is replaced, ms. */
const JOB_GRACE_MS = 2_000;

/** See the module doc. */
export class SharedTestbed {
  readonly #size: number;
  readonly #args: readonly string[];
  #workers: ReadyProcess[] = [];
  #paused = new Set<ReadyProcess>();

  /** `size` workers, each started with `worker --bind 127.0.0.1:0 ARGS`. */
  constructor(size: number, args: readonly string[] = []) {
    this.#size = size;
    this.#args = args;
  }

  #spawn(count: number): Promise<ReadyProcess[]> {
    return spawnAllReady(
      Array.from(
        { length: count },
        () => ["worker", "--bind", "127.0.0.1:0", ...this.#args],
      ),
      // Many Deno processes starting at once on a loaded machine.
      { timeoutMs: 60_000 },
    );
  }

  /** Says that the case paused (SIGSTOP) this worker: it is replaced. */
  paused(w: ReadyProcess): void {
    this.#paused.add(w);
  }

  /** The first `n` workers, every one live, unpaused and idle. */
  async take(n: number): Promise<SharedWorkers> {
    if (n > this.#size) throw new Error(`${n} workers of ${this.#size}`);
    if (this.#workers.length === 0) {
      this.#workers = await this.#spawn(this.#size);
    }
    // The warm probes started and the workers quiet, as a case expects.
    await settle(this.#workers.map((w) => w.child.pid), { timeoutMs: 30_000 });
    const workers = this.#workers.slice(0, n);
    return {
      addrs: workers.map((w) => w.addr),
      workers,
      release: () => this.#heal(),
    };
  }

  /**
   * Replaces every worker that is dead, paused, or still running a job
   * {@link JOB_GRACE_MS} after the case (with the probes it started).
   */
  async #heal(): Promise<void> {
    await until(
      () => this.#workers.every((w) => jobsOf(w.child.pid).length === 0),
      JOB_GRACE_MS,
    );
    const spoilt = this.#workers.flatMap((w, i) =>
      this.#paused.has(w) || !alive(w.child.pid) ||
        jobsOf(w.child.pid).length > 0
        ? [i]
        : []
    );
    for (const i of spoilt) {
      const w = this.#workers[i]!;
      killTree(w.child.pid);
      await w.stop("SIGKILL");
    }
    this.#paused.clear();
    const fresh = await this.#spawn(spoilt.length);
    spoilt.forEach((i, k) => this.#workers[i] = fresh[k]!);
  }

  /** Stops every worker (and SIGKILLs a paused one). */
  async stop(): Promise<void> {
    for (const w of this.#paused) killTree(w.child.pid);
    await Promise.all(this.#workers.map((w) => w.stop()));
    this.#workers = [];
  }
}
