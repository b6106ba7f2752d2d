/**
 * Helpers for tests that start treecast processes.
 *
 * @module
 */

/** Absolute path of main.ts. */
export const MAIN = new URL("../../main.ts", import.meta.url).pathname;
/** The repository root (cwd for spawned processes). */
export const ROOT = new URL("../..", import.meta.url).pathname;

/** Output of a finished treecast run. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The argv that runs treecast with `args` (the way the worker spawns probes). */
export function treecastArgs(args: string[]): string[] {
  return ["run", "-A", MAIN, ...args];
}

/** Runs `treecast ARGS` to completion. */
export async function runTreecast(
  args: string[],
  opts: { timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<RunResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: treecastArgs(args),
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...opts.env },
    signal: AbortSignal.timeout(opts.timeoutMs ?? 60_000),
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

/** A running treecast process whose first stdout line was a ready event. */
export interface Running {
  /** The bound address from the ready line. */
  addr: string;
  child: Deno.ChildProcess;
  /** Sends SIGTERM (default) and waits for the exit; resolves to its status. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/** Starts `treecast ARGS` and waits for its `{"event":"ready"}` line. */
export async function startReady(args: string[]): Promise<Running> {
  const child = new Deno.Command(Deno.execPath(), {
    args: treecastArgs(args),
    cwd: ROOT,
    stdout: "piped",
    stderr: "null",
    env: { NO_COLOR: "1" },
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  while (!buf.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) {
      await child.status;
      throw new Error(
        `treecast ${args.join(" ")} exited before its ready line`,
      );
    }
    buf += value;
  }
  const ready = JSON.parse(buf.split("\n")[0]!);
  // Keep draining stdout so the process never blocks on a full pipe.
  (async () => {
    try {
      while (!(await reader.read()).done) { /* drain */ }
    } catch { /* closed */ }
  })();
  let stopped: Promise<Deno.CommandStatus> | undefined;
  return {
    addr: ready.bind,
    child,
    stop(signal: Deno.Signal = "SIGTERM") {
      if (!stopped) {
        try {
          child.kill(signal);
        } catch { /* already gone */ }
        stopped = child.status;
      }
      return stopped;
    },
  };
}
