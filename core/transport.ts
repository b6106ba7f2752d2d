/**
 * The ZeroMQ control-plane transport: requests to many workers over ONE
 * socket, and servers that answer them; every wait goes through the
 * readiness loop of `ready.ts`.
 *
 * Requests go out through one ROUTER socket per process (per CURVE
 * identity), connected to each worker under its own routing id: no
 * per-context socket limit (libzmq's 1,023) applies, a failed connect costs
 * only that worker (a {@link TransportError}), and any number of pending
 * requests cost one readiness check. Each request carries a fresh
 * correlation frame that the server echoes back, so a late reply to an
 * abandoned attempt is dropped. A worker serves on a bound ROUTER that
 * behaves as a REP socket (one request at a time, the envelope echoed):
 * ZeroMQ refuses ROUTER peers on a REP socket; plain REQ clients work too.
 *
 * Every request has a deadline; a timed-out attempt is resent with a fresh
 * id, on a fresh connection when no other client shares it (the ZeroMQ
 * guide's "Lazy Pirate"); after the retries it fails with
 * {@link WorkerUnreachable}.
 *
 * @module
 */
import process from "node:process";
import * as zmq from "zeromq";
import { Closed, Timeout, TransportError, waitReady } from "./ready.ts";

export { Closed, Timeout, TransportError, waitReady };

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

/** One connection of a {@link Hub} to a worker, shared by its clients. */
interface Peer {
  addr: string;
  rid: string;
  users: number;
}

const _empty = new Uint8Array();

/**
 * The process's ROUTER socket for one CURVE identity: one connection (and
 * routing id) per worker address, requests matched to replies by a
 * correlation frame. It opens with its first client and closes with its
 * last.
 */
class Hub {
  static #hubs = new Map<string, Hub>();
  #key: string;
  #socket: zmq.Router;
  #peers = new Map<string, Peer>();
  #pending = new Map<string, (reply: Uint8Array) => void>();
  #sending: Promise<unknown> = Promise.resolve();
  #pumping = false;
  #idle: AbortController | undefined;
  #next = 0;

