/**
 * The worker's job table (the seed: "nodes own jobs, run them concurrently,
 * guard against job dependencies"). A job is one probe subprocess of
 * treecast's own executable (`parent`, `child` or `proxy`, with flags the
 * worker builds from a validated command), plus the jobs it depends on.
 *
 * @module
 */
import { joinHostPort } from "../core/cli.ts";
import { peerClocks } from "./offsets.ts";
import {
  type ProbeKind,
  type ProbeRun,
  spawnProbe,
  WarmProbes,
} from "./warm.ts";
import {
  emptyJob,
  type Flag,
  type ForwardStats,
  type Job,
  type ProbeStats,
  type SenderStats,
} from "../proto/codec.ts";

/** The probe kinds a job may run (nothing else is ever started), and a probe run. */
export type { ProbeKind, ProbeRun };

/** Lines of a probe's stderr kept as the job's output. */
const OUTPUT_LINES = 20;
/** How long past its timeout a probe may run before the worker stops it, ms. */
const KILL_GRACE_MS = 2000;
/** Finished jobs kept for REPORT; older ones are forgotten. */
const KEEP_FINISHED = 256;

/** What {@link JobTable.start} needs. */
export interface JobStart {
  flag: Flag;
  kind: ProbeKind;
  /** Probe flags (after the subcommand), built by the worker, never from a message. */
  args: string[];
  owner: string;
  instr: string;
  params: number[];
  deps: Job[];
  /** Kill the probe after this long, ms. */
  timeoutMs: number;
  /** Expected run time, ms (for expected_end). */
  expectedMs: number;
  emulate: string;
  /** Replace the host of the probe's READY address with this one. */
  advertise: string;
  /** The probe's I/O backend. */
  io: "native" | "deno";
  /** Where the probe writes its per-message log ({@link JobTable.messagesPath}), if it keeps one. */
  messagesPath?: string | undefined;
  /**
   * Called once the job is in the table (counted by {@link JobTable.running}),
   * at once: an admission's reservation ends there, so a job is never counted
   * twice (`admit.ts`).
   */
  onListed?: () => void;
  /** Started by a COMMAND on the relay port (`relay_port.ts`), not a manager's. */
  relayed?: boolean;
}

/** A job in the table: its protobuf view plus the process behind it. */
export class JobRecord {
  readonly job: Job;
  /** Resolves once the probe exited and its result (if any) was read. */
  readonly done: Promise<void>;
  #process: ProbeRun;
  #timer: ReturnType<typeof setTimeout>;
  /** Set once the job and all its dependencies have ended: the final report. */
  finalReport: Job | undefined;
  /**
   * The per-message log the probe writes (a leaf of an evaluation), in the
   * table's private directory; complete once {@link done}. The table
   * deletes it when it forgets the job.
   */
  readonly messagesPath: string | undefined;
  /**
   * Started by a relayed COMMAND (one that came on the relay port): the
   * only jobs a STOP on the relay port may stop (`relay_port.ts`).
   */
  readonly relayed: boolean;

  constructor(
    job: Job,
    process: ProbeRun,
    done: Promise<void>,
    timer: ReturnType<typeof setTimeout>,
    messagesPath?: string,
    relayed = false,
  ) {
    this.job = job;
    this.messagesPath = messagesPath;
    this.relayed = relayed;
    this.#process = process;
    this.done = done;
    this.#timer = timer;
  }

