/**
 * How treecast starts itself as a subprocess (probe jobs, demo workers):
 * the compiled executable runs its subcommand directly; from source, the
 * same Deno runs `main.ts`. Never a shell, never a command string.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

/** The command and arguments that run `treecast ARGS`. */
export function selfCommand(
  args: readonly string[],
): { cmd: string; args: string[] } {
  if (Deno.build.standalone) return { cmd: Deno.execPath(), args: [...args] };
  const main = fileURLToPath(new URL("../main.ts", import.meta.url));
  return { cmd: Deno.execPath(), args: ["run", "-A", main, ...args] };
}

/** Options of {@link spawnReady}. */
export interface SpawnOptions {
  stderr?: "inherit" | "null";
  timeoutMs?: number;
  /** A command that runs treecast, e.g. `["ip", "netns", "exec", "NS"]`. */
  wrap?: readonly string[];
}

/** A running treecast subprocess whose first stdout line was a ready event. */
export interface ReadyProcess {
  /** The bound address from the ready line. */
  addr: string;
  child: Deno.ChildProcess;
  /** Sends `signal` (default SIGTERM) once and resolves to the exit status. */
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
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let stopped: Promise<Deno.CommandStatus> | undefined;
  const stop = (signal: Deno.Signal = "SIGTERM") => {
    if (!stopped) {
      try {
        child.kill(signal);
      } catch { /* already gone */ }
      stopped = child.status;
    }
    return stopped;
  };
  let buf = "";
  const limitMs = opts.timeoutMs ?? 15_000;
  let late = false;
  const guard = setTimeout(() => {
    late = true;
    stop("SIGKILL");
  }, limitMs);
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
