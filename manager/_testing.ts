/**
 * Fakes for the step queue's unit tests: a clock that advances only when
 * slept on, and workers whose measured delay is a table.
 *
 * @module
 */
import { WorkerUnreachable } from "../core/transport.ts";
import { RemoteError } from "../core/node.ts";
import {
  type Command,
  emptyJob,
  type Job,
  type ProbeStats,
  type Report,
} from "../proto/codec.ts";
import { probeStats } from "../proto/_fixtures.ts";
import type { ConnectResult } from "../core/results.ts";
import type { Clock } from "./time_source.ts";
import {
  Experiment,
  type ExperimentEvent,
  type Workers,
} from "./experiment.ts";
import { parseScript } from "./script.ts";

export const A = Array.from({ length: 12 }, (_, i) => `10.0.0.${i + 1}:9000`);

export class FakeClock implements Clock {
  t = 1_000_000;
  now(): number {
    return this.t;
  }
  sleep(ms: number): Promise<void> {
    this.t += Math.max(0, ms);
    return Promise.resolve();
  }
}

/** A receiver's statistics with p90 `p90Us` (see `proto/_fixtures.ts`). */
export const stats = probeStats;

/**
 * Workers whose measured delay is `delay[addr]`; `dead` ones never answer,
 * `paused` ones neither but still accept connections, `refusing` ones
 * answer COMMAND with an error, and the jobs of `hung` ones never end.
 */
export class FakeWorkers implements Workers {
  dead = new Set<string>();
  paused = new Set<string>();
  refusing = new Set<string>();
  hung = new Set<string>();
  /** Every STOP sent, in order. */
  stops: { addr: string; id: string }[] = [];
  /** Restarted since they started their jobs: REPORT gets OTHER_INCARNATION. */
  restarted = new Set<string>();
  stuck = false;
  delay: Record<string, number> = {};
  /** I/O capabilities per worker (default: deno with user timestamps). */
  caps: Record<string, string[]> = {};
  /** Timestamp kind each receiver reports (default: the command's). */
  reportedTs: Record<string, ProbeStats["timestamps"]> = {};
  /** Extra delay of every stream a worker sends (a slow sender). */
  sendDelay: Record<string, number> = {};
  #jobs = new Map<string, { job: Job; endAt: number }>();
  #n = 0;
  constructor(readonly clock: FakeClock) {}

  connect(addrs: readonly string[]): Promise<ConnectResult[]> {
    return Promise.resolve(
      addrs.map((addr) =>
        this.dead.has(addr) ? { addr, status: "unreachable", error: "dead" } : {
          addr,
          status: "ok",
          rttUs: 100,
          hello: {
            protocol: 1,
            program: "t",
            capabilities: this.caps[addr] ?? ["io:deno", "ts:user"],
            hostname: "h",
            emulate: (this.delay[addr] ?? 0) > 1000 ? "delay=3ms" : "",
            incarnation: "",
          },
        }
      ),
    );
  }