  /** Stops the probe (SIGTERM: it prints its partial results and exits). */
  stop(signal: Deno.Signal = "SIGTERM"): void {
    clearTimeout(this.#timer);
    if (this.job.end) return;
    this.#process.kill(signal);
  }
}

/**
 * Whether a probe's stop reason (its result line's `stop`) means it stopped
 * before its stream ended: interrupted (STOP, a job timeout), past its
 * deadline, or a failed socket. `end` (END arrived, or a sender sent it) and
 * `idle` (the stream itself stopped) cover the whole stream.
 */
export function partialStop(stop: unknown): boolean {
  return stop === "interrupted" || stop === "deadline" || stop === "error";
}

/** Maps a probe's result JSON line onto the job's typed results. */
export function applyResult(job: Job, r: Record<string, unknown>): void {
  const n = (
    v: unknown,
  ) => (typeof v === "number" && Number.isFinite(v) ? v : 0);
  const lat = (r.latency_us ?? {}) as Record<string, unknown>;
  if (r.latency_us) {
    const stats: ProbeStats = {
      received: n(r.received),
      lost: n(r.lost),
      duplicates: n(r.duplicates),
      reordered: n(r.reordered),
      malformed: n(r.malformed),
      warmup: n(r.warmup),
      negative: n(r.negative),
      hops: n(r.hops),
      endSeen: r.end_seen === true,
      minUs: n(lat.min),
      p25Us: n(lat.p25),
      p50Us: n(lat.p50),
      p75Us: n(lat.p75),
      p90Us: n(lat.p90),
      p99Us: n(lat.p99),
      p999Us: n(lat.p999),
      maxUs: n(lat.max),
      meanUs: n(lat.mean),
      stddevUs: n(lat.stddev),
      series: (Array.isArray(r.series) ? r.series : []).map((
        p: Record<string, unknown>,
      ) => ({
        t: n(p.t),
        count: n(p.count),
        p50Us: n(p.p50_us),
        p90Us: n(p.p90_us),
        stddevUs: n(p.stddev_us),
      })),
      histogram: typeof r.histogram === "string" ? r.histogram : "",
      timestamps: r.timestamps === "kernel"
        ? "KERNEL"
        : r.timestamps === "user"
        ? "USER"
        : "TIMESTAMPS_UNSPECIFIED",
      seriesDropped: n(r.series_dropped),
      partial: partialStop(r.stop),
    };
    job.stats = stats;
  }
  if (r.io === "native") job.io = "NATIVE";
  else if (r.io === "deno") job.io = "DENO";
  // The Deno datagram backend only has user timestamps, said or not.
  if (job.stats?.timestamps === "TIMESTAMPS_UNSPECIFIED" && job.io === "DENO") {
    job.stats.timestamps = "USER";
  }
  if (r.probe === "parent") {
    const l = (r.lateness_us ?? {}) as Record<string, unknown>;
    const sender: SenderStats = {
      sent: n(r.sent),
      children: n(r.children),
      lateShare: n(r.late_share),
      latenessP50Us: n(l.p50),
      latenessP99Us: n(l.p99),
      latenessMaxUs: n(l.max),
      sendErrors: n(r.send_errors),
      partial: partialStop(r.stop),
    };
    job.sender = sender;
  }
  if (Array.isArray(r.peers)) job.peers = peerClocks(r.peers);
  if (r.probe === "proxy") {
    const forward: ForwardStats = {
      forwarded: n(r.forwarded),
      dropped: n(r.dropped),
      malformed: n(r.malformed),
      sendErrors: n(r.send_errors),
      partial: partialStop(r.stop),
    };
    job.forward = forward;
  }
}

/**
 * What starts a job's probe from its kind and flags: by default a warm
 * probe process or a fresh one; a virtual pool (`demo/virtual/`) answers
 * from a network model instead, behind the same {@link ProbeRun}.
 */
export type ProbeRunner = (
  kind: ProbeKind,
  args: string[],
) => ProbeRun | Promise<ProbeRun>;

/** Options of a {@link JobTable}. */
export interface JobTableOptions {
  /**
   * Keep warm probe processes (`treecast child --standby`, see
   * `probes/standby.ts`; `WARM_PROBES` in `warm.ts`), each handed a job's
   * kind and flags on stdin when it comes, and reused for the next job.
   * Off: every job spawns its probe.
   */
  standby?: boolean;
  /** Start every probe with this instead of a process (`standby` is then ignored). */
  runner?: ProbeRunner;
}

/** `bytes` random bytes as hex digits. */
function _randomHex(bytes: number): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** A fresh incarnation id: 12 random hex digits. */
export function newIncarnation(): string {
  return _randomHex(6);
}

/** The incarnation a job id was given out by ("" for an id of no shape). */
export function incarnationOf(id: string): string {
  const dot = id.lastIndexOf(".");
  return dot < 0 ? "" : id.slice(0, dot);
}

/** The jobs of one worker. */
export class JobTable {
  #jobs = new Map<string, JobRecord>();
  #next = 0;
  /** The worker process's incarnation: the prefix of every job id. */
  readonly incarnation = newIncarnation();
  /** Warm probe processes (with `standby`). */
  #warm: WarmProbes | undefined;
  /** The private directory of the per-message logs, once made. */
  #logDir: string | undefined;
  #logs = 0;
  #runner: ProbeRunner | undefined;

  constructor(opts: JobTableOptions = {}) {
    this.#runner = opts.runner;
    if (opts.standby && !opts.runner) this.#warm = new WarmProbes();
  }

