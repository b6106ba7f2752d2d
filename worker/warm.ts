/**
 * A worker's warm probe processes (`treecast child --standby`, see
 * `probes/standby.ts`): started ahead of the jobs and reused, job after
 * job, for probes of every kind. A job's probe therefore listens a few
 * milliseconds after its COMMAND instead of after a Deno start-up, and a
 * job's end starts no process (replacing each used probe with a fresh one
 * made the next layer's probes wait for those start-ups, seconds on a
 * loaded 2-core machine). A warm probe is only replaced when it died (a
 * job killed after its timeout, a crash).
 *
 * @module
 */
import { selfCommand } from "../core/self.ts";
import {
  lineReader,
  STANDBY_FLAG,
  type StandbyRole,
} from "../probes/standby.ts";

/** The roles a probe process plays (those a warm probe serves). */
export type ProbeKind = StandbyRole;

/**
 * Warm probes a worker starts ahead: two, what a stage asks of one worker
 * at most (a parent, or a child, or both when it is drawn twice) and what
 * an evaluation asks (a proxy or a child).
 */
export const WARM_PROBES = 2;

/**
 * Warm probes a worker keeps at most. A job that finds them all busy
 * starts one more, kept for the jobs after it, up to this many (LEMON's
 * all-to-all runs a parent and `limit` children at once); beyond it a job
 * gets a probe process of its own, which exits with the job.
 */
export const WARM_MAX = 4;

/** A probe job's process, as the job table sees it. */
export interface ProbeRun {
  readonly pid: number;
  /**
   * Runs the job out: feeds its stdout lines and stderr lines, resolves to
   * its exit code once it ended.
   */
  run(onOut: (line: string) => void, onErr: (line: string) => void): Promise<
    number
  >;
  /** SIGTERM: stop with partial results; SIGKILL: kill the process. */
  kill(signal: Deno.Signal): void;
}

/**
 * How long a job waits for a warm probe that is still starting, ms; then it
 * gets a probe process of its own (the warm probe serves later jobs once it
 * waits). As long as a probe process of its own may take to be ready
 * (`jobs.ts`): a process started later is not ready sooner, and on a loaded
 * machine a second start-up only slows the first (a 1 s bound made every job
 * of a fresh worker start a cold probe beside its warm ones, and relays
 * time out). The COMMAND is answered only once its probe is ready, so this
 * wait is bounded like every other.
 */
export const WARM_START_MS = 10_000;

/** Reads `stream` line by line, whole lines of any length, into `onLine`. */
export async function readLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (l: string) => void,
): Promise<void> {
  const next = lineReader(stream, Infinity);
  for (let l = await next(); l !== undefined; l = await next()) onLine(l.text);
}

