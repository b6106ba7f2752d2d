/**
 * The manager's core: a {@link Node} that sends requests to workers over
 * REQ sockets with deadlines and retries. It never prints or exits.
 *
 * @module
 */
import { isLoopback, splitHostPort } from "../core/cli.ts";
import {
  PROBE_START_MS,
  relayedDeadlineMs,
  REQUEST_RETRIES,
  REQUEST_TIMEOUT_MS,
} from "../core/defaults.ts";
import { MessageLog, Node, RemoteError } from "../core/node.ts";
import {
  type CurveClientKeys,
  ReqClient,
  TransportError,
} from "../core/transport.ts";
import { PROGRAM_VERSION, PROTOCOL_VERSION } from "../core/version.ts";
import type { ConnectResult } from "../core/results.ts";
import { namedAddrs, newRun, rosterTag, type RunKey } from "../core/roster.ts";
import {
  type Command,
  emptyJob,
  type Hello,
  type Job,
  type Message,
  type PartRequest,
  type Report,
  ROSTER_TAG_BYTES,
} from "../proto/codec.ts";

/** CONNECT round trips after the first, for the clock offset estimate. */
const CLOCK_SAMPLES = 4;

/**
 * Workers whose clocks are sampled at the same time. Sampled all at once,
 * the replies queue behind each other and the round trips grow with the
 * number of workers (measured on loopback, median best: 34 ms with 300,
 * 84 ms with 1,000, against under 2 ms with 10); a few at a time, each
 * round trip is as short at any N as with a few workers.
 */
export const CLOCK_BATCH = 8;

/** One CONNECT exchange: the reply, and when it was sent and received. */
type Exchange = { reply: Message; sentUs: number; recvUs: number };

/**
 * Why a worker's CONNECT answer is refused: another protocol, or under
 * CURVE (`curve`) no relay port (a worker that admits relays on its control
 * port: older workers would relay to the control ports of the others, which
 * refuse them, and name healthy workers lost).
 */
export function helloProblem(
  reply: Message,
  curve: boolean,
): string | undefined {
  const hello = reply.data.hello;
  if (reply.type !== "ACK" || !hello) {
    return `Answered ${reply.type} without a hello`;
  }
  if (hello.protocol !== PROTOCOL_VERSION) {
    return `Speaks protocol ${hello.protocol}, this manager ${PROTOCOL_VERSION}`;
  }
  if (curve && !hello.relayPort) {
    return `Has no relay port (treecast ${hello.program}): under CURVE every ` +
      "worker must serve relays on a relay port of its own; upgrade it";
  }
  return undefined;
}

/** A worker's hello as results keep it: without a manager's run fields or its relay port. */
function _workerHello(
  hello: Hello,
): Omit<Hello, "run" | "rosterKey" | "relayPort"> {
  const { run: _run, rosterKey: _key, relayPort: _port, ...rest } = hello;
  return rest;
}

/** Options of a {@link Manager}. */
export interface ManagerOptions {
  /** Deadline of each request attempt, ms. */
  timeoutMs?: number;
  /** Retries after a timed-out attempt. */
  retries?: number;
  /** Deadline of each CONNECT attempt, ms (default: timeoutMs). */
  connectTimeoutMs?: number;
  log?: MessageLog;
  /** CURVE: this manager's key pair and the workers' public key. */
  curve?: CurveClientKeys;
  /** Told a warning line (no newline): plaintext beyond loopback, once. */
  warn?: (line: string) => void;
}

/** The manager's control-plane side. */
export class Manager extends Node {
  #timeoutMs: number;
  #connectTimeoutMs: number;
  #retries: number;
  #clients = new Map<string, ReqClient>();
  #curve: CurveClientKeys | undefined;
  /** This run's id and roster key (`core/roster.ts`), in every hello. */
  #run: RunKey = newRun();
  /**
   * The workers admitted in this run, the only ones a COMMAND may name,
   * each with its relay port (0: none).
   */
  #roster = new Map<string, number>();
  #warn: ((line: string) => void) | undefined;

  constructor(opts: ManagerOptions = {}) {
    super(`manager@${Deno.hostname()}`, opts.log ?? new MessageLog());
    this.#timeoutMs = opts.timeoutMs ?? REQUEST_TIMEOUT_MS;
    this.#retries = opts.retries ?? REQUEST_RETRIES;
    this.#connectTimeoutMs = opts.connectTimeoutMs ?? this.#timeoutMs;
    this.#curve = opts.curve;
    this.#warn = opts.warn;
  }

  /**
   * The deadline of a request that the worker relays `layers` deep; a
   * COMMAND's also covers the probe start at every layer.
   */
  #layered(layers: number, startMs = 0): number {
    return relayedDeadlineMs(this.#timeoutMs, layers, startMs);
  }