  /** Starts the warm probes (with `standby`); see {@link WarmProbes.warmUp}. */
  async warmUp(): Promise<void> {
    if (this.#warm) await this.#warm.warmUp();
  }

  /**
   * The probe process for a job: the runner's, else a warm one handed
   * `kind` and `args`, or a fresh `treecast KIND ARGS`.
   */
  async #spawn(kind: ProbeKind, probeArgs: string[]): Promise<ProbeRun> {
    if (this.#runner) return await this.#runner(kind, probeArgs);
    return await this.#warm?.take(kind, probeArgs) ??
      spawnProbe(kind, probeArgs);
  }

  /**
   * A fresh path for a job's per-message log, in this table's private
   * directory (made on first use, mode 0700, removed by {@link close}).
   */
  messagesPath(): string {
    if (this.#logDir === undefined) {
      const dir = Deno.makeTempDirSync({ prefix: "treecast-worker-" });
      Deno.chmodSync(dir, 0o700);
      this.#logDir = dir;
    }
    return `${this.#logDir}/${this.#logs++}.tcml`;
  }

  /** The job with this id, if known. */
  get(id: string): JobRecord | undefined {
    return this.#jobs.get(id);
  }

  /** Every job still running. */
  running(): JobRecord[] {
    return [...this.#jobs.values()].filter((r) => !r.job.end);
  }

  /**
   * Starts a probe job; resolves once the probe printed its ready line: a
   * `child` or `proxy` is then listening (its address in `job.addr`), a
   * `parent` is bound and about to send (so its job's expected end holds
   * from now). Rejects if the probe exits first or is not ready within
   * `readyTimeoutMs`.
   */
  async start(s: JobStart, readyTimeoutMs = 10_000): Promise<JobRecord> {
    // A relayed job's id ends in 64 random bits: it is what a STOP on the
    // relay port must name, so only the workers its relays passed through
    // (and the manager) can stop it, not any holder of the relay key.
    const id = `${this.incarnation}.${this.#next++}` +
      (s.relayed ? `-${_randomHex(8)}` : "");
    const now = Date.now();
    const job = emptyJob({
      flag: s.flag,
      owner: s.owner,
      id,
      instr: s.instr,
      params: s.params,
      deps: s.deps,
      started: now * 1000,
      expectedEnd: (now + s.expectedMs) * 1000,
      emulate: s.emulate,
      io: s.io === "native" ? "NATIVE" : "DENO",
    });
    const process = await this.#spawn(s.kind, s.args);
    job.pid = process.pid;
    let onReady: (addr: string) => void = () => {};
    const ready = new Promise<string>((resolve) => (onReady = resolve));
    const onOut = (line: string) => {
      let obj: Record<string, unknown>;
      try {
        obj = JSON.parse(line);
      } catch {
        return;
      }
      if (obj.event === "ready" && typeof obj.bind === "string") {
        // A receiver's address is where its parent sends; a parent's own
        // socket is of no use to anyone, so its job has no address.
        if (s.kind !== "parent") {
          const port = Number(obj.bind.slice(obj.bind.lastIndexOf(":") + 1));
          job.addr = joinHostPort({ hostname: s.advertise, port });
        }
        const t = Date.now();
        job.started = t * 1000;
        job.expectedEnd = (t + s.expectedMs) * 1000;
        onReady(job.addr);
      } else if (obj.event === "result") {
        applyResult(job, obj);
      }
    };
    const onErr = (line: string) => {
      job.output.push(line);
      if (job.output.length > OUTPUT_LINES) job.output.shift();
      if (line.startsWith("error: ")) job.error = line.slice(7);
    };
    // A backstop: the probes end on their own timeouts first.
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      process.kill("SIGTERM");
    }, s.timeoutMs + KILL_GRACE_MS);
    const done = (async () => {
      const code = await process.run(onOut, onErr);
      clearTimeout(timer);
      job.ret = code;
      job.ended = Date.now() * 1000;
      job.end = true;
      if (killed) {
        job.error = `Stopped after its timeout of ${s.timeoutMs} ms`;
      } else if (code !== 0 && !job.error) {
        job.error = `Probe exited with code ${code}`;
      }
    })();
    const rec = new JobRecord(
      job,
      process,
      done,
      timer,
      s.messagesPath,
      s.relayed ?? false,
    );
    this.#jobs.set(id, rec);
    s.onListed?.();
    this.#forgetOld();
    const exited = done.then(() => {
      throw new Error(
        `The ${s.kind} probe exited before it was ready: ${
          job.error || `code ${job.ret}`
        }`,
      );
    });
    let guard: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      guard = setTimeout(
        () =>
          reject(
            new Error(
              `The ${s.kind} probe was not ready within ${readyTimeoutMs} ms`,
            ),
          ),
        readyTimeoutMs,
      );
    });
    try {
      await Promise.race([ready, exited, late]);
    } catch (e) {
      rec.stop("SIGKILL");
      throw e;
    } finally {
      clearTimeout(guard);
      exited.catch(() => {});
    }
    return rec;
  }

  #forgetOld(): void {
    const finished = [...this.#jobs.values()].filter((r) => r.job.end);
    for (
      const r of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))
    ) {
      this.#jobs.delete(r.job.id);
      if (r.messagesPath !== undefined) _remove(r.messagesPath);
    }
  }

  /** Stops every running job and waits for them to exit. */
  async stopAll(): Promise<void> {
    const running = this.running();
    for (const r of running) r.stop();
    await Promise.allSettled(running.map((r) => r.done));
  }

  /** Stops every job and every warm probe, removes the logs' directory; nothing is started afterwards. */
  async close(): Promise<void> {
    await Promise.allSettled([this.stopAll(), this.#warm?.close()]);
    if (this.#logDir !== undefined) _remove(this.#logDir);
  }
}

/** Removes a file or directory tree, if still there. */
function _remove(path: string): void {
  try {
    Deno.removeSync(path, { recursive: true });
  } catch { /* already gone */ }
}
