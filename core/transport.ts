/**
 * The ZeroMQ control-plane transport: REQ and REP sockets that really wait.
 *
 * Under Deno 2.9.6, `npm:zeromq`'s native poller never fires, so a
 * `receive()` or `send()` that has to wait never resolves. Every wait here
 * therefore polls the socket's `readable` / `writable` flag (ZMQ_EVENTS):
 * `setImmediate` turns for the first ~2 ms (round trips stay ~100 us), then
 * timers backing off to 10 ms (idle CPU stays negligible), and only calls
 * `receive()` / `send()` once they can complete at once. `transport_test.ts`
 * holds a canary that tells when a plain `await receive()` works again.
 *
 * Every request has a deadline. A REQ socket whose request timed out is
 * closed and reopened before a retry (the ZeroMQ guide's "Lazy Pirate");
 * after the retries the request fails with {@link WorkerUnreachable}.
 *
 * @module
 */
import * as zmq from "zeromq";
import { setImmediate } from "node:timers";

/** A transport failure. */
export class TransportError extends Error {
  override name = "TransportError";
}

/** A wait passed its deadline. */
export class Timeout extends TransportError {
  override name = "Timeout";
}

/** The socket was closed (or the wait aborted) while waiting. */
export class Closed extends TransportError {
  override name = "Closed";
}

/** No reply from `addr` after every retry. */
export class WorkerUnreachable extends TransportError {
  override name = "WorkerUnreachable";
  /** The address that did not answer. */
  readonly addr: string;
  /** Attempts made (1 + retries). */
  readonly attempts: number;
  constructor(addr: string, attempts: number, timeoutMs: number) {
    super(
      `Worker "${addr}" did not answer ${attempts} request${
        attempts === 1 ? "" : "s"
      } within ${timeoutMs} ms each`,
    );
    this.addr = addr;
    this.attempts = attempts;
  }
}

/** Largest control message accepted, in bytes; larger peers are disconnected. */
export const MAX_MESSAGE_BYTES = 1 << 20;

const SPIN_MS = 2;
const MAX_BACKOFF_MS = 10;

const _immediate = () => new Promise<void>((r) => setImmediate(r));
const _sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Waits until `socket` is readable (or writable), the deadline passes
 * ({@link Timeout}) or the signal aborts / the socket closes ({@link Closed}).
 * `deadline` is a `performance.now()` value; `Infinity` waits forever.
 */
export async function waitReady(
  socket: zmq.Socket,
  opts: {
    want: "readable" | "writable";
    deadline: number;
    signal?: AbortSignal;
  },
): Promise<void> {
  const start = performance.now();
  let backoff = 1;
  for (;;) {
    if (socket.closed || opts.signal?.aborted) {
      throw new Closed("Socket closed while waiting");
    }
    if (opts.want === "readable" ? socket.readable : socket.writable) return;
    const now = performance.now();
    if (now >= opts.deadline) throw new Timeout("Deadline passed");
    if (now - start < SPIN_MS) {
      await _immediate();
    } else {
      await _sleep(Math.min(backoff, opts.deadline - now));
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  }
}

/** CURVE keys for an encrypted, authenticated socket (z85 text). */
export interface CurveClientKeys {
  publicKey: string;
  secretKey: string;
  serverKey: string;
}

/** Options of a {@link ReqClient}. */
export interface ReqOptions {
  /** Deadline of each attempt, ms. */
  timeoutMs: number;
  /** Attempts after the first one. */
  retries: number;
  curve?: CurveClientKeys;
}

/**
 * A REQ socket to one address, with deadlines and Lazy Pirate retries.
 * One request at a time: concurrent calls queue behind each other.
 */
export class ReqClient {
  /** `HOST:PORT` this client talks to. */
  readonly addr: string;
  #opts: ReqOptions;
  #socket: zmq.Request | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(addr: string, opts: ReqOptions) {
    this.addr = addr;
    this.#opts = opts;
  }

  #open(): zmq.Request {
    if (!this.#socket) {
      const s = new zmq.Request({
        linger: 0,
        maxMessageSize: MAX_MESSAGE_BYTES,
      });
      if (this.#opts.curve) {
        s.curvePublicKey = this.#opts.curve.publicKey;
        s.curveSecretKey = this.#opts.curve.secretKey;
        s.curveServerKey = this.#opts.curve.serverKey;
      }
      s.connect(`tcp://${this.addr}`);
      this.#socket = s;
    }
    return this.#socket;
  }

  #reset(): void {
    this.#socket?.close();
    this.#socket = undefined;
  }

  /**
   * Sends `body` and resolves to the reply. `body` may be a function of the
   * attempt number (so each retry can carry a fresh id and timestamp).
   * Throws {@link WorkerUnreachable} after every attempt timed out.
   */
  request(
    body: Uint8Array | ((attempt: number) => Uint8Array),
    opts: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<Uint8Array> {
    const run = this.#queue.then(() => this.#request(body, opts));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #request(
    body: Uint8Array | ((attempt: number) => Uint8Array),
    opts: { signal?: AbortSignal; timeoutMs?: number },
  ): Promise<Uint8Array> {
    const timeoutMs = opts.timeoutMs ?? this.#opts.timeoutMs;
    const attempts = 1 + this.#opts.retries;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (this.#closed) throw new Closed(`Client for "${this.addr}" closed`);
      const socket = this.#open();
      const deadline = performance.now() + timeoutMs;
      const bytes = typeof body === "function" ? body(attempt) : body;
      const waitOpts = {
        deadline,
        ...(opts.signal ? { signal: opts.signal } : {}),
      };
      try {
        await waitReady(socket, { want: "writable", ...waitOpts });
        await socket.send(bytes);
        await waitReady(socket, { want: "readable", ...waitOpts });
        const [reply] = await socket.receive();
        return reply ?? new Uint8Array();
      } catch (e) {
        this.#reset();
        if (!(e instanceof Timeout)) throw e;
      }
    }
    throw new WorkerUnreachable(this.addr, attempts, timeoutMs);
  }

  /** Closes the socket; pending and later requests fail with {@link Closed}. */
  close(): void {
    this.#closed = true;
    this.#reset();
  }
}

