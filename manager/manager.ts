/**
 * The manager's core: a {@link Node} that sends requests to workers over
 * REQ sockets with deadlines and retries. It never prints or exits.
 *
 * @module
 */
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
  WorkerUnreachable,
} from "../core/transport.ts";
import { PROGRAM_VERSION, PROTOCOL_VERSION } from "../core/version.ts";
import type { ConnectResult } from "../core/results.ts";
import {
  type Command,
  emptyJob,
  type Hello,
  type Job,
  type Message,
  type Report,
} from "../proto/codec.ts";

/** CONNECT round trips after the first, for the clock offset estimate. */
const CLOCK_SAMPLES = 4;

function _checkHello(reply: Message): string | undefined {
  const hello = reply.data.hello;
  if (reply.type !== "ACK" || !hello) {
    return `Answered ${reply.type} without a hello`;
  }
  if (hello.protocol !== PROTOCOL_VERSION) {
    return `Speaks protocol ${hello.protocol}, this manager ${PROTOCOL_VERSION}`;
  }
  return undefined;
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
}

/** The manager's control-plane side. */
export class Manager extends Node {
  #timeoutMs: number;
  #connectTimeoutMs: number;
  #retries: number;
  #clients = new Map<string, ReqClient>();
  #curve: CurveClientKeys | undefined;

  constructor(opts: ManagerOptions = {}) {
    super(`manager@${Deno.hostname()}`, opts.log ?? new MessageLog());
    this.#timeoutMs = opts.timeoutMs ?? REQUEST_TIMEOUT_MS;
    this.#retries = opts.retries ?? REQUEST_RETRIES;
    this.#connectTimeoutMs = opts.connectTimeoutMs ?? this.#timeoutMs;
    this.#curve = opts.curve;
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
   * CONNECT to every worker at once: connect, send CONNECT, receive the ACK,
   * disconnect. Never throws for a worker's failure: it is in its result.
   */
  connect(
    addrs: readonly string[],
    signal?: AbortSignal,
  ): Promise<ConnectResult[]> {
    return Promise.all(addrs.map((addr) => this.#connectOne(addr, signal)));
  }

  async #connectOne(
    addr: string,
    signal?: AbortSignal,
  ): Promise<ConnectResult> {
    const client = this.#newClient(addr, this.#connectTimeoutMs, this.#retries);
    const opts = signal ? { signal } : {};
    const hello: Hello = {
      protocol: PROTOCOL_VERSION,
      program: PROGRAM_VERSION,
      capabilities: [],
      hostname: Deno.hostname(),
      emulate: "",
      incarnation: "",
    };
    try {
      // The first exchange admits the worker (and pays for the TCP set-up);
      // the clock offset comes from the fastest of a few more round trips,
      // as NTP does: the shortest round trip bounds the offset tightest.
      let best: { reply: Message; sentUs: number; recvUs: number } | undefined;
      for (let i = 0; i < 1 + CLOCK_SAMPLES; i++) {
        const r = await this.request(
          client,
          () => this.message("CONNECT", addr, { hello }),
          opts,
        );
        if (i === 0) {
          const bad = _checkHello(r.reply);
          if (bad) {
            return {
              addr,
              status: "refused",
              error: bad,
              ...(r.reply.data.hello ? { hello: r.reply.data.hello } : {}),
            };
          }
          if (CLOCK_SAMPLES > 0) continue;
        }
        if (!best || r.recvUs - r.sentUs < best.recvUs - best.sentUs) best = r;
      }
      const { reply, sentUs, recvUs } = best!;
      const rttUs = recvUs - sentUs;
      return {
        addr,
        status: "ok",
        rttUs,
        offsetUs: reply.ts - (sentUs + recvUs) / 2,
        offsetBoundUs: rttUs / 2,
        hello: reply.data.hello!,
      };
    } catch (e) {
      if (e instanceof WorkerUnreachable) {
        return { addr, status: "unreachable", error: e.message };
      }
      if (e instanceof RemoteError) {
        return { addr, status: "refused", error: e.message };
      }
      if (e instanceof TransportError) {
        return { addr, status: "unreachable", error: e.message };
      }
      throw e;
    } finally {
      client.close();
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
    const { reply } = await this.request(
      this.client(addr),
      () => this.message("COMMAND", addr, { command }),
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

  /** Sends a REPORT for job `id` to its owner; resolves to the job's report. */
  async report(
    addr: string,
    id: string,
    opts: { layers?: number; signal?: AbortSignal | undefined } = {},
  ): Promise<Report> {
    const { reply } = await this.request(
      this.client(addr),
      () =>
        this.message("REPORT", addr, {
          report: { job: emptyJob({ id }), complete: false },
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
  async stopAll(addrs: readonly string[], timeoutMs = 1000): Promise<string[]> {
    const done = await Promise.allSettled(addrs.map(async (addr) => {
      const client = this.#newClient(addr, timeoutMs, 0);
      try {
        await this.request(client, () =>
          this.message("STOP", addr, {
            report: { job: emptyJob({ id: "" }), complete: false },
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

  /** Closes every socket. */
  close(): void {
    for (const c of this.#clients.values()) c.close();
    this.#clients.clear();
    this.log.close();
  }
}
