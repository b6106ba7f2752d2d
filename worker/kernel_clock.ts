/**
 * The kernel's own view of this host's clock: Linux `adjtimex(2)` called
 * read only (modes = 0) through FFI on libc. It tells whether a time daemon
 * (chrony, ntpd) keeps the clock synchronised (`STA_UNSYNC` clear) and the
 * kernel's maximum and estimated error in microseconds. Off Linux, or when
 * libc cannot be opened, the view is `known: false`.
 *
 * @module
 */
import { type KernelClock, validBootId } from "../proto/codec.ts";

/** `struct timex` status bit: the clock is not synchronised. */
export const STA_UNSYNC = 0x40;
/** Size of the buffer handed to adjtimex (struct timex is 208 bytes on LP64). */
const TIMEX_BYTES = 256;
/** Byte offsets in struct timex on 64-bit Linux (glibc, LP64). */
const OFFSET = { maxerror: 24, esterror: 32, status: 40 } as const;

/** The view from a filled struct timex (read only: modes was 0). */
export function parseTimex(buf: Uint8Array): KernelClock {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const long = (at: number) => Number(v.getBigInt64(at, true));
  const us = (n: number) => Math.max(0, Math.min(n, 0xffff_ffff));
  return {
    known: true,
    synced: (v.getInt32(OFFSET.status, true) & STA_UNSYNC) === 0,
    maxerrorUs: us(long(OFFSET.maxerror)),
    esterrorUs: us(long(OFFSET.esterror)),
    emulated: false,
  };
}

const UNKNOWN: KernelClock = {
  known: false,
  synced: false,
  maxerrorUs: 0,
  esterrorUs: 0,
  emulated: false,
};

/** Faked by `--emulate clock=unsync`: what an unsynchronised kernel says. */
export const EMULATED_UNSYNC: KernelClock = {
  known: true,
  synced: false,
  maxerrorUs: 16_000_000,
  esterrorUs: 16_000_000,
  emulated: true,
};

let _adjtimex: ((buf: Uint8Array) => number) | null | undefined;

function _open(): ((buf: Uint8Array) => number) | null {
  const arch = Deno.build.arch;
  if (Deno.build.os !== "linux" || (arch !== "x86_64" && arch !== "aarch64")) {
    return null;
  }
  try {
    const lib = Deno.dlopen("libc.so.6", {
      adjtimex: { parameters: ["buffer"], result: "i32" },
    });
    return (buf) => lib.symbols.adjtimex(buf);
  } catch {
    return null;
  }
}

/** Asks the kernel (read only); `known: false` where it cannot be asked. */
export function readKernelClock(): KernelClock {
  if (_adjtimex === undefined) _adjtimex = _open();
  if (!_adjtimex) return { ...UNKNOWN };
  const buf = new Uint8Array(TIMEX_BYTES); // modes = 0: change nothing
  if (_adjtimex(buf) < 0) return { ...UNKNOWN };
  return parseTimex(buf);
}

/** Where Linux says which boot of the kernel this is (a random UUID). */
export const BOOT_ID_FILE = "/proc/sys/kernel/random/boot_id";

let _bootId: string | undefined;

/**
 * This host's boot id: the same for every process under one running kernel
 * (namespaces and containers included), so workers that share it read one
 * clock. "" where there is none (off Linux) or it cannot be read.
 */
export function readBootId(): string {
  if (_bootId === undefined) {
    try {
      _bootId = parseBootId(Deno.readTextFileSync(BOOT_ID_FILE));
    } catch {
      _bootId = "";
    }
  }
  return _bootId;
}

/**
 * The boot id a worker's CONNECT hello carries: this host's, or "" when its
 * `--emulate` spec (validated already) fakes a clock offset: its probes then
 * read a clock of their own, not the host's.
 */
export function helloBootId(emulate: string): string {
  return /(^|,)\s*offset\s*=/.test(emulate) ? "" : readBootId();
}

/** The boot id in a boot_id file's text, or "" when it is not one a hello can carry. */
export function parseBootId(text: string): string {
  const id = text.trim();
  return validBootId(id) ? id : "";
}