  private constructor(key: string, curve?: CurveClientKeys) {
    this.#key = key;
    try {
      this.#socket = new zmq.Router({
        linger: 0,
        maxMessageSize: MAX_MESSAGE_BYTES,
      });
    } catch (e) {
      throw new TransportError(`Cannot open a socket: ${(e as Error).message}`);
    }
    if (curve) {
      this.#socket.curvePublicKey = curve.publicKey;
      this.#socket.curveSecretKey = curve.secretKey;
      this.#socket.curveServerKey = curve.serverKey;
    }
  }

  /** A connection to `addr` (opened now, or shared with other clients). */
  static attach(addr: string, curve?: CurveClientKeys): [Hub, Peer] {
    const key = curve
      ? `${curve.publicKey}/${curve.secretKey}/${curve.serverKey}`
      : "";
    let hub = Hub.#hubs.get(key);
    if (!hub) {
      hub = new Hub(key, curve);
      Hub.#hubs.set(key, hub);
    }
    let peer = hub.#peers.get(addr);
    if (!peer) {
      peer = { addr, rid: "", users: 0 };
      try {
        hub.#connect(peer);
      } catch (e) {
        if (hub.#peers.size === 0) hub.#close();
        throw e;
      }
      hub.#peers.set(addr, peer);
    }
    peer.users++;
    return [hub, peer];
  }

  #connect(peer: Peer): void {
    peer.rid = `w${this.#next++}`;
    // zeromq.js warns that an option set after a connect waits for the next
    // one: true, and meant (the routing id names the next connection).
    const warn = process.emitWarning;
    process.emitWarning = () => {};
    try {
      this.#socket.connect(`tcp://${peer.addr}`, { routingId: peer.rid });
    } catch (e) {
      throw new TransportError(
        `Cannot connect to "${peer.addr}": ${(e as Error).message}`,
      );
    } finally {
      process.emitWarning = warn;
    }
  }

  #disconnect(peer: Peer): void {
    try {
      this.#socket.disconnect(`tcp://${peer.addr}`);
    } catch { /* already gone */ }
  }

  /** A client is done with `peer`; the last one closes the connection. */
  detach(peer: Peer): void {
    if (--peer.users > 0) return;
    this.#disconnect(peer);
    this.#peers.delete(peer.addr);
    if (this.#peers.size === 0) this.#close();
  }

  /**
   * After a timeout: a fresh connection (dropping what is queued on the
   * old one), unless other clients share it.
   */
  reset(peer: Peer): void {
    if (peer.users !== 1 || this.#socket.closed) return;
    this.#disconnect(peer);
    this.#connect(peer);
  }

  #close(): void {
    this.#socket.close();
    Hub.#hubs.delete(this.#key);
  }

  /**
   * Sends `body` to `peer`; resolves to the reply, or never (the caller
   * holds the deadline and calls `cancel`).
   */
  call(
    peer: Peer,
    body: Uint8Array,
    deadline: number,
  ): { reply: Promise<Uint8Array>; cancel: () => void } {
    const id = `${this.#next++}`;
    const reply = new Promise<Uint8Array>((resolve, reject) => {
      this.#pending.set(id, resolve);
      const send = this.#sending.then(async () => {
        if (!this.#pending.has(id)) return;
        await waitReady(this.#socket, { want: "writable", deadline });
        await this.#socket.send([peer.rid, id, _empty, body]);
      });
      this.#sending = send.catch(() => {});
      send.catch((e) => {
        this.#pending.delete(id);
        reject(
          e instanceof TransportError ? e : new TransportError(
            `Cannot send to "${peer.addr}": ${(e as Error).message}`,
          ),
        );
      });
    });
    if (!this.#pumping) this.#pump();
    const cancel = () => {
      // Nothing left to wait for: the pump stops (the loop may idle).
      if (this.#pending.delete(id) && this.#pending.size === 0) {
        this.#idle?.abort();
      }
    };
    return { reply, cancel };
  }

  /** Receives replies while any request waits for one. */
  async #pump(): Promise<void> {
    this.#pumping = true;
    let failed = false;
    try {
      while (this.#pending.size > 0) {
        this.#idle = new AbortController();
        await waitReady(this.#socket, {
          want: "readable",
          deadline: Infinity,
          hot: true,
          signal: this.#idle.signal,
        });
        while (this.#socket.readable) {
          const [, id, , reply] = await this.#socket.receive();
          const key = id?.toString();
          const done = key === undefined ? undefined : this.#pending.get(key);
          if (!done) continue; // a late reply to an abandoned attempt
          this.#pending.delete(key!);
          done(reply ?? _empty);
        }
      }
    } catch (e) {
      // Closed, or nothing left to wait for (aborted); or a receive that
      // failed: waiting requests time out and their retries restart it.
      failed = !(e instanceof Closed);
    } finally {
      this.#pumping = false;
    }
    // A request that came while the pump was stopping.
    if (!failed && this.#pending.size > 0 && !this.#socket.closed) this.#pump();
  }
}

/**
 * Requests to one address, with deadlines and Lazy Pirate retries. One
 * request at a time: concurrent calls queue behind each other. All clients
 * of a process share one ROUTER socket (see the module comment).
 */
export class ReqClient {
  /** `HOST:PORT` this client talks to. */
  readonly addr: string;
  #opts: ReqOptions;
  #link: [Hub, Peer] | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #closing = new AbortController();

  constructor(addr: string, opts: ReqOptions) {
    this.addr = addr;
    this.#opts = opts;
  }