/** `treecast KIND ARGS`, spawned for one job. */
export function spawnProbe(kind: ProbeKind, probeArgs: string[]): ProbeRun {
  const { cmd, args } = selfCommand([kind, ...probeArgs]);
  const p = new Deno.Command(cmd, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  return {
    pid: p.pid,
    run: async (onOut, onErr) => {
      const read = [readLines(p.stdout, onOut), readLines(p.stderr, onErr)];
      const status = await p.status;
      await Promise.allSettled(read);
      return status.code;
    },
    kill: (signal) => {
      try {
        p.kill(signal);
      } catch { /* gone */ }
    },
  };
}

/** The job a warm probe runs now. */
interface Current {
  /** Its id in the standby protocol (on every line about it). */
  id: number;
  onOut: (line: string) => void;
  onErr: (line: string) => void;
  end: (code: number) => void;
}

/** Job ids of the standby protocol, unique in this worker process. */
let _jobs = 0;

/** One warm probe process: waits, runs a job, waits again. */
class Warm {
  readonly process: Deno.ChildProcess;
  /**
   * `starting` until it first waits; `idle` once it says it waits for a
   * job; `busy` from a job handed (or a start awaited by a job) until it
   * waits again; `dead` once it exited.
   */
  state: "starting" | "reserved" | "idle" | "busy" | "dead" = "starting";
  /** It waited for a job at least once (it can start). */
  hasWaited = false;
  /** Resolves once it first said it waits, or exited. */
  readonly started: Promise<void>;
  /** Resolves with its exit code once it exited. */
  readonly exited: Promise<number>;
  #current: Current | undefined;
  #writer: WritableStreamDefaultWriter<Uint8Array>;

  constructor(command: { cmd: string; args: string[] }) {
    const { cmd, args } = command;
    const p = new Deno.Command(cmd, {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.process = p;
    this.#writer = p.stdin.getWriter();
    let onStarted = () => {};
    this.started = new Promise((r) => (onStarted = r));
    const out = readLines(p.stdout, (line) => this.#line(line, onStarted));
    // Its own stderr (a crash) belongs to the job it ran, if any.
    const err = readLines(p.stderr, (line) => this.#current?.onErr(line));
    this.exited = (async () => {
      const { code } = await p.status;
      await Promise.allSettled([out, err]);
      this.state = "dead";
      onStarted();
      this.#current?.end(code);
      this.#current = undefined;
      return code;
    })();
  }

  #line(line: string, onStarted: () => void): void {
    // Every line is the standby's, in JSON; a job's lines carry its id.
    let msg: {
      job?: unknown;
      event?: unknown;
      code?: unknown;
      text?: unknown;
      out?: unknown;
    };
    try {
      msg = JSON.parse(line);
    } catch {
      return; // not the protocol (nothing else writes to this pipe)
    }
    if (msg === null || typeof msg !== "object") return;
    const cur = this.#current;
    if (msg.event === "standby" && msg.job === undefined) {
      this.hasWaited = true;
      if (!cur && this.state !== "reserved") this.state = "idle";
      onStarted();
      return;
    }
    // A line of another job (one that ended already) is never this job's.
    if (!cur || msg.job !== cur.id) return;
    if (msg.event === "exit") {
      this.#current = undefined;
      cur.end(Number(msg.code));
    } else if (msg.event === "stderr") {
      const text = String(msg.text);
      for (const l of text.replace(/\n$/, "").split("\n")) cur.onErr(l);
    } else if (typeof msg.out === "string") {
      cur.onOut(msg.out);
    }
  }

  /** Hands it one job; undefined if it could not be written (it is gone). */
  async hand(kind: ProbeKind, args: string[]): Promise<ProbeRun | undefined> {
    this.state = "busy";
    const p = this.process;
    // Lines that come before the job table reads them are kept for it.
    const early: [err: boolean, line: string][] = [];
    let onOut: (l: string) => void = (l) => early.push([false, l]);
    let onErr: (l: string) => void = (l) => early.push([true, l]);
    let end: (code: number) => void = () => {};
    const ended = new Promise<number>((r) => (end = r));
    const id = ++_jobs;
    this.#current = {
      id,
      onOut: (l) => onOut(l),
      onErr: (l) => onErr(l),
      end,
    };
    try {
      await this.#writer.write(
        new TextEncoder().encode(
          JSON.stringify({ job: id, probe: kind, args }) + "\n",
        ),
      );
    } catch {
      this.#current = undefined;
      return undefined;
    }
    let done = false;
    ended.then(() => (done = true));
    return {
      pid: p.pid,
      run: (o, e) => {
        onOut = o;
        onErr = e;
        for (const [err, l] of early.splice(0)) (err ? e : o)(l);
        return ended;
      },
      kill: (signal) => {
        // SIGTERM stops the job, never a later one or the waiting process.
        if (done) return;
        try {
          p.kill(signal);
        } catch { /* gone */ }
      },
    };
  }

  /** Ends it: stdin closed (it exits 0 when waiting), then SIGTERM. */
  async close(): Promise<void> {
    await this.#writer.close().catch(() => {});
    try {
      this.process.kill("SIGTERM");
    } catch { /* gone */ }
    await this.exited;
  }
}

/** The warm probe processes of one worker. */
export class WarmProbes {
  #all: Warm[] = [];
  #closed = false;
  #command: { cmd: string; args: string[] };
  #startMs: number;

  /**
   * `command`: what a warm probe runs (default `treecast child --standby`);
   * `startMs`: how long a job waits for one still starting.
   */
  constructor(
    opts: { command?: { cmd: string; args: string[] }; startMs?: number } = {},
  ) {
    this.#command = opts.command ?? selfCommand(["child", STANDBY_FLAG]);
    this.#startMs = opts.startMs ?? WARM_START_MS;
  }

  /**
   * Starts the warm probes, one after the other so that their start-ups do
   * not compete; resolves when they all wait (or failed to start).
   */
  async warmUp(): Promise<void> {
    while (!this.#closed && this.#all.length < WARM_PROBES) {
      const w = this.#add();
      await w.started;
      if (!w.hasWaited) return; // it exited before it waited: give up
    }
  }

  /** How many warm probes wait for a job now. */
  get waiting(): number {
    return this.#all.filter((w) => w.state === "idle").length;
  }

  /** Starts one more warm probe. */
  #add(): Warm {
    const w = new Warm(this.#command);
    this.#all.push(w);
    w.exited.then(() => {
      this.#all = this.#all.filter((x) => x !== w);
      // A warm probe that died is replaced, unless it could not start.
      if (!w.hasWaited || this.#closed) return;
      setTimeout(() => this.warmUp().catch(() => {}), 100);
    });
    return w;
  }

  /**
   * A warm probe handed this job: one that waits, else one still starting
   * (awaited, at most `startMs`), else a new one (up to {@link WARM_MAX});
   * undefined when none is free in time and no more may be kept (the job
   * then gets a probe process of its own).
   */
  async take(
    kind: ProbeKind,
    probeArgs: string[],
  ): Promise<ProbeRun | undefined> {
    if (this.#closed) return undefined;
    const w = this.#all.find((x) => x.state === "idle") ??
      this.#all.find((x) => x.state === "starting") ??
      (this.#all.length < WARM_MAX ? this.#add() : undefined);
    if (!w) return undefined;
    if (w.state === "starting") {
      w.state = "reserved";
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        w.started,
        new Promise((r) => (timer = setTimeout(r, this.#startMs))),
      ]);
      clearTimeout(timer);
      if ((w.state as string) === "dead") return undefined;
      if (!w.hasWaited) {
        w.state = "starting"; // it serves a later job once it waits
        return undefined;
      }
    }
    return await w.hand(kind, probeArgs);
  }

  /** Stops every warm probe and waits for them; none is started afterwards. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled(this.#all.map((w) => w.close()));
  }
}
