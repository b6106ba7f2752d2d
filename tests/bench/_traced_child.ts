/**
 * A `treecast child` process for the memory benchmark, started as a worker
 * starts it but, when running from source, with V8's `--trace-gc`: every
 * major collection (Mark-Compact) prints the heap before and after it, so
 * the benchmark can tell a leak (live heap growing) from a heap that only
 * keeps more space committed (RSS steps, live heap flat). The tracing only
 * prints; it changes no collection. Compiled, the child runs untraced.
 *
 * @module
 */
import { selfCommand } from "../../core/self.ts";

/** One major collection of the child's V8 heap (V8 prints MB = 2^20 bytes). */
export interface MajorGc {
  /** ms since the child started. */
  atMs: number;
  /** Heap used before and after, committed after, MiB. */
  beforeMiB: number;
  liveMiB: number;
  committedMiB: number;
}

const MARK_COMPACT =
  /(\d+) ms: .*Mark-Compact.*? ([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB/;

/** A running child probe; see the module doc. */
export class TracedChild {
  /** The bound address from the ready line. */
  readonly bind: string;
  /** Whether V8 traces its collections (running from source). */
  readonly traced: boolean;
  #proc: Deno.ChildProcess;
  #gcs: MajorGc[];
  #events: Record<string, unknown>[];
  #done: Promise<void>;
  #stderr: Promise<string>;

  private constructor(
    init: {
      bind: string;
      traced: boolean;
      proc: Deno.ChildProcess;
      gcs: MajorGc[];
      events: Record<string, unknown>[];
      done: Promise<void>;
      stderr: Promise<string>;
    },
  ) {
    this.bind = init.bind;
    this.traced = init.traced;
    this.#proc = init.proc;
    this.#gcs = init.gcs;
    this.#events = init.events;
    this.#done = init.done;
    this.#stderr = init.stderr;
  }

  /** Starts `treecast child ARGS` and resolves once it printed its ready line. */
  static async start(args: string[]): Promise<TracedChild> {
    const self = selfCommand(["child", ...args]);
    const traced = !Deno.build.standalone;
    const argv = traced
      ? [self.args[0]!, "--v8-flags=--trace-gc", ...self.args.slice(1)]
      : self.args;
    const proc = new Deno.Command(self.cmd, {
      args: argv,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const gcs: MajorGc[] = [], events: Record<string, unknown>[] = [];
    let onReady: (bind: string) => void = () => {};
    const ready = new Promise<string>((r) => (onReady = r));
    const done = (async () => {
      let rest = "";
      for await (
        const chunk of proc.stdout.pipeThrough(new TextDecoderStream())
      ) {
        rest += chunk;
        let nl;
        while ((nl = rest.indexOf("\n")) >= 0) {
          const line = rest.slice(0, nl).trim();
          rest = rest.slice(nl + 1);
          // V8 prints through C stdio, flushed in blocks that can end
          // mid-line: a JSON line may follow part of a trace line.
          const json = line.indexOf('{"event"');
          if (json >= 0) {
            const e = JSON.parse(line.slice(json)) as Record<string, unknown>;
            events.push(e);
            if (e.event === "ready") onReady(String(e.bind));
            continue;
          }
          const m = line.match(MARK_COMPACT);
          if (m) {
            gcs.push({
              atMs: Number(m[1]),
              beforeMiB: Number(m[2]),
              liveMiB: Number(m[4]),
              committedMiB: Number(m[5]),
            });
          }
        }
      }
    })();
    const stderr = new Response(proc.stderr).text();
    const exited = done.then(async () => {
      throw new Error(
        `The child probe exited before it was ready: ${(await stderr).trim()}`,
      );
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) =>
      timer = setTimeout(
        () => reject(new Error("The child probe was not ready within 30 s")),
        30_000,
      )
    );
    try {
      const bind = await Promise.race([ready, exited, late]);
      return new TracedChild({
        bind,
        traced,
        proc,
        gcs,
        events,
        done,
        stderr,
      });
    } catch (e) {
      proc.kill("SIGKILL");
      await proc.status;
      throw e;
    } finally {
      clearTimeout(timer);
      exited.catch(() => {});
    }
  }

  /** The process id. */
  get pid(): number {
    return this.#proc.pid;
  }

  /** Major collections so far (empty when untraced). */
  get majorGcs(): readonly MajorGc[] {
    return this.#gcs;
  }

  /** Sends a signal (once it exited, nothing). */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    try {
      this.#proc.kill(signal);
    } catch { /* already gone */ }
  }

  /** Waits for the end: exit code, the result line if any, stderr. */
  async finish(): Promise<
    { code: number; result?: Record<string, unknown>; stderr: string }
  > {
    const { code } = await this.#proc.status;
    await this.#done;
    const result = this.#events.find((e) => e.event === "result");
    return { code, ...(result ? { result } : {}), stderr: await this.#stderr };
  }
}
