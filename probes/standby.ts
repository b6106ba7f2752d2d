/**
 * Warm probe processes: `treecast parent|child|proxy --standby` starts Deno,
 * loads the probes and serves one probe job after another, so that a job's
 * probe listens a few milliseconds after its COMMAND instead of after a
 * Deno start-up (~0.4 s quiet, seconds on a loaded 2-core VM; a stage paid
 * two in a row, children then parent, and an evaluation one per layer).
 *
 * The protocol, one JSON object per line:
 * - stdout `{"event":"standby","probe":ROLE}`: it waits for a job;
 * - stdin `{"args":[...]}` or `{"probe":"proxy","args":[...]}`: one job,
 *   run exactly as `treecast PROBE ARGS` would (same parsing, validation,
 *   output and exit codes); `probe` defaults to ROLE, so one warm process
 *   serves jobs of every kind;
 * - the job's stdout lines as `treecast PROBE` prints them; its stderr text
 *   as `{"event":"stderr","text":...}` on stdout too, so that everything a
 *   job printed arrives before its end;
 * - stdout `{"event":"exit","code":N}`: the job ended with exit code N; the
 *   process then waits for the next job (a new standby line).
 *
 * SIGINT/SIGTERM during a job stops that job (partial results, exit 130,
 * as for a probe of its own); while waiting they end the process. So does
 * the end of stdin (the worker exited or was killed): a standby never
 * outlives its worker. With native I/O the probe's Worker is started while
 * it waits, so that its modules are loaded when the job comes.
 *
 * @module
 */
import { type Command, type Io, stdio } from "../core/cli.ts";
import {
  dropPrewarmed,
  prewarmNative,
  reuseNativeWorkers,
} from "./native/prewarm.ts";

/** The one flag that makes a probe wait for its jobs on stdin. */
export const STANDBY_FLAG = "--standby";

/** The probe roles a standby serves. */
export const STANDBY_ROLES = ["parent", "child", "proxy"] as const;
/** One of {@link STANDBY_ROLES}. */
export type StandbyRole = typeof STANDBY_ROLES[number];

/** Longest accepted line of flags, bytes. */
const MAX_LINE = 64 * 1024;

/** A job line, parsed. */
export interface StandbyJob {
  probe: StandbyRole;
  args: string[];
}

/**
 * Parses a job line; a usage error's message when it is not
 * `{"args": [string...]}` with an optional `"probe"` naming a role.
 */
export function parseStandbyLine(
  line: string,
  role: StandbyRole,
): StandbyJob | string {
  let obj: unknown;
  try {
    obj = JSON.parse(line);
  } catch {
    return "Standby input is not JSON";
  }
  const o = obj as { args?: unknown; probe?: unknown } | null;
  const args = o?.args;
  if (!Array.isArray(args) || !args.every((a) => typeof a === "string")) {
    return 'Standby input must be {"args": [strings]}';
  }
  const probe = o?.probe ?? role;
  if (!STANDBY_ROLES.includes(probe as StandbyRole)) {
    return `Standby input's "probe" must be one of ${STANDBY_ROLES.join(", ")}`;
  }
  return { probe: probe as StandbyRole, args };
}

/** The lines of stdin, one at a time; undefined once it ends. */
function _lines(): () => Promise<string | undefined> {
  const reader = Deno.stdin.readable.pipeThrough(new TextDecoderStream())
    .getReader();
  let buf = "";
  return async () => {
    while (!buf.includes("\n") && buf.length <= MAX_LINE) {
      const { value, done } = await reader.read();
      if (done) {
        const last = buf;
        buf = "";
        return last === "" ? undefined : last;
      }
      buf += value;
    }
    const nl = buf.indexOf("\n");
    const line = nl < 0 ? buf : buf.slice(0, nl);
    buf = nl < 0 ? "" : buf.slice(nl + 1);
    return line;
  };
}

/** The probe commands, built to write to the given output. */
export type ProbeCommands = Record<StandbyRole, (io: Io) => Command>;

/**
 * The `role` command (writing to the process's stdio), also runnable as a
 * warm standby (`--standby` alone) serving jobs of every role.
 */
export function withStandby(
  role: StandbyRole,
  commands: ProbeCommands,
): Command {
  const cmd = commands[role](stdio);
  return {
    spec: cmd.spec,
    run: (args) =>
      args.length === 1 && args[0] === STANDBY_FLAG
        ? serveStandby(role, commands)
        : cmd.run(args),
  };
}

/** Serves jobs on stdin until it ends; resolves to the exit code. */
export async function serveStandby(
  role: StandbyRole,
  commands: ProbeCommands,
): Promise<number> {
  const line = (obj: object) => stdio.out(JSON.stringify(obj) + "\n");
  // Everything a job prints goes to stdout, its stderr text wrapped.
  const jobIo: Io = {
    out: stdio.out,
    err: (text) => line({ event: "stderr", text }),
  };
  const built = Object.fromEntries(
    STANDBY_ROLES.map((r) => [r, commands[r](jobIo)]),
  ) as Record<StandbyRole, Command>;
  let busy = false;
  const idleExit = () => {
    if (!busy) Deno.exit(143);
  };
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, idleExit);
  const next = _lines();
  reuseNativeWorkers(); // one Worker serves job after job too
  try {
    for (;;) {
      prewarmNative(); // the native probe's Worker loads while it waits
      line({ event: "standby", probe: role });
      const text = await next();
      if (text === undefined) return 0; // no more jobs: the worker is gone
      const job = parseStandbyLine(text, role);
      let code: number;
      busy = true;
      try {
        if (typeof job === "string") {
          jobIo.err(`error: ${job}\n`);
          code = 2;
        } else {
          code = await built[job.probe].run(job.args);
        }
      } catch (e) {
        jobIo.err(`error: ${(e as Error).message}\n`);
        code = 1;
      } finally {
        busy = false;
      }
      line({ event: "exit", code });
    }
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, idleExit);
    dropPrewarmed();
  }
}
