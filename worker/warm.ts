/**
 * A worker's warm probe processes (`treecast KIND --standby`, see
 * `probes/standby.ts`): started ahead of the jobs, so that a job's probe
 * listens a few milliseconds after its COMMAND instead of after a Deno
 * start-up. Each is handed one job's flags on stdin and replaced once that
 * job's probe exits (never while it measures).
 *
 * @module
 */
import { selfCommand } from "../core/self.ts";
import { STANDBY_FLAG } from "../probes/standby.ts";

/** The roles a probe process plays. */
export type ProbeKind = "parent" | "child" | "proxy";

/**
 * Warm probes kept per kind: one. (Two children, tried so that a worker
 * drawn as a candidate again in the next batch finds one waiting, made
 * short experiments slower on a 2-core machine: every worker's start-up
 * then boots a third Deno.)
 */
export const WARM_PER_KIND: Readonly<Record<ProbeKind, number>> = {
  child: 1,
  parent: 1,
  proxy: 1,
};

/** A warm probe process; `waiting` resolves once it said it waits (`ready`) or exited. */
interface Warm {
  process: Deno.ChildProcess;
  waiting: Promise<void>;
  ready: boolean;
}

/** The warm probe processes of one worker. */
export class WarmProbes {
  #warm = new Map<ProbeKind, Warm[]>();
  #closed = false;

  /**
   * Starts the warm probes of the roles every build uses, child and parent,
   * one after the other so that their start-ups do not compete; a warm
   * proxy follows the first proxy job (only evaluations have them).
   * Resolves when they all wait (or failed to start).
   */
  async warmUp(): Promise<void> {
    await this.topUp("child");
    await this.topUp("parent");
  }

  /**
   * Tops the warm probes of `kind` up to {@link WARM_PER_KIND}, one start-up
   * at a time; gives up on one that exits before it waits.
   */
  async topUp(kind: ProbeKind): Promise<void> {
    while (
      !this.#closed && (this.#warm.get(kind)?.length ?? 0) < WARM_PER_KIND[kind]
    ) {
      if (!await this.#start(kind)) return;
    }
  }

  /** Starts one standby probe of `kind`; resolves to whether it waits. */
  async #start(kind: ProbeKind): Promise<boolean> {
    if (this.#closed) return false;
    const { cmd, args } = selfCommand([kind, STANDBY_FLAG]);
    const p = new Deno.Command(cmd, {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const warm: Warm = { process: p, waiting: Promise.resolve(), ready: false };
    // Its one line so far; the job's reader takes the stream from there.
    warm.waiting = (async () => {
      const reader = p.stdout.getReader();
      try {
        for (let seen = 0; seen === 0;) {
          const { value, done } = await reader.read();
          if (done) return;
          seen = value.indexOf(10) + 1;
        }
        warm.ready = true;
      } catch {
        /* closed: it exited */
      } finally {
        reader.releaseLock();
      }
    })();
    const list = this.#warm.get(kind) ?? [];
    list.push(warm);
    this.#warm.set(kind, list);
    // One that dies while waiting (it should not) is simply forgotten.
    p.status.then(async () => {
      if (!this.#remove(kind, warm)) return;
      await warm.waiting;
      p.stdout.cancel().catch(() => {});
      p.stderr.cancel().catch(() => {});
    });
    await warm.waiting;
    return warm.ready;
  }

  /** Removes `warm` from the warm probes of `kind`; false if it was not there. */
  #remove(kind: ProbeKind, warm: Warm): boolean {
    const list = this.#warm.get(kind) ?? [];
    const i = list.indexOf(warm);
    if (i < 0) return false;
    list.splice(i, 1);
    return true;
  }

  /**
   * A warm probe of `kind` (one that waits already, else the oldest still
   * starting) handed `probeArgs` (its stdin then closes); undefined when
   * there is none, or it was gone meanwhile.
   */
  async take(
    kind: ProbeKind,
    probeArgs: string[],
  ): Promise<Deno.ChildProcess | undefined> {
    const list = this.#warm.get(kind) ?? [];
    const standby = list.find((w) => w.ready) ?? list[0];
    if (!standby) return undefined;
    this.#remove(kind, standby);
    await standby.waiting;
    const warm = standby.process;
    const w = warm.stdin.getWriter();
    try {
      await w.write(
        new TextEncoder().encode(JSON.stringify({ args: probeArgs }) + "\n"),
      );
      await w.close();
      return warm;
    } catch {
      try {
        warm.kill("SIGKILL");
      } catch { /* gone */ }
      warm.stdout.cancel().catch(() => {});
      warm.stderr.cancel().catch(() => {});
      return undefined;
    }
  }

  /** Stops every warm probe and waits for them; none is started afterwards. */
  async close(): Promise<void> {
    this.#closed = true;
    const warm = [...this.#warm.values()].flat();
    this.#warm.clear();
    for (const { process: p } of warm) {
      try {
        p.kill("SIGTERM");
      } catch { /* gone */ }
      p.stdin.close().catch(() => {});
    }
    await Promise.all(warm.map((w) => w.waiting));
    for (const { process: p } of warm) {
      p.stdout.cancel().catch(() => {});
      p.stderr.cancel().catch(() => {});
    }
    await Promise.allSettled(warm.map((w) => w.process.status));
  }
}