/** CURVE server keys and the client public keys it admits. */
export interface CurveServerKeys {
  publicKey: string;
  secretKey: string;
}

/** Handles one request; its reply is sent back. Must not throw. */
export type Handler = (request: Uint8Array) => Promise<Uint8Array>;

/** A REP socket bound to an address, serving one request at a time. */
export class RepServer {
  #socket: zmq.Reply;
  /** The bound `HOST:PORT` (the real port when bound to port 0). */
  readonly addr: string;

  private constructor(socket: zmq.Reply, addr: string) {
    this.#socket = socket;
    this.addr = addr;
  }

  /** Binds `HOST:PORT` (port 0 picks a free port). */
  static async bind(
    addr: string,
    opts: { curve?: CurveServerKeys; zapDomain?: string } = {},
  ): Promise<RepServer> {
    const s = new zmq.Reply({ linger: 0, maxMessageSize: MAX_MESSAGE_BYTES });
    if (opts.curve) {
      s.curveServer = true;
      s.curvePublicKey = opts.curve.publicKey;
      s.curveSecretKey = opts.curve.secretKey;
      if (opts.zapDomain) s.zapDomain = opts.zapDomain;
    }
    const port = addr.slice(addr.lastIndexOf(":") + 1);
    const host = addr.slice(0, addr.lastIndexOf(":"));
    try {
      await s.bind(`tcp://${host}:${port === "0" ? "*" : port}`);
    } catch (e) {
      s.close();
      throw new TransportError(
        `Cannot bind worker to "${addr}": ${(e as Error).message}`,
      );
    }
    const bound = (s.lastEndpoint ?? "").replace(/^tcp:\/\//, "");
    return new RepServer(s, bound);
  }

  /**
   * Serves requests until the signal aborts or the socket closes. Each
   * request's reply is the handler's result; the handler must not throw.
   */
  async serve(handler: Handler, signal?: AbortSignal): Promise<void> {
    const s = this.#socket;
    for (;;) {
      try {
        await waitReady(s, {
          want: "readable",
          deadline: Infinity,
          ...(signal ? { signal } : {}),
        });
      } catch (e) {
        if (e instanceof Closed) return;
        throw e;
      }
      const frames = await s.receive();
      const reply = await handler(frames[0] ?? new Uint8Array());
      try {
        await waitReady(s, {
          want: "writable",
          deadline: performance.now() + 5000,
        });
        await s.send(reply);
      } catch (e) {
        if (e instanceof Closed) return;
        // The requester went away (its REQ was reset): drop the reply.
      }
    }
  }

  /** Closes the socket; {@link serve} returns. */
  close(): void {
    this.#socket.close();
  }
}
