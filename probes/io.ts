/**
 * Which I/O backends and receive-timestamp kinds the probes can use on this
 * host, and what `--io auto` means. A leaf module (no UDP socket of Deno's,
 * no ZeroMQ) so that a worker can advertise its capabilities.
 *
 * - `native`: libc through FFI, the hot loop in a Web Worker (Linux x86_64
 *   and arm64, `--allow-ffi`); kernel receive timestamps (`SO_TIMESTAMPNS`)
 *   when a socket accepts them, else user-space ones.
 * - `deno`: `Deno.listenDatagram`, the portable path; user-space
 *   timestamps only.
 *
 * `auto` is `native` where {@link ioSupport} lists it, else `deno`.
 * `--timestamps auto|kernel|user` on receivers picks the arrival times:
 * `auto` takes the kernel's where the backend gives them, `user` forces
 * user-space ones (to compare like with like across hosts).
 *
 * @module
 */
import { UsageError } from "../core/cli.ts";
import { openLibc } from "./native/libc.ts";

/** An I/O backend. */
export type IoKind = "native" | "deno";
/** An `--io` value. */
export type IoMode = IoKind | "auto";
/** Where a receive timestamp comes from. */
export type TimestampKind = "kernel" | "user";

/** A `--timestamps` value: `auto` is kernel where the backend gives them, else user. */
export type TimestampMode = TimestampKind | "auto";

/** The `--timestamps` values. */
export const TIMESTAMP_MODES: readonly TimestampMode[] = [
  "auto",
  "kernel",
  "user",
];

/** The `--io` values. */
export const IO_MODES: readonly IoMode[] = ["auto", "native", "deno"];

/** What this host supports, best first. */
export interface IoSupport {
  io: IoKind[];
  timestamps: TimestampKind[];
}

let cached: IoSupport | null = null;

/**
 * The backends and timestamp kinds this process can use, best first
 * (detected once: Linux with a known ABI, libc loads, FFI allowed, a test
 * socket accepts `SO_TIMESTAMPNS`).
 */
export function ioSupport(): IoSupport {
  if (cached === null) cached = _detect();
  return { io: [...cached.io], timestamps: [...cached.timestamps] };
}

/** Resolves `mode` to a backend; throws when `native` is asked for where it cannot run. */
export function resolveIo(mode: IoMode = "auto"): IoKind {
  const native = ioSupport().io.includes("native");
  if (mode === "deno") return "deno";
  if (mode === "native" && !native) {
    throw new Error(
      `Native I/O is not available here (it needs Linux on x86_64 or arm64, libc.so.6 and --allow-ffi); use --io deno or auto`,
    );
  }
  return native ? "native" : "deno";
}

/** Parses an `--io` value; throws {@link UsageError} naming the flag. */
export function parseIoMode(text: string): IoMode {
  if ((IO_MODES as readonly string[]).includes(text)) return text as IoMode;
  throw new UsageError(
    `Flag "--io" must be one of ${IO_MODES.join(", ")}, got "${text}"`,
  );
}

/** Parses a `--timestamps` value; throws {@link UsageError} naming the flag. */
export function parseTimestampMode(text: string): TimestampMode {
  if ((TIMESTAMP_MODES as readonly string[]).includes(text)) {
    return text as TimestampMode;
  }
  throw new UsageError(
    `Flag "--timestamps" must be one of ${
      TIMESTAMP_MODES.join(", ")
    }, got "${text}"`,
  );
}

/**
 * Checks that `timestamps` can be had with `io`: kernel timestamps need the
 * native backend on a kernel that gives them. Throws {@link UsageError}.
 */
export function checkTimestamps(io: IoMode, timestamps: TimestampMode): void {
  if (timestamps !== "kernel") return;
  if (io === "deno" || !ioSupport().timestamps.includes("kernel")) {
    throw new UsageError(
      `Flag "--timestamps": kernel receive timestamps need native I/O (Linux, --io native or auto) on a kernel that gives them${
        io === "deno" ? ", not --io deno" : ""
      }`,
    );
  }
}

function _detect(): IoSupport {
  const libc = openLibc();
  if (libc === null) return { io: ["deno"], timestamps: ["user"] };
  try {
    const { abi, fn } = libc;
    const fd = fn.socket(abi.AF_INET, abi.SOCK_DGRAM | abi.SOCK_CLOEXEC, 0);
    if (fd < 0) return { io: ["deno"], timestamps: ["user"] };
    const on = new Int32Array([1]);
    const kernel =
      fn.setsockopt(fd, abi.SOL_SOCKET, abi.SO_TIMESTAMPNS, on, 4) === 0;
    fn.close(fd);
    return {
      io: ["native", "deno"],
      timestamps: kernel ? ["kernel", "user"] : ["user"],
    };
  } finally {
    libc.close();
  }
}
