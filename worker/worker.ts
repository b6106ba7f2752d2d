/**
 * The worker's core: answers each control message with exactly one reply.
 * It never prints or exits; the CLI shell (`cli.ts`) binds and serves.
 *
 * @module
 */
import type { Budget } from "../core/budget.ts";
import { splitHostPort } from "../core/cli.ts";
import { CAPABILITIES, RELAY_TIMEOUT_MS } from "../core/defaults.ts";
import { MessageLog, Node } from "../core/node.ts";
import {
  type CurveClientKeys,
  MAX_MESSAGE_BYTES,
  type RepServer,
} from "../core/transport.ts";
import { PROGRAM_VERSION, PROTOCOL_VERSION } from "../core/version.ts";
import {
  type Command,
  decode,
  DecodeError,
  emptyJob,
  encode,
  type Job,
  type KernelClock,
  type Message,
  type Report,
} from "../proto/codec.ts";
import { Admission, jobTimeoutMs } from "./admit.ts";
import {
  incarnationOf,
  JobRecord,
  JobTable,
  type ProbeKind,
  type ProbeRunner,
} from "./jobs.ts";
import { partReport } from "./messages.ts";
import { jobReport } from "./report.ts";
import { logsMessages, probeArgs, streamSource } from "./probe_args.ts";
import { helloBootId, readKernelClock } from "./kernel_clock.ts";
import { HeldRelays } from "./hedge.ts";
import { Relay } from "./relay.ts";
import { Rosters } from "./roster.ts";
import { RelayError } from "./relay_errors.ts";
import { type Port, relayRefusal } from "./relay_port.ts";
import {
  commandIo,
  type IoOffer,
  type ProbeIo,
  validateCommand,
} from "./validate.ts";

export { RelayError };

/** Options of a {@link Worker}. */
export interface WorkerOptions {
  /** The worker's control address, its name in messages. */
  name: string;
  /** Emulation applied to every probe it runs ("" for none). */
  emulate?: string;
  /** Host its probes bind to (default: the host of `name`). */
  bindHost?: string;
  /** Host its probes are advertised at (default: the host the sender used). */
  advertise?: string;
  /** Deadline of each relayed request attempt, ms (scaled by the layers below). */
  relayTimeoutMs?: number;
  /** A faked kernel clock view for CONNECT (tests); default: ask the kernel. */
  clock?: KernelClock;
  /**
   * CURVE keys for relays to the workers below (the relay key pair, the
   * workers' server key); with them, relays go to relay ports only.
   */
  curve?: CurveClientKeys;
  /** Its relay port (CURVE: `relay_port.ts`), told in its hello; default none. */
  relayPort?: number;
  /** Probe I/O backends and timestamp kinds it offers (default: deno, user). */
  io?: IoOffer;
  /** The most work it takes on (default `DEFAULT_BUDGET`, `core/budget.ts`). */
  budget?: Budget;
  /** Keep a warm probe process per kind (see `JobTable`); default off. */
  standby?: boolean;
  /** Starts its probes instead of processes (a virtual pool, `demo/virtual/`). */
  probes?: ProbeRunner;
  log?: MessageLog;
}

/** A worker: a {@link Node} that serves CONNECT, COMMAND and REPORT. */
export class Worker extends Node {
  #emulate: string;
  #bindHost: string;
  #advertise: string | undefined;
  #clock: KernelClock | undefined;
  #relay: Relay;
  #rosters = new Rosters();
  #io: IoOffer;
  #admission: Admission;
  #relayPort: number;
  /** Under CURVE: every worker below is reached at its relay port. */
  #relaysToRelayPorts: boolean;
  /** Replies to recent COMMAND/STOP requests, by sender, id and ts. */
  #replies = new Map<string, Uint8Array>();
  /** COMMANDs and STOPs being handled, by key: a retry waits for the same reply. */
  #inFlight = new Map<string, Promise<Uint8Array>>();
  /** The jobs this worker started. */
  readonly jobs: JobTable;
  /** Relays held by phase 1 of a hedged relay (`hedge.ts`). */
  #held = new HeldRelays();
  /**
   * STOPs of every job so far: a COMMAND still starting when one comes
   * (its relays or probe start under way) is stopped as soon as it starts.
   */
  #stopAlls = 0;

