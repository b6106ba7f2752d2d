/**
 * The libc functions of the native backend, through `Deno.dlopen` (needs
 * `--allow-ffi`). Each thread (the main one, a Worker) opens its own handle;
 * {@link openLibc} returns null where libc cannot be loaded (not Linux, no
 * FFI permission: it never prompts) so that callers fall back to Deno I/O.
 *
 * @module
 */
import { type Abi, hostAbi } from "./layout.ts";

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  setsockopt: {
    parameters: ["i32", "i32", "i32", "buffer", "u32"],
    result: "i32",
  },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  recvmmsg: {
    parameters: ["i32", "buffer", "u32", "i32", "pointer"],
    result: "i32",
  },
  sendmmsg: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
  sendto: {
    parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"],
    result: "isize",
  },
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
  clock_nanosleep: {
    parameters: ["i32", "i32", "buffer", "pointer"],
    result: "i32",
  },
  prctl: {
    parameters: ["i32", "usize", "usize", "usize", "usize"],
    result: "i32",
  },
  __errno_location: { parameters: [], result: "pointer" },
  strerror: { parameters: ["i32"], result: "pointer" },
} as const;

/** A libc call that failed, with its errno. */
export class LibcError extends Error {
  override name = "LibcError";
  /** errno right after the call. */
  readonly errno: number;
  /** `message` and the errno. */
  constructor(message: string, errno: number) {
    super(message);
    this.errno = errno;
  }
}

/** The loaded functions plus errno, for this thread. */
export interface Libc {
  abi: Abi;
  fn: Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
  /** errno of this thread, right after a failed call. */
  errno(): number;
  /** "what: errno text" for a failed call. */
  failure(what: string): LibcError;
  close(): void;
}

const LIBC_PATHS = ["libc.so.6"];

let shared: Libc | null | undefined;

/** This thread's libc handle, opened on first use and kept (null where it cannot load). */
export function threadLibc(): Libc | null {
  if (shared === undefined) shared = openLibc();
  return shared;
}

/** Loads libc on this thread, or returns null when the native backend cannot run here. */
export function openLibc(): Libc | null {
  const abi = hostAbi();
  if (abi === null) return null;
  try {
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
      return null;
    }
  } catch {
    return null;
  }
  for (const path of LIBC_PATHS) {
    let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
    try {
      lib = Deno.dlopen(path, SYMBOLS);
    } catch {
      continue;
    }
    const fn = lib.symbols;
    const at = fn.__errno_location();
    if (at === null) {
      lib.close();
      continue;
    }
    const view = new Deno.UnsafePointerView(at);
    const errno = () => view.getInt32(0);
    return {
      abi,
      fn,
      errno,
      failure: (what) => {
        const e = errno();
        const p = fn.strerror(e);
        const text = p === null
          ? `errno ${e}`
          : new Deno.UnsafePointerView(p).getCString();
        return new LibcError(`${what}: ${text}`, e);
      },
      close: () => lib.close(),
    };
  }
  return null;
}
