/**
 * Waiting on file descriptors without a timer: libc `poll(2)` called through
 * Deno's FFI as a `nonblocking` symbol, i.e. on a thread of Deno's blocking
 * pool, so the event loop sleeps until a descriptor is readable or the
 * timeout passes. `ready.ts` uses it to wait on ZeroMQ sockets' ZMQ_FD (the
 * descriptor libzmq signals when the socket may have become readable or
 * writable), so an idle server notices a request at once instead of at its
 * next timer turn (up to 200 ms later).
 *
 * Linux only (`nfds_t` is 64-bit there, and `struct pollfd` is 8 bytes), and
 * only with the FFI permission; elsewhere {@link openFdWait} returns
 * `undefined` and the caller keeps its timers. A call in flight cannot be
 * cancelled: it ends at its timeout, and until then it keeps the process's
 * event loop alive (as an async op: not for tests with op sanitizers).
 *
 * @module
 */

/**
 * Waits until one of `fds` is readable (true), or `timeoutMs` passed (false).
 */
export type FdWait = (
  fds: readonly number[],
  timeoutMs: number,
) => Promise<boolean>;

const POLLIN = 0x1;

/** A {@link FdWait} over libc's `poll`, or `undefined` where there is none. */
export function openFdWait(): FdWait | undefined {
  if (Deno.build.os !== "linux") return undefined;
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
    return undefined;
  }
  let lib;
  try {
    lib = Deno.dlopen("libc.so.6", {
      poll: {
        parameters: ["buffer", "u64", "i32"],
        result: "i32",
        nonblocking: true,
      },
    });
  } catch {
    return undefined; // not glibc, or no libc.so.6
  }
  const poll = lib.symbols.poll;
  return async (fds, timeoutMs) => {
    const buf = new Uint8Array(8 * fds.length);
    const view = new DataView(buf.buffer);
    fds.forEach((fd, i) => {
      view.setInt32(8 * i, fd, true);
      view.setInt16(8 * i + 4, POLLIN, true);
    });
    const n = await poll(buf, BigInt(fds.length), Math.ceil(timeoutMs));
    return n > 0;
  };
}
