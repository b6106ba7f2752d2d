/**
 * Warm probe processes: `treecast parent|child|proxy --standby` starts Deno
 * and loads the probe, prints `{"event":"standby","probe":ROLE}` on
 * stdout, then waits on stdin for one JSON line
 * `{"args": [...]}` holding the probe's flags, and runs the probe with them
 * exactly as `treecast child ARGS` would (same parsing, validation, output
 * and exit codes). A worker keeps one such process per role, so a job's
 * probe is listening a few milliseconds after its COMMAND instead of after
 * a Deno start-up (~0.4 s; a stage paid two in a row, children then parent).
 *
 * With native I/O the probe's Worker is started while it waits, so that
 * its modules are loaded when the job comes.
 *
 * Once it has its flags the process closes its stdin: an idle standby is
 * one whose stdin is still open. If stdin ends before a line (the worker
 * exited or was killed), the process exits 0 without running anything, so
 * a standby never outlives its worker.
 *
 * @module
 */
import { type Command, stdio } from "../core/cli.ts";
import { dropPrewarmed, prewarmNative } from "./native/prewarm.ts";

/** The one flag that makes a probe wait for its flags on stdin. */
export const STANDBY_FLAG = "--standby";

/** Longest accepted line of flags, bytes. */
const MAX_LINE = 64 * 1024;

/** Reads stdin up to its first newline; undefined when it ends first. */
async function _firstLine(): Promise<string | undefined> {
  const reader = Deno.stdin.readable.pipeThrough(new TextDecoderStream())
    .getReader();
  let buf = "";
  try {
    while (!buf.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) return undefined;
      buf += value;
      if (buf.length > MAX_LINE) break;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  const nl = buf.indexOf("\n");
  return nl < 0 ? buf : buf.slice(0, nl);
}

/** Parses the standby line; a usage error's message when it is not `{"args": [string...]}`. */
export function parseStandbyLine(line: string): string[] | string {
  let obj: unknown;
  try {
    obj = JSON.parse(line);
  } catch {
    return "Standby input is not JSON";
  }
  const args = (obj as { args?: unknown } | null)?.args;
  if (!Array.isArray(args) || !args.every((a) => typeof a === "string")) {
    return 'Standby input must be {"args": [strings]}';
  }
  return args;
}

/** `cmd`, also runnable as a warm standby (`--standby` alone). */
export function withStandby(cmd: Command): Command {
  return {
    spec: cmd.spec,
    run: async (args) => {
      if (args.length !== 1 || args[0] !== STANDBY_FLAG) return cmd.run(args);
      prewarmNative(); // the native probe's Worker loads while it waits
      try {
        stdio.out(
          JSON.stringify({ event: "standby", probe: cmd.spec.name }) + "\n",
        );
        const line = await _firstLine();
        if (line === undefined) return 0; // no job came: the worker is gone
        const parsed = parseStandbyLine(line);
        if (typeof parsed === "string") {
          stdio.err(`error: ${parsed}\n`);
          return 2;
        }
        return await cmd.run(parsed);
      } finally {
        dropPrewarmed();
      }
    },
  };
}
