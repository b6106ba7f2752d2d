/**
 * Helpers for tests and benchmarks that run probes (and the C reference)
 * as processes: spawn, read the JSON lines, find a free port, wait for a
 * process without a READY line to bind. Not part of the probes' API.
 *
 * @module
 */
import { RealtimeClock } from "./clock.ts";
import type { IoKind } from "./io.ts";
import {
  encodeHeader,
  FLAG_END,
  FLAG_WARMUP,
  HEADER_BYTES,
  type ProbeHeader,
} from "./wire.ts";

/** The repository root (the folder holding `deno.json`). */
export const REPO_ROOT: string = new URL("..", import.meta.url).pathname;

/** The probe entry that needs no control plane. */
export const PROBE_ENTRY: string =
  new URL("./cli_entry.ts", import.meta.url).pathname;

/** The I/O backends every probe test runs on (native only on Linux, where CI requires it). */
export const IO_BACKENDS: readonly IoKind[] = Deno.build.os === "linux"
  ? ["native", "deno"]
  : ["deno"];

/**
 * Registers test `name` once per backend of {@link IO_BACKENDS}, named
 * `name [io=BACKEND]`; `fn` gets the backend.
 */
export function ioTest(
  name: string,
  fn: (io: IoKind) => void | Promise<void>,
  o: { ignore?: boolean } = {},
): void {
  for (const io of IO_BACKENDS) {
    Deno.test({ name: `${name} [io=${io}]`, fn: () => fn(io), ...o });
  }
}

/** The three test vectors of probes/WIRE.md, verbatim. */
export const GOLDEN: [ProbeHeader, string][] = [
  [
    { seq: 0, flags: 0, tsNs: 1715280981565948000n, emuNs: 0, hops: 0 },
    "000000000000000060c038fcf6e6cd170000000000000000",
  ],
  [
    {
      seq: 1,
      flags: FLAG_WARMUP,
      tsNs: 1715280981566048000n,
      emuNs: 0,
      hops: 0,
    },
    "010000000200000000473afcf6e6cd170000000000000000",
  ],
  [
    {
      seq: 20000,
      flags: FLAG_END,
      tsNs: 1715280983565948000n,
      emuNs: 250000,
      hops: 2,
    },
    "204e00000100000060546e73f7e6cd1790d0030002000000",
  ],
];

/** A running process whose stdout is JSON lines. */
export class LineProcess {
  #child: Deno.ChildProcess;
  #lines: string[] = [];
  #waiters: (() => void)[] = [];
  #stdoutDone: Promise<void>;
  #stderr: Promise<string>;
  #closed = false;

  /** Spawns `cmd args` in the repository root. */
  constructor(cmd: string, args: string[]) {
    this.#child = new Deno.Command(cmd, {
      args,
      cwd: REPO_ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#stdoutDone = this.#read();
    this.#stderr = new Response(this.#child.stderr).text();
  }

  /** The process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** The next stdout line parsed as JSON (waits up to `timeoutMs`). */
  async nextJson(timeoutMs = 10_000): Promise<Record<string, unknown>> {
    const deadline = performance.now() + timeoutMs;
    while (this.#lines.length === 0) {
      if (this.#closed) {
        throw new Error(`Process ${this.pid} ended before printing a line`);
      }
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new Error(
          `No line from process ${this.pid} within ${timeoutMs} ms`,
        );
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        new Promise<void>((r) => this.#waiters.push(r)),
        new Promise<void>((r) => timer = setTimeout(r, left)),
      ]);
      clearTimeout(timer);
    }
    return JSON.parse(this.#lines.shift()!);
  }

  /** Sends a signal. */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    try {
      this.#child.kill(signal);
    } catch { /* already gone */ }
  }

  /** Waits for the end: exit code, the stdout lines not read yet (parsed), stderr. */
  async finish(): Promise<
    { code: number; lines: Record<string, unknown>[]; stderr: string }
  > {
    const status = await this.#child.status;
    await this.#stdoutDone;
    const lines = this.#lines.splice(0).map((l) => JSON.parse(l));
    return { code: status.code, lines, stderr: await this.#stderr };
  }

  async #read(): Promise<void> {
    let rest = "";
    for await (
      const chunk of this.#child.stdout.pipeThrough(new TextDecoderStream())
    ) {
      rest += chunk;
      let nl;
      while ((nl = rest.indexOf("\n")) >= 0) {
        const line = rest.slice(0, nl).trim();
        rest = rest.slice(nl + 1);
        if (line !== "") this.#lines.push(line);
      }
      this.#waiters.splice(0).forEach((w) => w());
    }
    if (rest.trim() !== "") this.#lines.push(rest.trim());
    this.#closed = true;
    this.#waiters.splice(0).forEach((w) => w());
  }
}

/** Spawns `treecast <probe> ...args` through {@link PROBE_ENTRY}. */
export function spawnProbe(args: string[]): LineProcess {
  return new LineProcess(Deno.execPath(), ["run", "-A", PROBE_ENTRY, ...args]);
}

/**
 * Spawns `treecast parent --io IO --to TO,... --rate R --duration S
 * --warmup W` (seconds), the stream most probe tests send.
 */
