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
import { STANDBY_FLAG, type StandbyRole } from "../probes/standby.ts";

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

/** Reads `stream` line by line into `onLine`; resolves at its end. */
export async function readLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (l: string) => void,
): Promise<void> {
  let buf = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      onLine(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
  }
  if (buf) onLine(buf);
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
  onOut: (line: string) => void;
  onErr: (line: string) => void;
  end: (code: number) => void;
}

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

  constructor() {
    const { cmd, args } = selfCommand(["child", STANDBY_FLAG]);
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
    // The standby's own lines; any other is the job's (theirs are parsed there).
    let own: { event?: unknown; code?: unknown; text?: unknown } = {};
    if (/^\{"event":"(standby|exit|stderr)"/.test(line)) {
      try {
        own = JSON.parse(line);
      } catch { /* a job's line */ }
    }
    const cur = this.#current;
    if (own.event === "standby") {
      this.hasWaited = true;
      if (!cur && this.state !== "reserved") this.state = "idle";
      onStarted();
    } else if (own.event === "exit" && cur) {
      this.#current = undefined;
      cur.end(Number(own.code));
    } else if (own.event === "stderr" && cur) {
      const text = String(own.text);
      for (const l of text.replace(/\n$/, "").split("\n")) cur.onErr(l);
    } else {
      cur?.onOut(line);
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
    this.#current = {
      onOut: (l) => onOut(l),
      onErr: (l) => onErr(l),
      end,
    };
    try {
      await this.#writer.write(
        new TextEncoder().encode(
          JSON.stringify({ probe: kind, args }) + "\n",
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

  /** Starts one more warm probe. */
  #add(): Warm {
    const w = new Warm();
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
   * (awaited), else a new one (up to {@link WARM_MAX}); undefined when none
   * is free and no more may be kept.
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
      await w.started;
      if (!w.hasWaited || (w.state as string) === "dead") return undefined;
    }
    return await w.hand(kind, probeArgs);
  }

  /** Stops every warm probe and waits for them; none is started afterwards. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled(this.#all.map((w) => w.close()));
  }
}
