/**
 * What manager and worker share (the seed: "Manager and Workers inherit
 * Node"): an identity, message construction (id counter, timestamps), a
 * JSON-lines log of every message sent and received, and request/reply
 * helpers over the transport.
 *
 * @module
 */
import {
  decode,
  DecodeError,
  encode,
  type ErrorCode,
  type Flag,
  type Message,
  type Metadata,
  type MsgType,
  nowUs,
} from "../proto/codec.ts";
import { UsageError } from "./cli.ts";
import { type ReqClient, TransportError } from "./transport.ts";

/** How much the message log records. */
export type LogLevel = "off" | "error" | "info" | "debug";
/** The accepted `--log-level` values. */
export const LOG_LEVELS: readonly LogLevel[] = [
  "off",
  "error",
  "info",
  "debug",
];

/** The `--log` and `--log-level` flags, shared by manager and worker. */
export const LOG_FLAGS = {
  log: {
    type: "string",
    arg: "FILE",
    help: "Append a JSON line per message to FILE",
  },
  "log-level": {
    type: "string",
    arg: "LEVEL",
    help: `Log detail: ${LOG_LEVELS.join(", ")}`,
    defaultText: "info",
  },
} as const;

/** The message log that `--log` and `--log-level` ask for. */
export function logFromFlags(
  values: { log: string | undefined; "log-level": string | undefined },
): MessageLog {
  const text = values["log-level"];
  if (text !== undefined && !(LOG_LEVELS as readonly string[]).includes(text)) {
    throw new UsageError(
      `Flag "--log-level" must be one of ${
        LOG_LEVELS.join(", ")
      }, got "${text}"`,
    );
  }
  return new MessageLog({
    level: (text ?? "info") as LogLevel,
    ...(values.log !== undefined ? { path: values.log } : {}),
  });
}

/**
 * A JSON-lines log: one object per line. At `info` every message sent and
 * received is logged (type, id, peers, payload kind), at `debug` with its
 * full content, at `error` only failures.
 */
export class MessageLog {
  #file: Deno.FsFile | undefined;
  #level: LogLevel;
  #enc = new TextEncoder();

  constructor(opts: { path?: string; level?: LogLevel } = {}) {
    this.#level = opts.level ?? "info";
    if (opts.path && this.#level !== "off") {
      this.#file = Deno.openSync(opts.path, {
        create: true,
        append: true,
      });
    }
  }

  /** Whether anything is written at all. */
  get enabled(): boolean {
    return this.#file !== undefined;
  }

  /** Logs a message sent or received. */
  message(dir: "send" | "recv", peer: string, msg: Message): void {
    if (!this.#file || this.#level === "error") return;
    const kind = (["command", "report", "error", "hello"] as const).find((k) =>
      msg.data[k] !== undefined
    );
    this.#write({
      t: nowUs(),
      dir,
      peer,
      id: msg.id,
      ts: msg.ts,
      type: msg.type,
      ...(kind ? { payload: kind } : {}),
      ...(this.#level === "debug" ? { data: msg.data } : {}),
    });
  }

  /** Logs an event (level info) or failure (level error). */
  event(level: "info" | "error", what: string, fields: object = {}): void {
    if (!this.#file) return;
    if (level === "info" && this.#level === "error") return;
    this.#write({ t: nowUs(), level, event: what, ...fields });
  }

  #write(obj: object): void {
    this.#file?.writeSync(this.#enc.encode(JSON.stringify(obj) + "\n"));
  }

  /** Closes the file. */
  close(): void {
    this.#file?.close();
    this.#file = undefined;
  }
}

