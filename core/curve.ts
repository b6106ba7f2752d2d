/**
 * CurveZMQ keys and authentication for an encrypted, authenticated control
 * plane. `treecast keygen` writes key pairs; a worker given its secret key
 * and the managers' public keys answers only those managers on its control
 * port, and only the relay keys on its relay port (a ZAP handler checks
 * each client key against the list of the port's ZAP domain), and a manager
 * given the workers' public key talks only to workers holding the matching
 * secret key.
 *
 * @module
 */
import * as zmq from "zeromq";
import { UsageError } from "./cli.ts";
import { Closed, waitReady } from "./transport.ts";

/** A CURVE key pair, Z85 text (40 characters each). */
export interface KeyPair {
  publicKey: string;
  secretKey: string;
}

/** A fresh key pair. */
export function generateKeyPair(): KeyPair {
  return zmq.curveKeyPair();
}

const Z85 =
  "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

/** Z85-encodes bytes (length a multiple of 4), as ZeroMQ writes keys. */
export function z85Encode(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 4) {
    let v = ((bytes[i]! << 24) >>> 0) + (bytes[i + 1]! << 16) +
      (bytes[i + 2]! << 8) + bytes[i + 3]!;
    const chunk: string[] = [];
    for (let j = 0; j < 5; j++) {
      chunk.unshift(Z85[v % 85]!);
      v = Math.floor(v / 85);
    }
    out += chunk.join("");
  }
  return out;
}

const _KEY = /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/;

/**
 * Writes `BASE.key` (secret and public key, mode 0600, also when it replaces
 * an older file: written aside and renamed over it) and `BASE.pub` (public
 * key only, to hand to the other side).
 */
export async function writeKeyPair(base: string, kp: KeyPair): Promise<void> {
  const aside = `${base}.key.${crypto.randomUUID()}`;
  await Deno.writeTextFile(
    aside,
    `# treecast CURVE key pair: keep secret\npublic ${kp.publicKey}\nsecret ${kp.secretKey}\n`,
    { mode: 0o600, createNew: true },
  );
  if (Deno.build.os !== "windows") await Deno.chmod(aside, 0o600); // any umask
  await Deno.rename(aside, `${base}.key`);
  await Deno.writeTextFile(`${base}.pub`, `${kp.publicKey}\n`);
}

/**
 * Throws a usage error when the secret key file `path` can be read or
 * written by its group or others (as ssh refuses an unprotected private
 * key): anyone who reads it can pose as its owner.
 */
function _private(flag: string, path: string): void {
  let mode: number | null;
  try {
    mode = Deno.statSync(path).mode;
  } catch (e) {
    throw new UsageError(
      `Flag "--${flag}": cannot read "${path}": ${(e as Error).message}`,
    );
  }
  if (mode === null || (mode & 0o077) === 0) return; // no modes here, or private
  const octal = (mode & 0o777).toString(8).padStart(4, "0");
  throw new UsageError(
    `Flag "--${flag}": unprotected secret key file "${path}": mode ${octal} ` +
      `lets group or others read it; a secret key must be readable by its ` +
      `owner only (chmod 600 "${path}")`,
  );
}

function _read(flag: string, path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (e) {
    throw new UsageError(
      `Flag "--${flag}": cannot read "${path}": ${(e as Error).message}`,
    );
  }
}

/**
 * Reads a `.key` file written by {@link writeKeyPair}; refuses one that
 * group or others may read or write (exit 2).
 */
export function readKeyPair(flag: string, path: string): KeyPair {
  const text = _read(flag, path);
  const pub = text.match(/^public (\S+)$/m)?.[1];
  const sec = text.match(/^secret (\S+)$/m)?.[1];
  if (!pub || !sec || !_KEY.test(pub) || !_KEY.test(sec)) {
    throw new UsageError(
      `Flag "--${flag}": "${path}" is not a treecast .key file`,
    );
  }
  _private(flag, path);
  return { publicKey: pub, secretKey: sec };
}

/** Reads public keys: each file holds one Z85 key (a `.pub`, or a `.key`). */
export function readPublicKeys(
  flag: string,
  paths: readonly string[],
): string[] {
  return paths.map((path) => {
    const text = _read(flag, path);
    const key = text.match(/^public (\S+)$/m)?.[1] ?? text.trim();
    if (!_KEY.test(key)) {
      throw new UsageError(
        `Flag "--${flag}": "${path}" holds no CURVE public key`,
      );
    }
    return key;
  });
}

const _enc = new TextEncoder();
const _dec = new TextDecoder();

/** The ZAP domain of a worker's control port: the managers' keys. */
export const MANAGER_DOMAIN = "treecast";
/** The ZAP domain of a worker's relay port: the relay keys. */
export const RELAY_DOMAIN = "relay";

/**
 * A ZAP handler (ZeroMQ's authentication protocol, RFC 27): admits a CURVE
 * client whose public key is in the list of the request's ZAP domain (the
 * domain of the socket it connects to), refuses every other, and every
 * client of a domain it has no list for. One per process (it binds
 * `inproc://zeromq.zap.01`); it serves until {@link close}.
 */
export class ZapHandler {
  #socket: zmq.Reply;
  #allowed: Map<string, Set<string>>;
  #done: Promise<void>;
  /** Keys refused so far (for logs and tests). */
  refused = 0;

  private constructor(socket: zmq.Reply, allowed: Map<string, Set<string>>) {
    this.#socket = socket;
    this.#allowed = allowed;
    this.#done = this.#serve();
  }

  /** Starts the handler: the client public keys admitted per ZAP domain. */
  static async start(
    domains: Readonly<Record<string, readonly string[]>>,
  ): Promise<ZapHandler> {
    const s = new zmq.Reply({ linger: 0 });
    await s.bind("inproc://zeromq.zap.01");
    return new ZapHandler(
      s,
      new Map(Object.entries(domains).map(([d, keys]) => [d, new Set(keys)])),
    );
  }

  async #serve(): Promise<void> {
    for (;;) {
      try {
        await waitReady(this.#socket, { want: "readable", deadline: Infinity });
      } catch (e) {
        if (e instanceof Closed) return;
        throw e;
      }
      const f = await this.#socket.receive();
      const [version, requestId, domain, , , mechanism, key] = f;
      const allowed = domain && this.#allowed.get(_dec.decode(domain));
      const ok = _dec.decode(mechanism) === "CURVE" && key?.length === 32 &&
        !!allowed && allowed.has(z85Encode(key));
      if (!ok) this.refused++;
      await this.#socket.send([
        version ?? _enc.encode("1.0"),
        requestId ?? new Uint8Array(),
        _enc.encode(ok ? "200" : "400"),
        _enc.encode(ok ? "OK" : "Client key not allowed"),
        _enc.encode(ok ? z85Encode(key!) : ""),
        new Uint8Array(),
      ]);
    }
  }

  /** Stops handling (new CURVE clients are then refused by ZeroMQ). */
  async close(): Promise<void> {
    this.#socket.close();
    await this.#done;
  }
}
