/**
 * Linux ABI constants and struct layouts the native backend uses, for the
 * architectures it supports (x86_64 and arm64, both LP64 with the generic
 * socket ABI). `tests/native_layout_test.ts` checks every value against the
 * machine's own headers, through a small C program built with `cc`.
 *
 * | struct            | size | fields (offset)                                            |
 * |-------------------|-----:|------------------------------------------------------------|
 * | `msghdr`          | 56   | name 0, namelen u32 8, iov 16, iovlen 24, control 32, controllen 40, flags 48 |
 * | `mmsghdr`         | 64   | msg_hdr 0, msg_len u32 56                                  |
 * | `iovec`           | 16   | base 0, len 8                                              |
 * | `cmsghdr`         | 16   | len 0 (size_t), level i32 8, type i32 12, data 16         |
 * | `timespec`        | 16   | tv_sec 0, tv_nsec 8                                        |
 * | `sockaddr_in`     | 16   | family u16 0, port (big-endian) 2, addr 4                  |
 *
 * `CMSG_SPACE(sizeof(timespec))` is 32: one SCM_TIMESTAMPNS message.
 *
 * @module
 */

/** The constants of one architecture's ABI. */
export interface Abi {
  AF_INET: number;
  SOCK_DGRAM: number;
  SOCK_CLOEXEC: number;
  SOL_SOCKET: number;
  SO_RCVBUF: number;
  SO_SNDBUF: number;
  SO_RCVTIMEO: number;
  SO_TIMESTAMPNS: number;
  SCM_TIMESTAMPNS: number;
  MSG_WAITFORONE: number;
  MSG_DONTWAIT: number;
  EAGAIN: number;
  EINTR: number;
  EADDRINUSE: number;
  EADDRNOTAVAIL: number;
  CLOCK_REALTIME: number;
  CLOCK_MONOTONIC: number;
  TIMER_ABSTIME: number;
  PR_SET_TIMERSLACK: number;
  SIZEOF_MSGHDR: number;
  SIZEOF_MMSGHDR: number;
  SIZEOF_IOVEC: number;
  SIZEOF_TIMESPEC: number;
  SIZEOF_SOCKADDR_IN: number;
  CMSG_HDR: number;
  CMSG_SPACE_TIMESPEC: number;
  MSG_NAME: number;
  MSG_NAMELEN: number;
  MSG_IOV: number;
  MSG_IOVLEN: number;
  MSG_CONTROL: number;
  MSG_CONTROLLEN: number;
  MSG_FLAGS: number;
  MMSG_LEN: number;
  CMSG_LEN: number;
  CMSG_LEVEL: number;
  CMSG_TYPE: number;
}

/** x86_64 and arm64 share the generic LP64 socket ABI (checked by the layout test on each). */
const LP64_GENERIC: Abi = Object.freeze({
  AF_INET: 2,
  SOCK_DGRAM: 2,
  SOCK_CLOEXEC: 0o2000000,
  SOL_SOCKET: 1,
  SO_RCVBUF: 8,
  SO_SNDBUF: 7,
  SO_RCVTIMEO: 20,
  SO_TIMESTAMPNS: 35,
  SCM_TIMESTAMPNS: 35,
  MSG_WAITFORONE: 0x10000,
  MSG_DONTWAIT: 0x40,
  EAGAIN: 11,
  EINTR: 4,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  CLOCK_REALTIME: 0,
  CLOCK_MONOTONIC: 1,
  TIMER_ABSTIME: 1,
  PR_SET_TIMERSLACK: 29,
  SIZEOF_MSGHDR: 56,
  SIZEOF_MMSGHDR: 64,
  SIZEOF_IOVEC: 16,
  SIZEOF_TIMESPEC: 16,
  SIZEOF_SOCKADDR_IN: 16,
  CMSG_HDR: 16,
  CMSG_SPACE_TIMESPEC: 32,
  MSG_NAME: 0,
  MSG_NAMELEN: 8,
  MSG_IOV: 16,
  MSG_IOVLEN: 24,
  MSG_CONTROL: 32,
  MSG_CONTROLLEN: 40,
  MSG_FLAGS: 48,
  MMSG_LEN: 56,
  CMSG_LEN: 0,
  CMSG_LEVEL: 8,
  CMSG_TYPE: 12,
});

/** The ABIs by `Deno.build.arch`. */
export const ABIS: Readonly<Record<string, Abi>> = {
  x86_64: LP64_GENERIC,
  aarch64: LP64_GENERIC,
};

/** The ABI of this machine, or null where the native backend has none (not Linux, another arch). */
export function hostAbi(): Abi | null {
  if (Deno.build.os !== "linux") return null;
  return ABIS[Deno.build.arch] ?? null;
}