/** A reply that was an ERR, or not the reply expected. */
export class RemoteError extends Error {
  override name = "RemoteError";
  /** The peer that answered. */
  readonly addr: string;
  /** The worker below it that the error is about, if any. */
  readonly about: string | undefined;
  /** The peer's description. */
  readonly desc: string;
  /** What kind of failure the peer reported. */
  readonly code: ErrorCode;
  constructor(
    addr: string,
    desc: string,
    about?: string,
    code: ErrorCode = "ERROR_CODE_UNSPECIFIED",
  ) {
    super(`Worker "${addr}" answered with an error: ${desc}`);
    this.addr = addr;
    this.desc = desc;
    this.about = about;
    this.code = code;
  }

  /** The worker restarted since it started the job the request named. */
  get restarted(): boolean {
    return this.code === "OTHER_INCARNATION";
  }
}

/** A node's identity and its message plumbing. */
export class Node {
  /** The node's name in messages' `src` (a worker's HOST:PORT). */
  name: string;
  /** The message log. */
  readonly log: MessageLog;
  #nextId = 0;

  constructor(name: string, log: MessageLog = new MessageLog()) {
    this.name = name;
    this.log = log;
  }

  /** Builds a message from this node: next id, current time. */
  message(
    type: MsgType,
    dst: string,
    payload: Omit<Metadata, "src" | "dst">,
  ): Message {
    return {
      id: this.#nextId++,
      ts: nowUs(),
      type,
      data: { src: this.name, dst, ...payload },
    };
  }

  /** Builds the reply to `req`: same id, this node's time. */
  reply(
    req: Message,
    type: MsgType,
    payload: Omit<Metadata, "src" | "dst">,
  ): Message {
    return {
      id: req.id,
      ts: nowUs(),
      type,
      data: { src: this.name, dst: req.data.src, ...payload },
    };
  }

  /**
   * An ERR reply naming what was wrong; `addr` names another worker when the
   * error is about it (a relay that failed).
   */
  errorReply(
    req: Message | undefined,
    desc: string,
    opts: { flag?: Flag; addr?: string; code?: ErrorCode } = {},
  ): Message {
    const error = {
      flag: opts.flag ?? "NONE",
      desc,
      addr: opts.addr ?? "",
      code: opts.code ?? "ERROR_CODE_UNSPECIFIED",
    };
    return req ? this.reply(req, "ERR", { error }) : {
      id: -1,
      ts: nowUs(),
      type: "ERR",
      data: { src: this.name, dst: "", error },
    };
  }

  /**
   * Sends a request through `client` and decodes the reply. Every attempt
   * (Lazy Pirate retry) resends the same message, same id and ts, so a
   * worker that did handle a lost attempt answers the retry from its reply
   * cache instead of starting a job twice. Resolves to the reply and the send
   * and receive times (us) of the attempt that succeeded. An ERR reply or an
   * undecodable one is thrown as {@link RemoteError}; transport failures as
   * the transport's typed errors.
   */
  async request(
    client: ReqClient,
    build: () => Message,
    opts: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<{ reply: Message; sentUs: number; recvUs: number }> {
    const msg = build();
    const bytes0 = encode(msg);
    let sentUs = msg.ts;
    const bytes = await client.request(() => {
      sentUs = nowUs();
      this.log.message("send", client.addr, msg);
      return bytes0;
    }, opts);
    const recvUs = nowUs();
    let reply: Message;
    try {
      reply = decode(bytes);
    } catch (e) {
      if (e instanceof DecodeError) {
        throw new RemoteError(client.addr, e.message);
      }
      throw e;
    }
    this.log.message("recv", client.addr, reply);
    if (reply.type === "ERR") {
      throw new RemoteError(
        client.addr,
        reply.data.error?.desc ?? "(no description)",
        reply.data.error?.addr || undefined,
        reply.data.error?.code,
      );
    }
    return { reply, sentUs, recvUs };
  }
}

/**
 * Whether the worker a request went to is lost for the job it named: it did
 * not answer, or it restarted since it started the job (its job is gone).
 */
export function lostForJob(e: unknown): e is Error {
  return e instanceof TransportError ||
    (e instanceof RemoteError && e.restarted);
}

export { TransportError };
