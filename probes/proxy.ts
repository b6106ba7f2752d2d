/**
 * The proxy probe's core: an internal node of the tree.
 *
 * It binds, reports the bound address (`onReady`), and forwards every
 * datagram of the format, whole, to all its children from the same socket,
 * with `hops` + 1 (saturating) and, when it emulates a slow VM, its sampled
 * delay added to `emu_ns` (or the datagram dropped). Datagrams not of the
 * format are counted as malformed and not forwarded. END is forwarded too,
 * repeated {@link END_COPIES} times like the parent does, and then the proxy
 * stops. With `record` it also measures the stream like a child, its own
 * emulated delay included. Timeouts are a child's ({@link StreamWatch}),
 * with no deadline when no duration is given.
 *
 * Forwarding comes first: the arrival time is taken, the header patched in
 * the receive buffer and the sends issued before any bookkeeping.
 *
 * @module
 */
import type { HostPort } from "../core/cli.ts";
import {
  END_COPIES,
  END_GAP_MS,
  PROXY_BUFFER_BYTES,
  START_TIMEOUT_S,
} from "./defaults.ts";
import { type EmulationParams, Emulator } from "./emulate.ts";
import {
  bindUdp,
  endStream,
  formatAddr,
  resolveTargets,
  type StopReason,
  StreamWatch,
} from "./net.ts";
import { DelayRecorder, type RecordReport } from "./recorder.ts";
import type { RunContext } from "./child.ts";
import {
  FLAG_END,
  FLAG_WARMUP,
  isProbeDatagram,
  MAX_EMU_NS,
  MAX_HOPS,
  OFF_EMU,
  OFF_FLAGS,
  OFF_HOPS,
} from "./wire.ts";

/** What a proxy is told to do. */
export interface ProxyOptions {
  bind: HostPort;
  to: readonly HostPort[];
  /** Expected stream duration, s; none means no deadline. */
  duration?: number | null;
  /** Wait for the first datagram, s. */
  timeout?: number;
  /** Least idle time that ends a started stream, s. */
  idle?: number;
  /** Also measure the stream like a child. */
  record?: boolean;
  emulate?: EmulationParams | null;
}

/** A proxy's result line (without `event` and `probe`); the record fields only with `record`. */
export interface ProxyResult extends Partial<RecordReport> {
  bind: string;
  stop: StopReason;
  error: string | null;
  children: number;
  /** Datagrams of the format that arrived. */
  datagrams: number;
  /** Datagrams forwarded to the children (each counted once; END repeats not counted). */
  forwarded: number;
  /** Datagrams dropped by the emulated loss. */
  dropped: number;
  malformed: number;
  send_errors: number;
  end_seen: boolean;
  /** Most hops seen on an arriving datagram. */
  hops: number;
  emulated: EmulationParams | null;
  elapsed_s: number;
}

/** Runs a proxy until its stream ends; see the module doc. Throws only when it cannot resolve or bind. */
export async function runProxy(
  opts: ProxyOptions,
  ctx: RunContext = {},
): Promise<ProxyResult> {
  const targets = await resolveTargets(opts.to);
  const conn = bindUdp("proxy probe", opts.bind);
  const bind = formatAddr(conn.addr);
  const timeout = opts.timeout ?? START_TIMEOUT_S;
  const watch = new StreamWatch(conn, {
    start: timeout,
    duration: opts.duration ?? null,
    ...(opts.idle !== undefined ? { idle: opts.idle } : {}),
  }, ctx.signal);
  const emu = opts.emulate ? new Emulator(opts.emulate) : null;
  const rec = opts.record ? new DelayRecorder() : null;
  const buf = new Uint8Array(PROXY_BUFFER_BYTES);
  const view = new DataView(buf.buffer);
  const pending: Promise<number>[] = new Array(targets.length);
  let datagrams = 0,
    forwarded = 0,
    dropped = 0,
    malformed = 0,
    errors = 0,
    hops = 0;
  let endSeen = false;
  let failure: string | null = null;

  const sendAll = async (data: Uint8Array) => {
    for (let j = 0; j < targets.length; j++) {
      pending[j] = conn.send(data, targets[j]!);
    }
    for (let j = 0; j < targets.length; j++) {
      try {
        await pending[j];
      } catch {
        errors++;
      }
    }
  };

  let stop: StopReason | "error" = "error";
  ctx.onReady?.(bind);
  try {
    for (;;) {
      let data: Uint8Array;
      try {
        data = (await conn.receive(buf))[0];
      } catch (e) {
        if (watch.reason === null) {
          failure = `Cannot receive on "${bind}": ${(e as Error).message}`;
        }
        break;
      }
      const now = performance.now();
      if (!isProbeDatagram(view, data.length)) {
        malformed++;
        continue;
      }
      watch.packet(now);
      datagrams++;
      let emuNs = view.getUint32(OFF_EMU, true);
      if (emu !== null) {
        const d = emu.next();
        if (d < 0) {
          dropped++;
          continue;
        }
        emuNs = Math.min(emuNs + d, MAX_EMU_NS);
        view.setUint32(OFF_EMU, emuNs, true);
      }
      const h = view.getUint16(OFF_HOPS, true);
      view.setUint16(OFF_HOPS, h < MAX_HOPS ? h + 1 : MAX_HOPS, true);
      await sendAll(data);
      forwarded++;
      if (h > hops) hops = h;
      const flags = view.getUint32(OFF_FLAGS, true);
      if (flags & FLAG_END) {
        endSeen = true;
        rec?.end(view);
        for (let k = 1; k < END_COPIES; k++) {
          await new Promise((r) => setTimeout(r, END_GAP_MS));
          await sendAll(data);
        }
        watch.stop("end");
        break;
      }
      if (rec !== null) {
        rec.noteHops(h); // the hops it received, not the ones it forwarded
        if (flags & FLAG_WARMUP) rec.warmup(view);
        else rec.measured(view, now, emuNs);
      }
    }
  } finally {
    ({ stop, failure } = endStream(watch, conn, { bind, timeout, failure }));
  }
  return {
    bind,
    stop,
    error: failure,
    children: targets.length,
    datagrams,
    forwarded,
    dropped,
    malformed,
    send_errors: errors,
    ...(rec !== null ? rec.report() : {}),
    end_seen: endSeen,
    hops,
    emulated: opts.emulate ?? null,
    elapsed_s: watch.first < 0
      ? 0
      : Math.round(watch.last - watch.first) / 1000,
  };
}
