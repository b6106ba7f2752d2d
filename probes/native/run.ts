/**
 * The main-thread side of the native backend: binds the socket (so a bind
 * failure throws here, worded as the Deno backend words it), runs the
 * probe's hot loop in a Web Worker (`worker.ts`), forwards an abort as a
 * shared stop flag the loop polls at least every 50 ms, and hands the
 * Worker back once it has reported (`prewarm.ts`: ended, or kept for the
 * next probe of a warm standby). The statistics are computed in the Worker;
 * only the final result crosses back.
 *
 * The socket belongs to this thread (it closes it); the Worker uses the
 * same file descriptor.
 *
 * @module
 */
import type { HostPort } from "../../core/cli.ts";
import { NATIVE_SOCKET_BUFFER_BYTES } from "../defaults.ts";
import type { IoMode } from "../io.ts";
import { bindError, isIpv4 } from "../net.ts";
import type {
  ChildOptions,
  ChildResult,
  ParentOptions,
  ParentResult,
  ProxyOptions,
  ProxyResult,
} from "../roles.ts";
import { LibcError, threadLibc } from "./libc.ts";
import { giveBack, takeWorker } from "./prewarm.ts";
import { type Ip4Addr, NativeUdp } from "./socket.ts";

/** What the Worker is given: the role, its options, the socket and the stop flag. */
export type NativeJob =
  & { fd: number; kernelTs: boolean; bind: string; stop: SharedArrayBuffer }
  & (
    | { role: "child"; opts: ChildOptions }
    | { role: "proxy"; opts: ProxyOptions; targets: Ip4Addr[] }
    | { role: "parent"; opts: ParentOptions; targets: Ip4Addr[] }
  );

/** What the Worker says: it runs (the socket is being read or written), its result, or its failure. */
export type NativeReport =
  | { kind: "running" }
  | { kind: "result"; result: ChildResult | ProxyResult | ParentResult }
  | { kind: "error"; message: string };

interface Results {
  child: ChildResult;
  proxy: ProxyResult;
  parent: ParentResult;
}

type JobInput =
  | { role: "child"; opts: ChildOptions; bind: Ip4Addr }
  | { role: "proxy"; opts: ProxyOptions; bind: Ip4Addr; targets: Ip4Addr[] }
  | { role: "parent"; opts: ParentOptions; bind: Ip4Addr; targets: Ip4Addr[] };

let live = 0;

/** Native Workers started and not yet terminated (for tests: none may outlive its probe). */
export function liveNativeWorkers(): number {
  return live;
}
/**
 * The addresses for the native backend, or null when `mode` allows the Deno
 * backend and some address is not IPv4 (native I/O is IPv4 only); with
 * `--io native` a non-IPv4 address throws.
 */
export function nativeAddrs(
  mode: IoMode | undefined,
  addrs: readonly HostPort[],
): Ip4Addr[] | null {
  const bad = addrs.find((a) => !isIpv4(a.hostname));
  if (bad === undefined) {
    return addrs.map((a) => ({ hostname: a.hostname, port: a.port }));
  }
  if (mode !== "native") return null;
  throw new Error(
    `Native I/O is IPv4 only, got "${bad.hostname}"; use --io deno`,
  );
}

/** Runs `job` in a Worker; resolves with its result line. Throws when it cannot bind. */
export async function runNative<R extends JobInput["role"]>(
  input: JobInput & { role: R },
  ctx: { signal?: AbortSignal; onReady?: (bind: string) => void },
): Promise<Results[R]> {
  const libc = threadLibc();
  if (libc === null) throw new Error("Native I/O: libc.so.6 cannot be loaded");
  const at = input.bind;
  let sock: NativeUdp;
  try {
    sock = NativeUdp.bind(libc, at, {
      // A parent's are its children's echoes' arrival times.
      timestamps: input.role === "parent" ||
        (input.opts as { timestamps?: string }).timestamps !== "user",
      bufBytes: NATIVE_SOCKET_BUFFER_BYTES,
    });
  } catch (e) {
    const errno = e instanceof LibcError ? e.errno : -1;
    throw bindError(
      `${input.role} probe`,
      at,
      errno === libc.abi.EADDRINUSE
        ? "in_use"
        : errno === libc.abi.EADDRNOTAVAIL
        ? "not_available"
        : (e as Error).message,
    );
  }
  if (
    (input.opts as { timestamps?: string }).timestamps === "kernel" &&
    !sock.kernelTs
  ) {
    sock.close();
    throw new Error("This kernel gives no receive timestamps (SO_TIMESTAMPNS)");
  }
  const local = sock.local();
  const bind = `${local.hostname}:${local.port}`;
  const stopBuf = new SharedArrayBuffer(4);
  const stop = new Int32Array(stopBuf);
  const onAbort = () => Atomics.store(stop, 0, 1);
  const worker = takeWorker();
  let reported = false;
  live++;
  ctx.signal?.addEventListener("abort", onAbort);
  if (ctx.signal?.aborted) onAbort();
  try {
    const { bind: _b, ...rest } = input;
    const job = {
      ...rest,
      fd: sock.fd,
      kernelTs: sock.kernelTs,
      bind,
      stop: stopBuf,
    } as NativeJob;
    return await new Promise<Results[R]>((resolve, reject) => {
      worker.onmessage = (e: MessageEvent<NativeReport>) => {
        const m = e.data;
        if (m.kind === "running") ctx.onReady?.(bind);
        else if (m.kind === "result") {
          reported = true;
          resolve(m.result as Results[R]);
        } else reject(new Error(m.message));
      };
      worker.onerror = (e) => {
        e.preventDefault();
        reject(new Error(`Native ${input.role} probe failed: ${e.message}`));
      };
      worker.postMessage(job);
    });
  } finally {
    ctx.signal?.removeEventListener("abort", onAbort);
    worker.onmessage = null;
    worker.onerror = null;
    // A Worker that reported is idle again; one that failed is ended.
    if (reported) giveBack(worker);
    else worker.terminate();
    live--;
    sock.close();
  }
}
