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
 * time taken first, running statistics, no allocation of its own. This is
 * the Deno backend; `--io native` receives in a Worker with `recvmmsg` and
 * kernel timestamps (`native/recv.ts`). Both hand every datagram to the
 * same {@link ChildCore}.
 *
 * With `from` it takes datagrams only from those senders (`sources.ts`:
 * a bare host pins the first port it sends from); the rest are foreign,
 * counted and otherwise ignored, before any other look at them.
 *
 * With `messages` it also keeps the delay of every measured message by seq
 * and writes it to a file at the end (`messages.ts`), however the stream
 * ended; the file is created (emptied) before binding, so a path it cannot
 * write fails at once.
 *
 * @module
 */
import { CHILD_BUFFER_BYTES, START_TIMEOUT_S } from "./defaults.ts";
import { resolveIo } from "./io.ts";
import { nativeAddrs, runNative } from "./native/run.ts";
import {
  bindUdp,
  endStream,
  formatAddr,
  resolveTargets,
  type StopReason,
  StreamWatch,
} from "./net.ts";
import { messageBook, prepareMessageLog } from "./messages.ts";
import { ChildCore } from "./receive.ts";
import type { ChildOptions, ChildResult, RunContext } from "./roles.ts";
import { SourceFilter } from "./sources.ts";

/** Runs a child until its stream ends; see the module doc. Throws only when it cannot resolve or bind. */
export async function runChild(
  opts: ChildOptions,
  ctx: RunContext = {},
): Promise<ChildResult> {
  if (opts.messages) prepareMessageLog(opts.messages.path);
  const src = await SourceFilter.of(opts.from);
  if (resolveIo(opts.io) === "native") {
    const at = nativeAddrs(opts.io, [
      ...await resolveTargets([opts.bind]),
      ...src?.entries ?? [],
    ]);
    if (at !== null) {
      // The Worker gets the senders resolved.
      const o = src !== null ? { ...opts, from: src.entries } : opts;
      return await runNative({ role: "child", opts: o, bind: at[0]! }, ctx);
    }
  }
  if (opts.timestamps === "kernel") {
    throw new Error("Kernel receive timestamps need native I/O over IPv4");
  }
  const conn = bindUdp("child probe", opts.bind);
  const bind = formatAddr(conn.addr);
  const timeout = opts.timeout ?? START_TIMEOUT_S;
  const watch = new StreamWatch(conn, {
    start: timeout,
    duration: opts.duration,
    ...(opts.idle !== undefined ? { idle: opts.idle } : {}),
  }, ctx.signal);
  const core = new ChildCore(watch, opts.emulate ?? null, messageBook(opts));
  const buf = new Uint8Array(CHILD_BUFFER_BYTES);
  const view = new DataView(buf.buffer);
  let failure: string | null = null;
  let end: { stop: StopReason; failure: string | null };
  ctx.onReady?.(bind);
  try {
    for (;;) {
      let got: [Uint8Array, Deno.Addr];
      try {
        got = await conn.receive(buf);
      } catch (e) {
        if (watch.reason === null) {
          failure = `Cannot receive on "${bind}": ${(e as Error).message}`;
        }
        break;
      }
      if (
        src !== null && !src.admits(got[1] as Deno.NetAddr, view, got[0].length)
      ) {
        core.foreign++;
        continue;
      }
      const end = core.take(view, got[0].length, performance.now());
      if (core.echoReady) {
        core.echoReady = false;
        // From the receiving socket to the sender's: best effort, like UDP.
        await conn.send(core.echo.bytes, got[1]).catch(() => {});
      }
      if (end) {
        watch.stop("end");
        break;
      }
    }
  } finally {
    end = endStream(watch, conn, { bind, timeout, failure });
  }
  return core.result({ bind, ...end, io: "deno", timestamps: "user" });
}
