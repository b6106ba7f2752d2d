/**
 * The child probe's core: receives one stream and measures it.
 *
 * It binds, reports the bound address (`onReady`), waits for the first
 * datagram, and records `arrival - ts_ns + emu_ns` of every measured packet
 * (not WARMUP) until END, or until the stream stops or outlasts its
 * deadline ({@link StreamWatch} has the exact timeout semantics). Datagrams
 * not of the format are counted as malformed and otherwise ignored. It never
 * prints and never exits: it returns a {@link ChildResult}, with `error`
 * set when the run failed (partial results beside it).
 *
 * The receive loop does as little as possible per datagram: one reused
 * 64-byte buffer and DataView (a child reads the header only), the arrival
 * time taken first, running statistics, no allocation of its own.
 *
 * @module
 */
import type { HostPort } from "../core/cli.ts";
import { CHILD_BUFFER_BYTES, START_TIMEOUT_S } from "./defaults.ts";
import { type EmulationParams, Emulator } from "./emulate.ts";
import {
  bindUdp,
  endStream,
  formatAddr,
  type StopReason,
  StreamWatch,
} from "./net.ts";
import { DelayRecorder, type RecordReport } from "./recorder.ts";
import {
  FLAG_END,
  FLAG_WARMUP,
  isProbeDatagram,
  OFF_EMU,
  OFF_FLAGS,
  OFF_HOPS,
} from "./wire.ts";

/** What a child is told to do. */
export interface ChildOptions {
  bind: HostPort;
  /** Expected stream duration, s (the deadline derives from it). */
  duration: number;
  /** Wait for the first datagram, s. */
  timeout?: number;
  /** Least idle time that ends a started stream, s. */
  idle?: number;
  emulate?: EmulationParams | null;
}

/** How a child runs: cancellation and the readiness callback. */
export interface RunContext {
  signal?: AbortSignal;
  /** Called once bound, with the actual address (e.g. `127.0.0.1:40123`). */
  onReady?: (bind: string) => void;
}

/** A child's result line (without `event` and `probe`). */
export interface ChildResult extends RecordReport {
  bind: string;
  stop: StopReason;
  /** What failed, or null. */
  error: string | null;
  /** Datagrams not of the format. */
  malformed: number;
  /** Datagrams dropped by the emulated loss. */
  dropped: number;
  emulated: EmulationParams | null;
  /** Seconds from the first datagram to the last. */
  elapsed_s: number;
}

/** Runs a child until its stream ends; see the module doc. Throws only when it cannot bind. */
export async function runChild(
  opts: ChildOptions,
  ctx: RunContext = {},
): Promise<ChildResult> {
  const conn = bindUdp("child probe", opts.bind);
  const bind = formatAddr(conn.addr);
  const timeout = opts.timeout ?? START_TIMEOUT_S;
  const watch = new StreamWatch(conn, {
    start: timeout,
    duration: opts.duration,
    ...(opts.idle !== undefined ? { idle: opts.idle } : {}),
  }, ctx.signal);
  const emu = opts.emulate ? new Emulator(opts.emulate) : null;
  const rec = new DelayRecorder();
  const buf = new Uint8Array(CHILD_BUFFER_BYTES);
  const view = new DataView(buf.buffer);
  let malformed = 0, dropped = 0;
  let failure: string | null = null;
  let stop: StopReason | "error" = "error";
  ctx.onReady?.(bind);
  try {
    for (;;) {
      let n: number;
      try {
        n = (await conn.receive(buf))[0].length;
      } catch (e) {
        if (watch.reason === null) {
          failure = `Cannot receive on "${bind}": ${(e as Error).message}`;
        }
        break;
      }
      const now = performance.now();
      if (!isProbeDatagram(view, n)) {
        malformed++;
        continue;
      }
      watch.packet(now);
      rec.noteHops(view.getUint16(OFF_HOPS, true));
      let emuNs = view.getUint32(OFF_EMU, true);
      if (emu !== null) {
        const d = emu.next();
        if (d < 0) {
          dropped++;
          continue;
        }
        emuNs += d;
      }
      const flags = view.getUint32(OFF_FLAGS, true);
      if (flags & FLAG_END) {
        rec.end(view);
        watch.stop("end");
        break;
      }
      if (flags & FLAG_WARMUP) rec.warmup(view);
      else rec.measured(view, now, emuNs);
    }
  } finally {
    ({ stop, failure } = endStream(watch, conn, { bind, timeout, failure }));
  }
  return {
    bind,
    stop,
    error: failure,
    ...rec.report(),
    malformed,
    dropped,
    emulated: opts.emulate ?? null,
    elapsed_s: watch.first < 0
      ? 0
      : Math.round(watch.last - watch.first) / 1000,
  };
}