  #newClient(addr: string, timeoutMs: number, retries: number): ReqClient {
    return new ReqClient(addr, {
      timeoutMs,
      retries,
      ...(this.#curve ? { curve: this.#curve } : {}),
    });
  }

  /** The (cached) REQ client for a worker. */
  client(addr: string): ReqClient {
    let c = this.#clients.get(addr);
    if (!c) {
      c = this.#newClient(addr, this.#timeoutMs, this.#retries);
      this.#clients.set(addr, c);
    }
    return c;
  }

  /**
   * CONNECT to every worker: each is admitted by a first exchange (all at
   * once), then its clock is sampled, a few workers at a time (see
   * {@link CLOCK_BATCH}). Never throws for a worker's failure: it is in its
   * result. `onAdmitted` is told each worker whose first exchange was
   * answered with a hello it accepts, as it is (the scale bench times it).
   */
  async connect(
    addrs: readonly string[],
    signal?: AbortSignal,
    onAdmitted?: (addr: string) => void,
  ): Promise<ConnectResult[]> {
    this.#plaintextWarning(addrs);
    const clients = addrs.map((addr) =>
      this.#newClient(addr, this.#connectTimeoutMs, this.#retries)
    );
    try {
      const admitted = await Promise.all(
        clients.map(async (c) => {
          const r = await this.#connectTry(
            c,
            signal,
            (h) => helloProblem(h, !!this.#curve),
          );
          if (!("status" in r)) onAdmitted?.(c.addr);
          return r;
        }),
      );
      const results: ConnectResult[] = [];
      for (let i = 0; i < clients.length; i += CLOCK_BATCH) {
        const batch = clients.slice(i, i + CLOCK_BATCH).map((c, j) => {
          const first = admitted[i + j]!;
          return "status" in first ? first : this.#sample(c, first, signal);
        });
        results.push(...await Promise.all(batch));
      }
      results.forEach((r, i) => {
        const first = admitted[i]!;
        if (r.status !== "ok" || "status" in first) return;
        this.#roster.set(r.addr, first.reply.data.hello?.relayPort ?? 0);
      });
      return results;
    } finally {
      for (const c of clients) c.close();
    }
  }