  constructor(opts: WorkerOptions) {
    super(opts.name, opts.log ?? new MessageLog());
    this.#emulate = opts.emulate ?? "";
    this.#bindHost = opts.bindHost ?? _host(opts.name) ?? "127.0.0.1";
    this.#advertise = opts.advertise;
    this.#clock = opts.clock;
    this.#relay = new Relay(this, {
      timeoutMs: opts.relayTimeoutMs ?? RELAY_TIMEOUT_MS,
      curve: opts.curve,
    });
    this.#io = opts.io ?? { io: ["deno"], timestamps: ["user"] };
    this.#relayPort = opts.relayPort ?? 0;
    this.#relaysToRelayPorts = opts.curve !== undefined;
    this.#admission = new Admission(opts.budget);
    this.jobs = new JobTable({
      standby: opts.standby ?? false,
      ...(opts.probes ? { runner: opts.probes } : {}),
    });
  }

  /**
   * Handles one request's bytes, come on `port` (the relay port serves only
   * relayed requests, `relay_port.ts`); always resolves to a reply's bytes.
   */
  async handle(
    bytes: Uint8Array,
    port: Port = "control",
  ): Promise<Uint8Array> {
    let req: Message | undefined;
    let reply: Message;
    try {
      if (bytes.length > MAX_MESSAGE_BYTES) {
        throw new DecodeError(
          `Message of ${bytes.length} bytes is over the ${MAX_MESSAGE_BYTES}-byte limit`,
        );
      }
      req = decode(bytes);
      this.log.message("recv", req.data.src, req);
      const key = `${port}#${req.data.src}#${req.id}#${req.ts}`;
      const cached = this.#replies.get(key) ?? this.#inFlight.get(key);
      if (cached) {
        // A retry of a request already handled, or still being handled
        // (requests are handled concurrently): never start a job twice.
        this.log.event("info", "retry answered from cache", { key });
        return await cached;
      }
      if (req.type === "COMMAND" || req.type === "STOP") {
        const r = req;
        const once = (async () => {
          const reply = await this.#dispatch(r, port);
          const bytes = encode(reply);
          this.#replies.set(key, bytes);
          if (this.#replies.size > REPLY_CACHE) {
            this.#replies.delete(this.#replies.keys().next().value!);
          }
          this.log.message("send", reply.data.dst, reply);
          return bytes;
        })().finally(() => this.#inFlight.delete(key));
        this.#inFlight.set(key, once);
        return await once;
      }
      reply = await this.#dispatch(req, port);
    } catch (e) {
      const desc = e instanceof Error ? e.message : String(e);
      if (!(e instanceof DecodeError)) {
        this.log.event("error", "request failed", { desc });
      }
      reply = e instanceof RelayError
        ? this.errorReply(req, desc, { flag: "CHILD", addr: e.addr })
        : this.errorReply(req, desc);
    }
    this.log.message("send", reply.data.dst, reply);
    return encode(reply);
  }

  #dispatch(req: Message, port: Port): Promise<Message> | Message {
    const refused = port === "relay" ? relayRefusal(req, this.jobs) : undefined;
    if (refused) return this.errorReply(req, refused);
    switch (req.type) {
      case "CONNECT":
        return this.#connect(req);
      case "COMMAND":
        return this.#command(req, port === "relay");
      case "REPORT":
        return this.#report(req);
      case "STOP":
        return this.#stop(req);
      default:
        return this.errorReply(
          req,
          `A worker does not serve ${req.type} messages`,
        );
    }
  }

  #connect(req: Message): Message {
    const hello = req.data.hello!;
    if (hello.protocol !== PROTOCOL_VERSION) {
      return this.errorReply(
        req,
        `Protocol version ${hello.protocol} is not supported: this worker ` +
          `(treecast ${PROGRAM_VERSION}) speaks protocol ${PROTOCOL_VERSION}`,
      );
    }
    this.#rosters.connect(hello);
    return this.reply(req, "ACK", {
      hello: {
        protocol: PROTOCOL_VERSION,
        program: PROGRAM_VERSION,
        capabilities: [
          ...CAPABILITIES,
          ...this.#io.io.map((b) => `io:${b}`),
          ...this.#io.timestamps.map((t) => `ts:${t}`),
        ],
        hostname: Deno.hostname(),
        emulate: this.#emulate,
        incarnation: this.jobs.incarnation,
        clock: this.#clock ?? readKernelClock(),
        bootId: helloBootId(this.#emulate),
        ...(this.#relayPort ? { relayPort: this.#relayPort } : {}),
      },
    });
  }

  /**
   * COMMAND: validate, relay to the layer below (their probes must listen
   * before this one sends), then start this worker's own probe, `relayed`
   * when the command came on the relay port.
   */
  async #command(req: Message, relayed: boolean): Promise<Message> {
    const cmd = req.data.command!;
    validateCommand(cmd, this.name);
    const io = commandIo(cmd, this.#io);
    const release = this.#admission.admit(cmd, this.jobs.running());
    const epoch = this.#stopAlls;
    try {
      // Only workers of its run, each reached where the run resolved it.
      const targets = await this.#rosters.pin(cmd, {
        relayPorts: this.#relaysToRelayPorts,
      });
      return await this.#run(req, cmd, io, targets, release, {
        epoch,
        relayed,
      });
    } finally {
      release(); // failed before its job was listed (else a no-op)
    }
  }

  /** Relays a validated and admitted COMMAND, then starts its probe. */
  async #run(
    req: Message,
    cmd: Command,
    io: ProbeIo,
    targets: ReadonlyMap<string, string>,
    listed: () => void,
    { epoch, relayed }: { epoch: number; relayed: boolean },
  ): Promise<Message> {
    const advertise = this.#advertise ?? _host(req.data.dst) ?? this.#bindHost;
    const sender = streamSource(this.#bindHost, advertise);
    const step = cmd.hedge;
    const deps = step?.phase === 2
      ? this.#held.take(req.data.src, step.key)
      : cmd.layer > 0
      ? await this.#relay.command(cmd, sender, targets)
      : [];
    if (epoch !== this.#stopAlls) {
      // Overtaken during its relays (from here on, the job table lists the
      // job as it starts, and a STOP of every job finds it there).
      await this.#relay.stop(deps);
      throw new Error(_STOPPED_WHILE_STARTING);
    }
    if (step?.phase === 1) {
      // Hedged relay, phase 1: everything below listens; the probe waits.
      const ms = jobTimeoutMs(cmd);
      const stop = () => void this.#relay.stop(deps);
      this.#held.put(req.data.src, step.key, deps, ms, stop);
      const job = emptyJob({ flag: cmd.flag, owner: this.name, deps });
      return this.reply(req, "ACK", { report: { job, complete: false } });
    }
    const kind: ProbeKind = cmd.flag === "CHILD"
      ? "child"
      : cmd.flag === "PROXY"
      ? "proxy"
      : "parent";
    const expectedMs = cmd.warmup + cmd.dur;
    const timeoutMs = jobTimeoutMs(cmd);
    const emulate = kind === "parent" ? "" : this.#emulate;
    const messagesPath = logsMessages(kind, cmd)
      ? this.jobs.messagesPath()
      : undefined;
    const args = probeArgs(kind, cmd, {
      bindHost: this.#bindHost,
      to: [
        ...deps.filter((d) => d.addr !== "").map((d) => d.addr),
        ...step?.to ?? [], // a hedged proxy's hedge children
      ],
      emulate,
      timeoutMs,
      ...io,
      messagesPath,
      from: cmd.senders,
    });
    const rec = await this.jobs.start({
      flag: cmd.flag,
      kind,
      args,
      io: io.io,
      owner: this.name,
      instr: cmd.instr,
      params: [cmd.rate, cmd.dur, cmd.warmup, cmd.size, cmd.layer],
      deps,
      timeoutMs,
      expectedMs,
      emulate,
      advertise,
      messagesPath,
      onListed: listed,
      relayed,
    }).catch(async (e) => {
      // This probe did not start: the jobs below it would wait for a stream
      // that never comes, until their timeouts. Stop them now.
      await this.#relay.stop(deps);
      throw e;
    });
    this.log.event("info", "job started", {
      id: rec.job.id,
      kind,
      pid: rec.job.pid,
      args: [kind, ...args],
    });
    return this.reply(req, "ACK", {
      report: { job: rec.job, complete: false },
    });
  }

  /** STOP: end a job (or, with an empty id, every job) and its dependencies. */
  async #stop(req: Message): Promise<Message> {
    const id = req.data.report!.job.id;
    if (id === "") this.#stopAlls++;
    const found = id === "" ? this.jobs.running() : this.#job(req, id);
    if (!Array.isArray(found) && !(found instanceof JobRecord)) return found;
    const recs = Array.isArray(found) ? found : [found];
    for (const r of recs) r.stop();
    await this.#relay.stop(recs.flatMap((r) => r.job.deps));
    this.log.event("info", "stopped", { jobs: recs.map((r) => r.job.id) });
    return this.reply(req, "ACK", {
      report: {
        job: recs[0]?.job ?? emptyJob({ owner: this.name }),
        complete: true,
      },
    });
  }

  /**
   * REPORT: the job's state, with its dependencies' reports gathered from
   * the workers below; complete once the whole subtree has ended. A finished
   * job's report is kept, so asking again gives the same answer. A REPORT
   * with a part request is answered with that per-message part instead
   * (`messages.ts`).
   */
  async #report(req: Message): Promise<Message> {
    const asked = req.data.report!;
    const rec = this.#job(req, asked.job.id);
    if (!(rec instanceof JobRecord)) return rec;
    const ask = (dep: Job, extra?: Partial<Report>) =>
      this.#relay.ask(dep, extra);
    const report = asked.partRequest
      ? await partReport(rec, asked.partRequest, ask, this.name)
      : await jobReport(rec, ask);
    return this.reply(req, "ACK", { report });
  }

  /**
   * The job `id` names, or the typed ERR saying why there is none: a job of
   * another incarnation (the worker restarted since) or an unknown one.
   */
  #job(req: Message, id: string): JobRecord | Message {
    const rec = this.jobs.get(id);
    if (rec) return rec;
    const inc = this.jobs.incarnation;
    if (incarnationOf(id) !== inc) {
      return this.errorReply(
        req,
        `Job "${id}" is not of this worker's incarnation "${inc}": the worker ` +
          `restarted since the job was started`,
        { code: "OTHER_INCARNATION" },
      );
    }
    return this.errorReply(req, `No job "${id}" on this worker`, {
      code: "NO_SUCH_JOB",
    });
  }

  /** Serves requests arriving on `server` (its `port`) until the signal aborts. */
  serve(
    server: RepServer,
    signal?: AbortSignal,
    port: Port = "control",
  ): Promise<void> {
    return server.serve((bytes) => this.handle(bytes, port), signal, {
      concurrent: CONCURRENT_REQUESTS,
    });
  }

  /** Stops every job the worker started, then closes its sockets and log. */
  async close(): Promise<void> {
    await this.jobs.close();
    this.#relay.close();
    this.log.close();
  }
}

function _host(addr: string): string | undefined {
  try {
    return splitHostPort(addr).hostname;
  } catch {
    return undefined;
  }
}

/** Why a COMMAND that a STOP of every job overtook did not start. */
const _STOPPED_WHILE_STARTING =
  "Stopped while starting: a STOP of every job came before this job had started";

/** How many recent COMMAND/STOP replies a worker keeps for retries. */
const REPLY_CACHE = 256;
/**
 * Requests a worker handles at once: a COMMAND waiting on a slow relay below
 * (seconds) does not hold up a REPORT, STOP or CONNECT behind it. More wait.
 */
const CONCURRENT_REQUESTS = 64;
