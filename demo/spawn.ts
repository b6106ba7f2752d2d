/**
 * Starting treecast processes that announce themselves with a ready line
 * (the testbed's workers; tests start probes and workers the same way), and
 * ending them: SIGTERM, then SIGKILL after a grace, so a process that does
 * not exit (paused by SIGSTOP, stuck) never hangs whoever waits for it.
 *
 * @module
 */
import { selfCommand } from "../core/self.ts";
import { killTree } from "./proc.ts";

/** How long {@link ReadyProcess.stop} waits after SIGTERM before SIGKILL, ms. */
export const STOP_GRACE_MS = 5_000;

/** Options of {@link spawnReady}. */
export interface SpawnOptions {
  stderr?: "inherit" | "null";
  timeoutMs?: number;
  /** A command that runs treecast, e.g. `["ip", "netns", "exec", "NS"]`. */
  wrap?: readonly string[];
  /** Grace of {@link ReadyProcess.stop}, ms (default {@link STOP_GRACE_MS}). */
  stopGraceMs?: number;
}

/** A running treecast subprocess whose first stdout line was a ready event. */
export interface ReadyProcess {
  /** The bound address from the ready line. */
  addr: string;
  child: Deno.ChildProcess;
  /**
   * Sends `signal` (default SIGTERM) once and resolves to the exit status.
   * A process still there after the grace is SIGKILLed, with every process
   * it started.
   */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/**
 * Starts `treecast ARGS` and resolves once it printed its
 * `{"event":"ready","bind":...}` line; later stdout is drained and dropped.
 * Rejects if it exits first or is not ready within `timeoutMs`.
 */
export async function spawnReady(
  args: readonly string[],
  opts: SpawnOptions = {},
): Promise<ReadyProcess> {
  const self = selfCommand(args);
  // A wrapper such as `ip netns exec NAME` execs treecast in place, so the
  // child's pid and signals stay treecast's own.
  const [cmd, ...argv] = [...(opts.wrap ?? []), self.cmd, ...self.args];
  const child = new Deno.Command(cmd!, {
    args: argv,
    stdin: "null",
    stdout: "piped",
    stderr: opts.stderr ?? "null",
  }).spawn();
  let stopped: Promise<Deno.CommandStatus> | undefined;
  const stop = (signal: Deno.Signal = "SIGTERM") =>
    stopped ??= stopWithin(child, signal, opts.stopGraceMs ?? STOP_GRACE_MS);
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const limitMs = opts.timeoutMs ?? 15_000;
  let late = false;
  const guard = setTimeout(() => {
    late = true;
    stop("SIGKILL");
  }, limitMs);
  let buf = "";
  try {
    while (!buf.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) {
        throw new Error(
          `"treecast ${args.join(" ")}" ${
            late
              ? `was not ready within ${limitMs} ms (killed)`
              : "exited before it was ready"
          }`,
        );
      }
      buf += value;
    }
  } finally {
    clearTimeout(guard);
  }
  const ready = JSON.parse(buf.slice(0, buf.indexOf("\n")));
  (async () => {
    try {
      while (!(await reader.read()).done) { /* drain */ }
    } catch { /* closed */ }
  })();
  return { addr: String(ready.bind), child, stop };
}

/** Sends `signal`; SIGKILLs the process tree if it has not exited `graceMs` later. */
async function stopWithin(
  child: Deno.ChildProcess,
  signal: Deno.Signal,
  graceMs: number,
): Promise<Deno.CommandStatus> {
  try {
    child.kill(signal);
  } catch { /* already gone */ }
  if (signal === "SIGKILL") return await child.status;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const first = await Promise.race([
    child.status,
    new Promise<"late">((r) => timer = setTimeout(() => r("late"), graceMs)),
  ]);
  clearTimeout(timer);
  if (first === "late") killTree(child.pid);
  return await child.status;
}

/**
 * Starts several `treecast` processes at once (see {@link spawnReady}). If
 * any is not ready, the others are stopped before the error is thrown, so
 * nothing is left running.
 */
export async function spawnAllReady(
  argsList: readonly (readonly string[])[],
  opts: SpawnOptions | ((i: number) => SpawnOptions) = {},
): Promise<ReadyProcess[]> {
  const settled = await Promise.allSettled(
    argsList.map((a, i) =>
      spawnReady(a, typeof opts === "function" ? opts(i) : opts)
    ),
  );
  const failed = settled.find((r): r is PromiseRejectedResult =>
    r.status === "rejected"
  );
  const ready = settled.filter((r): r is PromiseFulfilledResult<ReadyProcess> =>
    r.status === "fulfilled"
  ).map((r) => r.value);
  if (failed) {
    await Promise.all(ready.map((p) => p.stop()));
    throw failed.reason;
  }
  return ready;
}