  /**
   * Sends `body` and resolves to the reply. `body` may be a function of the
   * attempt number (so each retry can carry a fresh id and timestamp).
   * Throws {@link WorkerUnreachable} after every attempt timed out, and a
   * {@link TransportError} when no connection can be opened.
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
    const signal = opts.signal
      ? AbortSignal.any([opts.signal, this.#closing.signal])
      : this.#closing.signal;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (signal.aborted) throw new Closed(`Client for "${this.addr}" closed`);
      this.#link ??= Hub.attach(this.addr, this.#opts.curve);
      const [hub, peer] = this.#link;
      const bytes = typeof body === "function" ? body(attempt) : body;
      const deadline = performance.now() + timeoutMs;
      const call = hub.call(peer, bytes, deadline);
      let timer: ReturnType<typeof setTimeout> | undefined;
      let onAbort: (() => void) | undefined;
      const outcome = await Promise.race([
        call.reply,
        new Promise<"timeout">((r) => {
          timer = setTimeout(() => r("timeout"), timeoutMs);
        }),
        new Promise<"closed">((r) => {
          onAbort = () => r("closed");
          signal.addEventListener("abort", onAbort);
        }),
      ]).finally(() => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort!);
        call.cancel();
      });
      if (outcome === "closed") {
        throw new Closed(`Request to "${this.addr}" aborted`);
      }
      if (outcome !== "timeout") return outcome;
      hub.reset(peer);
    }
    throw new WorkerUnreachable(this.addr, attempts, timeoutMs);
  }

  /** Closes the client; pending and later requests fail with {@link Closed}. */
  close(): void {
    this.#closing.abort();
    const link = this.#link;
    this.#link = undefined;
    if (link) link[0].detach(link[1]);
  }
}

/** CURVE server keys and the client public keys it admits. */
export interface CurveServerKeys {
  publicKey: string;
  secretKey: string;
}

/** Handles one request; its reply is sent back. Must not throw. */
export type Handler = (request: Uint8Array) => Promise<Uint8Array>;

/**
 * A server bound to an address, answering each request under its envelope
 * as a REP socket does (one at a time unless {@link RepServer.serve} is told
 * otherwise); it is a ROUTER underneath, so that the ROUTER of a
 * {@link ReqClient} may connect (REP refuses ROUTER peers).
 */
export class RepServer {
  #socket: zmq.Router;
  /** The bound `HOST:PORT` (the real port when bound to port 0). */
  readonly addr: string;

  private constructor(socket: zmq.Router, addr: string) {
    this.#socket = socket;
    this.addr = addr;
  }

  /** Binds `HOST:PORT` (port 0 picks a free port). */
  static async bind(
    addr: string,
    opts: { curve?: CurveServerKeys; zapDomain?: string } = {},
  ): Promise<RepServer> {
    const s = new zmq.Router({ linger: 0, maxMessageSize: MAX_MESSAGE_BYTES });
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
   * A request without an envelope (no empty delimiter frame) is dropped.
   * With `concurrent` above 1, up to that many requests are handled at once
   * (a slow one does not hold up the others; a ROUTER may answer out of
   * order, each reply under its request's envelope); one more waits until
   * one of them is answered.
   */
  async serve(
    handler: Handler,
    signal?: AbortSignal,
    opts: { concurrent?: number } = {},
  ): Promise<void> {
    const s = this.#socket;
    const most = Math.max(1, opts.concurrent ?? 1);
    const running = new Set<Promise<void>>();
    let sending: Promise<void> = Promise.resolve();
    const answer = async (frames: Uint8Array[], bottom: number) => {
      const reply = await handler(frames[bottom + 1] ?? _empty);
      // One send at a time on the socket, in the order replies are ready.
      const sent = sending.then(async () => {
        try {
          await s.send([...frames.slice(0, bottom + 1), reply]);
        } catch {
          // Closed, or the requester went away: drop the reply.
        }
      });
      sending = sent;
      await sent;
    };
    for (;;) {
      let frames: Uint8Array[];
      try {
        await waitReady(s, {
          want: "readable",
          deadline: Infinity,
          ...(signal ? { signal } : {}),
        });
        frames = await s.receive();
      } catch (e) {
        if (e instanceof Closed || s.closed) break;
        throw e;
      }
      // [peer, ...correlation, "", body]: REP's envelope, echoed back.
      const bottom = frames.findIndex((f, i) => i > 0 && f.length === 0);
      if (bottom < 0) continue;
      const task = answer(frames, bottom);
      running.add(task);
      void task.finally(() => running.delete(task));
      if (running.size >= most) await Promise.race(running);
      if (s.closed) break;
    }
    await Promise.allSettled(running);
  }

  /** Closes the socket; {@link serve} returns. */
  close(): void {
    this.#socket.close();
  }
}
