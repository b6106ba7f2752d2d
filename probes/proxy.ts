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
 * the receive buffer and the sends issued before any bookkeeping. This is
 * the Deno backend; `--io native` forwards from a Worker with `recvmmsg` +
 * `sendmmsg` (`native/recv.ts`). Both share {@link ProxyCore}.
 *
 * Like a child, it echoes one datagram in `ECHO_EVERY` back to its parent;
 * the echoes its own children send arrive on the same socket, are never
 * forwarded, and give each child's clock offset (`peers`, `echo.ts`).
 *
 * With `from` it forwards only what its parent sends (`sources.ts`, as a
 * child does): any other datagram but its children's echoes is foreign,
 * counted, never forwarded, never ending the stream.
 *
 * @module
 */
import { joinHostPort } from "../core/cli.ts";
import {
  END_COPIES,
  END_GAP_MS,
  PROXY_BUFFER_BYTES,
  START_TIMEOUT_S,
} from "./defaults.ts";
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
import { ProxyCore } from "./receive.ts";
import type { ProxyOptions, ProxyResult, RunContext } from "./roles.ts";
import { PeerIndex } from "./echo.ts";
import { SourceFilter } from "./sources.ts";
import { isEchoDatagram } from "./wire.ts";

/** Runs a proxy until its stream ends; see the module doc. Throws only when it cannot resolve or bind. */
export async function runProxy(
  opts: ProxyOptions,
  ctx: RunContext = {},
): Promise<ProxyResult> {
  const targets = await resolveTargets(opts.to);
  const src = await SourceFilter.of(opts.from);
  if (resolveIo(opts.io) === "native") {
    const at = nativeAddrs(opts.io, [
      ...await resolveTargets([opts.bind]),
      ...targets,
      ...src?.entries ?? [],
    ]);
    if (at !== null) {
      const [bind, ...to] = at;
      // The Worker gets the senders resolved.
      const o = src !== null ? { ...opts, from: src.entries } : opts;
      return await runNative(
        {
          role: "proxy",
          opts: o,
          bind: bind!,
          targets: to.slice(0, targets.length),
        },
        ctx,
      );
    }
  }
  if (opts.timestamps === "kernel") {
    throw new Error("Kernel receive timestamps need native I/O over IPv4");
  }
  const conn = bindUdp("proxy probe", opts.bind);
  const bind = formatAddr(conn.addr);
  const timeout = opts.timeout ?? START_TIMEOUT_S;
  const watch = new StreamWatch(conn, {
    start: timeout,
    duration: opts.duration ?? null,
    ...(opts.idle !== undefined ? { idle: opts.idle } : {}),
  }, ctx.signal);
  const peers = new PeerIndex(targets);
  const core = new ProxyCore(watch, {
    to: opts.to.map(joinHostPort),
    record: opts.record ?? false,
    emulate: opts.emulate ?? null,
  });
  const buf = new Uint8Array(PROXY_BUFFER_BYTES);
  const view = new DataView(buf.buffer);
  const pending: Promise<number>[] = new Array(targets.length);
  let failure: string | null = null;

  const sendAll = async (data: Uint8Array) => {
    for (let j = 0; j < targets.length; j++) {
      pending[j] = conn.send(data, targets[j]!);
    }
    for (let j = 0; j < targets.length; j++) {
      try {
        await pending[j];
      } catch {
        core.sendErrors++;
      }
    }
  };

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
      const data = got[0];
      const now = performance.now();
      if (isEchoDatagram(view, data.length)) {
        const from = got[1] as Deno.NetAddr;
        core.book.take(view, peers.of(from.hostname, from.port), now);
        continue;
      }
      if (
        src !== null && !src.admits(got[1] as Deno.NetAddr, view, data.length)
      ) {
        core.foreign++;
        continue;
      }
      const h = core.take(view, data.length, now);
      if (h < 0) continue;
      await sendAll(data);
      const end = core.account(view, h, now);
      if (core.echoReady) {
        core.echoReady = false;
        await conn.send(core.echo.bytes, got[1]).catch(() => {});
      }
      if (end) {
        for (let k = 1; k < END_COPIES; k++) {
          await new Promise((r) => setTimeout(r, END_GAP_MS));
          await sendAll(data);
        }
        watch.stop("end");
        break;
      }
    }
  } finally {
    end = endStream(watch, conn, { bind, timeout, failure });
  }
  return core.result({ bind, ...end, io: "deno", timestamps: "user" });
}