export function spawnParent(
  io: string,
  to: readonly string[],
  o: { rate: number; duration: number; warmup: number },
): LineProcess {
  return spawnProbe([
    "parent",
    "--io",
    io,
    "--to",
    to.join(","),
    "--rate",
    String(o.rate),
    "--duration",
    String(o.duration),
    "--warmup",
    String(o.warmup),
  ]);
}

/** Spawns a probe that prints READY; resolves with the process and its bound address. */
export async function spawnReady(
  args: string[],
): Promise<{ proc: LineProcess; bind: string }> {
  const proc = spawnProbe(args);
  const ready = await proc.nextJson();
  if (ready.event !== "ready") {
    throw new Error(`Expected a ready line, got ${JSON.stringify(ready)}`);
  }
  return { proc, bind: String(ready.bind) };
}

/** A UDP port that was free a moment ago on 127.0.0.1 (bind port 0, read it, close). */
export function freeUdpPort(): number {
  const c = Deno.listenDatagram({
    transport: "udp",
    hostname: "127.0.0.1",
    port: 0,
  });
  const port = (c.addr as Deno.NetAddr).port;
  c.close();
  return port;
}

/**
 * Waits until some process has bound UDP `port` (for programs without a
 * READY line, such as the C reference), reading `/proc/net/udp` so as not
 * to race for the port; without procfs, waits a fixed 300 ms.
 */
export async function waitUdpBound(
  port: number,
  timeoutMs = 5000,
): Promise<void> {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, "0")} `;
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    let table: string;
    try {
      table = await Deno.readTextFile("/proc/net/udp") +
        await Deno.readTextFile("/proc/net/udp6").catch(() => "");
    } catch {
      await new Promise((r) => setTimeout(r, 300));
      return;
    }
    // Local address is the 2nd column: "0100007F:9C40 ".
    if (
      table.split("\n").some((l) =>
        l.trim().split(/\s+/)[1]?.endsWith(hex.trim())
      )
    ) return;
    if (performance.now() > deadline) {
      throw new Error(`Nothing bound UDP port ${port} within ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** One datagram for {@link sendCrafted}: a header (ts_ns defaults to now) or raw bytes. */
export type Crafted =
  | {
    seq: number;
    flags?: number;
    emuNs?: number;
    hops?: number;
    /** ts_ns offset from the send time, ns (e.g. positive for a clock ahead). */
    tsOffsetNs?: bigint;
    size?: number;
  }
  | Uint8Array;

/**
 * Sends hand-made datagrams to `to` from a fresh socket (or from `o.via`,
 * left open), in order, pausing
 * 1 ms every 25 datagrams so that an in-process receiver can drain its
 * socket (a Linux socket holds ~256 small datagrams by default; with a
 * pause every 100, a loaded CI machine dropped some, which a test then
 * counted as lost).
 */
export async function sendCrafted(
  to: string,
  items: readonly Crafted[],
  o: { via?: Deno.DatagramConn } = {},
): Promise<void> {
  const [hostname, port] = [
    to.slice(0, to.lastIndexOf(":")),
    Number(to.slice(to.lastIndexOf(":") + 1)),
  ];
  const addr: Deno.NetAddr = { transport: "udp", hostname, port };
  const conn = o.via ?? Deno.listenDatagram({
    transport: "udp",
    hostname: "127.0.0.1",
    port: 0,
  });
  const clock = new RealtimeClock();
  try {
    let n = 0;
    for (const it of items) {
      const bytes = it instanceof Uint8Array ? it : encodeHeader(
        {
          seq: it.seq,
          flags: it.flags ?? 0,
          tsNs: clock.toNs(performance.now()) + (it.tsOffsetNs ?? 0n),
          emuNs: it.emuNs ?? 0,
          hops: it.hops ?? 0,
        },
        new Uint8Array(it.size ?? HEADER_BYTES),
      );
      await conn.send(bytes, addr);
      if (++n % 25 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await new Promise((r) => setTimeout(r, 1));
  } finally {
    if (o.via === undefined) conn.close();
  }
}

/** Binds a plain UDP socket on `host`:0 (default 127.0.0.1) that a test reads or sends from itself. */
export function rawSocket(
  host = "127.0.0.1",
): { conn: Deno.DatagramConn; addr: string } {
  const conn = Deno.listenDatagram({
    transport: "udp",
    hostname: host,
    port: 0,
  });
  return { conn, addr: `${host}:${(conn.addr as Deno.NetAddr).port}` };
}

/** Reads datagrams from `conn` until none came for `quietMs`, then closes it; returns copies. */
export async function drain(
  conn: Deno.DatagramConn,
  quietMs = 200,
): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  const buf = new Uint8Array(65536);
  let timer = setTimeout(() => conn.close(), quietMs);
  try {
    for (;;) {
      const [d] = await conn.receive(buf);
      out.push(d.slice());
      clearTimeout(timer);
      timer = setTimeout(() => conn.close(), quietMs);
    }
  } catch {
    // closed: quiet for quietMs
  } finally {
    clearTimeout(timer);
  }
  return out;
}