  #tree(addr: string, cmd: Command, depth: number, above: number): Job {
    const d = above + (this.delay[addr] ?? 50);
    const deps = cmd.subtrees.length > 0
      ? cmd.subtrees.map((t) =>
        this.#tree(
          t.addr,
          {
            ...cmd,
            addrs: t.children.map((c) => c.addr),
            subtrees: t.children,
          },
          depth + 1,
          depth === 0 ? 0 : d,
        )
      )
      : cmd.addrs.map((c) =>
        this.#tree(
          c,
          { ...cmd, addrs: [], subtrees: [] },
          depth + 1,
          this.sendDelay[addr] ?? 0,
        )
      );
    return emptyJob({
      owner: addr,
      id: `j${this.#n++}`,
      flag: depth === 0 ? cmd.flag : deps.length > 0 ? "PROXY" : "CHILD",
      deps,
      end: true,
      ...(depth > 0
        ? {
          stats: {
            ...stats(d),
            timestamps: this.reportedTs[addr] ??
              (cmd.timestamps === "KERNEL" ? "KERNEL" : "USER"),
          },
        }
        : {}),
      ...(depth === 0
        ? {
          sender: {
            sent: Math.round(cmd.rate * (cmd.warmup + cmd.dur) / 1000),
            children: deps.length,
            lateShare: 0,
            latenessP50Us: 0,
            latenessP99Us: 0,
            latenessMaxUs: 0,
          },
        }
        : {}),
    });
  }

  /** Every command, in order. */
  log: { addr: string; cmd: Command }[] = [];

  /** Whether `addr` neither answers nor accepts connections. */
  #silent(addr: string): boolean {
    return this.dead.has(addr) || this.paused.has(addr);
  }

  command(addr: string, cmd: Command): Promise<Job> {
    this.log.push({ addr, cmd });
    if (this.#silent(addr)) {
      return Promise.reject(new WorkerUnreachable(addr, 2, 100));
    }
    if (this.refusing.has(addr)) {
      return Promise.reject(new RemoteError(addr, "Refused for the test"));
    }
    const gone = cmd.addrs.find((a) => this.#silent(a));
    if (gone) {
      return Promise.reject(
        new RemoteError(addr, `Cannot start on "${gone}"`, gone),
      );
    }
    const job = this.#tree(addr, cmd, 0, 0);
    this.#jobs.set(job.id, {
      job,
      endAt: this.clock.now() + cmd.warmup + cmd.dur,
    });
    return Promise.resolve(job);
  }

  report(addr: string, id: string): Promise<Report> {
    if (this.#silent(addr)) {
      return Promise.reject(new WorkerUnreachable(addr, 2, 100));
    }
    if (this.restarted.has(addr)) {
      return Promise.reject(
        new RemoteError(
          addr,
          `Job "${id}" is not of this worker's incarnation: it restarted`,
          undefined,
          "OTHER_INCARNATION",
        ),
      );
    }
    const j = this.#jobs.get(id)!;
    // A stuck job never ends (as a worker says of a probe still running),
    // nor does a hung worker's (its statistics never come).
    const ended = !this.stuck && this.clock.now() >= j.endAt;
    const job = this.#hang(ended ? j.job : { ...j.job, end: false });
    return Promise.resolve({ job, complete: ended && this.#ended(job) });
  }

  /** The job with every hung worker's part not ended. */
  #hang(job: Job): Job {
    const deps = job.deps.map((d) => this.#hang(d));
    if (!this.hung.has(job.owner)) return { ...job, deps };
    const { stats: _, ...rest } = job;
    return { ...rest, deps, end: false };
  }

  #ended(job: Job): boolean {
    return job.end && job.deps.every((d) => this.#ended(d));
  }

  stopJobs(jobs: readonly { addr: string; id: string }[]): Promise<string[]> {
    this.stops.push(...jobs);
    return Promise.resolve(
      jobs.filter((j) => !this.#silent(j.addr)).map((j) => j.addr),
    );
  }

  listening(addr: string): Promise<boolean> {
    return Promise.resolve(!this.dead.has(addr));
  }
}

export function setup(
  extra: string,
  opts: { slow?: string[]; root?: string; signal?: AbortSignal } = {},
) {
  const clock = new FakeClock();
  const workers = new FakeWorkers(clock);
  A.forEach((a, i) => (workers.delay[a] = 40 + i));
  for (const s of opts.slow ?? []) workers.delay[s] = 3000;
  const script = parseScript(
    `name: T\nseed: 1\naddrs: [${A.map((a) => `"${a}"`).join(", ")}]\n` +
      `depth: 2\nfanout: 2\nhyperparameter: 4\nrate: 1000\nduration: 2s\nwarmup: 1s\n` +
      `evaluation: { duration: 3s }\nroot: "${
        opts.root ?? A[0]
      }"\ntimeouts: { job_grace: 5 }\n${extra}`,
    "t.yaml",
  );
  const events: ExperimentEvent[] = [];
  const exp = new Experiment(script, {
    manager: workers,
    clock,
    ...(opts.signal ? { signal: opts.signal } : {}),
    onEvent: (e) => events.push(e),
  });
  return { clock, workers, exp, events };
}
