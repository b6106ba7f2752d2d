/**
 * Warm probe processes: `treecast parent|child|proxy --standby` starts Deno,
 * loads the probes and serves one probe job after another, so that a job's
 * probe listens a few milliseconds after its COMMAND instead of after a
 * Deno start-up (~0.4 s quiet, seconds on a loaded 2-core VM; a stage paid
 * two in a row, children then parent, and an evaluation one per layer).
 *
 * The protocol, one JSON object per line, of any length (a reader assembles
 * whole lines; a writer writes each line whole); every line about a job
 * carries its id, so no line is ever taken for another job's:
 * - stdout `{"event":"standby","probe":ROLE}`: it waits for a job;
 * - stdin `{"job":ID,"args":[...]}` or `{"job":ID,"probe":"proxy","args":[...]}`:
 *   job ID (a whole number the worker chooses), run exactly as
 *   `treecast PROBE ARGS` would (same parsing, validation, output and exit
 *   codes); `probe` defaults to ROLE, so one warm process serves jobs of
 *   every kind;
 * - stdout `{"job":ID,"out":LINE}`: each line the job printed on stdout;
 *   `{"job":ID,"event":"stderr","text":...}`: its stderr text (on stdout
 *   too, so that everything a job printed arrives before its end);
 * - stdout `{"job":ID,"event":"exit","code":N}`: the job ended with exit
 *   code N; the process then waits for the next job (a new standby line).
 *   A job line that is no job (not JSON, no id, ...) ends as exit 2 with
 *   the id it carried, or `"job":null`.
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

/**
 * Longest job line read, characters (16 MiB: a worker's job line comes from
 * a control message of at most 1 MiB). A longer one is read to its end and
 * refused as a whole, never split into jobs.
 */
export const MAX_LINE = 16 * 1024 * 1024;

/** A job line, parsed. */
export interface StandbyJob {
  job: number;
  probe: StandbyRole;
  args: string[];
}

/** A job line that is no job: why, and the id it carried (if any). */
export interface StandbyRefusal {
  job: number | null;
  error: string;
}

function _jobId(o: unknown): number | null {
  const id = (o as { job?: unknown } | null)?.job;
  return typeof id === "number" && Number.isSafeInteger(id) && id >= 0
    ? id
    : null;
}

/**
 * Parses a job line: `{"job": ID, "args": [string...]}` with an optional
 * `"probe"` naming a role; a {@link StandbyRefusal} otherwise.
 */
export function parseStandbyLine(
  line: string,
  role: StandbyRole,
): StandbyJob | StandbyRefusal {
  let obj: unknown;
  try {
    obj = JSON.parse(line);
  } catch {
    const id = line.match(/^\{"job":(\d{1,15})[,}]/)?.[1];
    return {
      job: id === undefined ? null : Number(id),
      error: "Standby input is not JSON",
    };
  }
  const job = _jobId(obj);
  const refuse = (error: string) => ({ job, error });
  if (job === null) {
    return refuse('Standby input must carry {"job": a whole number}');
  }
  const o = obj as { args?: unknown; probe?: unknown };
  const args = o.args;
  if (!Array.isArray(args) || !args.every((a) => typeof a === "string")) {
    return refuse('Standby input must be {"job": ID, "args": [strings]}');
  }
  const probe = o.probe ?? role;
  if (!STANDBY_ROLES.includes(probe as StandbyRole)) {
    return refuse(
      `Standby input's "probe" must be one of ${STANDBY_ROLES.join(", ")}`,
    );
  }
  return { job, probe: probe as StandbyRole, args };
}

/** A line read whole, or the start of one longer than the reader takes. */
export interface Line {
  /** The line (without its newline), or its first `max` characters. */
  text: string;
  /** It was longer than `max`: the rest was read and dropped. */
  overlong: boolean;
}

/**
 * Whole lines of `stream`, of any length up to `max` characters, one at a
 * time; undefined once it ends. A longer line is read to its end and comes
 * once, marked overlong: never split into several lines.
 */
export function lineReader(
  stream: ReadableStream<Uint8Array>,
  max = MAX_LINE,
): () => Promise<Line | undefined> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  return async () => {
    let head: string | undefined; // the start of an overlong line
    let from = 0; // buf holds no newline before this
    for (;;) {
      const nl = buf.indexOf("\n", from);
      if (nl >= 0) {
        const text = head ?? buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const overlong = head !== undefined || text.length > max;
        return { text: overlong ? text.slice(0, max) : text, overlong };
      }
      if (head === undefined && buf.length > max) head = buf.slice(0, max);
      if (head !== undefined) buf = "";
      from = buf.length;
      const { value, done } = await reader.read();
      if (done) {
        const text = head ?? buf;
        buf = "";
        if (text === "" && head === undefined) return undefined;
        return { text, overlong: head !== undefined };
      }
      buf += value;
    }
  };
}

/** Writes all of `text` to stdout (a pipe may take a long line in parts). */
function _writeAll(text: string): void {
  const bytes = new TextEncoder().encode(text);
  for (let at = 0; at < bytes.length;) {
    at += Deno.stdout.writeSync(bytes.subarray(at));
  }
}

/**
 * Text written in pieces, sent on as whole lines (`emit`), the rest once
 * `flush` is called.
 */
function _lines(emit: (line: string) => void) {
  let pending = "";
  return {
    write(text: string): void {
      pending += text;
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        emit(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
      }
    },
    flush(): void {
      if (pending !== "") emit(pending);
      pending = "";
    },
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
  const line = (obj: object) => _writeAll(JSON.stringify(obj) + "\n");
  // The job being run: every line it prints goes out with its id.
  let job: number | null = null;
  const out = _lines((text) => line({ job, out: text }));
  const jobIo: Io = {
    out: (text) => out.write(text),
    err: (text) => line({ job, event: "stderr", text }),
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
  const next = lineReader(Deno.stdin.readable);
  reuseNativeWorkers(); // one Worker serves job after job too
  try {
    for (;;) {
      prewarmNative(); // the native probe's Worker loads while it waits
      line({ event: "standby", probe: role });
      const input = await next();
      if (input === undefined) return 0; // no more jobs: the worker is gone
      const parsed = input.overlong
        ? {
          ...parseStandbyLine(input.text, role),
          error: `Standby input is over ${MAX_LINE} characters`,
        }
        : parseStandbyLine(input.text, role);
      job = parsed.job;
      let code: number;
      busy = true;
      try {
        if ("error" in parsed) {
          jobIo.err(`error: ${parsed.error}\n`);
          code = 2;
        } else {
          code = await built[parsed.probe].run(parsed.args);
        }
      } catch (e) {
        jobIo.err(`error: ${(e as Error).message}\n`);
        code = 1;
      } finally {
        busy = false;
      }
      out.flush();
      line({ job, event: "exit", code });
      job = null;
    }
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, idleExit);
    dropPrewarmed();
  }
}