  /**
   * Warns once, naming the first such worker, when this manager talks
   * without CURVE to a worker beyond loopback: its commands (and the run's
   * roster key) cross the network in the clear.
   */
  #plaintextWarning(addrs: readonly string[]): void {
    if (this.#curve || !this.#warn) return;
    const far = addrs.filter((a) => {
      try {
        return !isLoopback(splitHostPort(a).hostname);
      } catch {
        return false;
      }
    });
    if (far.length === 0) return;
    this.#warn(
      `warning: Talking to ${far.length} worker(s) beyond loopback ` +
        `("${far[0]}"${far.length > 1 ? ", ..." : ""}) without CURVE: anyone ` +
        `on the path can read and forge the commands (see "treecast keygen" ` +
        `and SECURITY in the README)`,
    );
    this.#warn = undefined;
  }

  /**
   * The clock offset from the fastest of a few more round trips, as NTP
   * does: the shortest round trip bounds the offset tightest. The
   * admission exchange (which paid for the TCP set-up) counts only when
   * no more are asked for.
   */
  async #sample(
    client: ReqClient,
    first: Exchange,
    signal?: AbortSignal,
  ): Promise<ConnectResult> {
    let best = CLOCK_SAMPLES > 0 ? undefined : first;
    for (let i = 0; i < CLOCK_SAMPLES; i++) {
      const r = await this.#connectTry(client, signal);
      if ("status" in r) return r;
      if (!best || r.recvUs - r.sentUs < best.recvUs - best.sentUs) best = r;
    }
    const { reply, sentUs, recvUs } = best!;
    const rttUs = recvUs - sentUs;
    return {
      addr: client.addr,
      status: "ok",
      rttUs,
      offsetUs: reply.ts - (sentUs + recvUs) / 2,
      offsetBoundUs: rttUs / 2,
      hello: _workerHello(reply.data.hello!),
    };
  }

  /** One CONNECT exchange; a failure is the worker's result. */
  async #connectTry(
    client: ReqClient,
    signal?: AbortSignal,
    check?: (reply: Message) => string | undefined,
  ): Promise<Exchange | ConnectResult> {
    const addr = client.addr;
    const hello: Hello = {
      protocol: PROTOCOL_VERSION,
      program: PROGRAM_VERSION,
      capabilities: [],
      hostname: Deno.hostname(),
      emulate: "",
      incarnation: "",
      run: this.#run.run,
      rosterKey: this.#run.key,
    };
    try {
      const r = await this.request(
        client,
        () => this.message("CONNECT", addr, { hello }),
        signal ? { signal } : {},
      );
      const bad = check?.(r.reply);
      if (!bad) return r;
      return {
        addr,
        status: "refused",
        error: bad,
        ...(r.reply.data.hello
          ? { hello: _workerHello(r.reply.data.hello) }
          : {}),
      };
    } catch (e) {
      if (e instanceof RemoteError) {
        return { addr, status: "refused", error: e.message };
      }
      if (e instanceof TransportError) {
        return { addr, status: "unreachable", error: e.message };
      }
      throw e;
    }
  }

  /**
   * Sends a COMMAND to the worker at `addr`; resolves to the job it started.
   * The deadline grows with the layers the worker relays to.
   */
  async command(
    addr: string,
    command: Command,
    signal?: AbortSignal,
  ): Promise<Job> {
    const tagged = { ...command, ...this.#tags(command) };
    const { reply } = await this.request(
      this.client(addr),
      () => this.message("COMMAND", addr, { command: tagged }),
      {
        timeoutMs: this.#layered(command.layer, PROBE_START_MS),
        ...(signal ? { signal } : {}),
      },
    );
    const job = reply.data.report?.job;
    if (reply.type !== "ACK" || !job) {
      throw new RemoteError(
        addr,
        `answered ${reply.type} without the started job`,
      );
    }
    return job;
  }

  /**
   * The run, roster tags and relay ports of `command`: a tag for each worker
   * it names that this run admitted, zeros (refused by the worker) for any
   * other; the relay ports of those workers, none when no one has one.
   */
  #tags(
    command: Command,
  ): Pick<Command, "run" | "rosterTags" | "relayPorts"> {
    const named = namedAddrs(command);
    const tags = new Uint8Array(named.length * ROSTER_TAG_BYTES);
    named.forEach((n, i) => {
      if (this.#roster.has(n.addr)) {
        tags.set(rosterTag(this.#run.key, n.addr), i * ROSTER_TAG_BYTES);
      }
    });
    const ports = named.map((n) => this.#roster.get(n.addr) ?? 0);
    return {
      run: this.#run.run,
      rosterTags: tags,
      relayPorts: ports.some((p) => p > 0) ? ports : [],
    };
  }

  /**
   * Sends a REPORT for job `id` to its owner; resolves to the job's report,
   * or with `partRequest`, to that per-message part of it (in `part`).
   */
  async report(
    addr: string,
    id: string,
    opts: {
      layers?: number;
      signal?: AbortSignal | undefined;
      partRequest?: PartRequest;
    } = {},
  ): Promise<Report> {
    const ask = opts.partRequest ? { partRequest: opts.partRequest } : {};
    const { reply } = await this.request(
      this.client(addr),
      () =>
        this.message("REPORT", addr, {
          report: { job: emptyJob({ id }), complete: false, ...ask },
        }),
      {
        timeoutMs: this.#layered(opts.layers ?? 0),
        ...(opts.signal ? { signal: opts.signal } : {}),
      },
    );
    const report = reply.data.report;
    if (reply.type !== "ACK" || !report) {
      throw new RemoteError(addr, `answered ${reply.type} without a report`);
    }
    return report;
  }

  /**
   * Sends STOP (every job, and the jobs they depend on) to each worker, with
   * a short deadline and no retries; resolves to the workers that confirmed.
   */
  stopAll(addrs: readonly string[], timeoutMs = 1000): Promise<string[]> {
    return this.stopJobs(addrs.map((addr) => ({ addr, id: "" })), timeoutMs);
  }

  /**
   * Sends STOP for each job (`id` "": every job of the worker) to its owner,
   * all at once, with a short deadline and no retries; resolves to the
   * owners that confirmed.
   */
  async stopJobs(
    jobs: readonly { addr: string; id: string }[],
    timeoutMs = 1000,
  ): Promise<string[]> {
    const done = await Promise.allSettled(jobs.map(async ({ addr, id }) => {
      const client = this.#newClient(addr, timeoutMs, 0);
      try {
        await this.request(client, () =>
          this.message("STOP", addr, {
            report: { job: emptyJob({ id }), complete: false },
          }));
        return addr;
      } finally {
        client.close();
      }
    }));
    return done.filter((r) => r.status === "fulfilled").map((r) =>
      (r as PromiseFulfilledResult<string>).value
    );
  }

  /**
   * Whether `addr` still accepts a TCP connection (within `timeoutMs`): a
   * worker that does but answers no request is paused or stalled, not gone.
   */
  async listening(addr: string, timeoutMs = 500): Promise<boolean> {
    const i = addr.lastIndexOf(":");
    const hostname = addr.slice(0, i).replace(/^\[|\]$/g, "");
    const port = Number(addr.slice(i + 1));
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const conn = await Deno.connect({ hostname, port, signal });
      conn.close();
      return true;
    } catch {
      return false;
    }
  }

  /** Closes every socket. */
  close(): void {
    for (const c of this.#clients.values()) c.close();
    this.#clients.clear();
    this.log.close();
  }
}
