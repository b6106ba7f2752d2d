/**
 * The native backend's ABI table against the machine's own kernel and libc
 * headers: a small C program (built with `cc`, a CI prerequisite) prints
 * every size, offset and constant, and the table for this arch must match.
 * A round trip through the kernel checks the timestamp layout in use.
 */
import assert from "node:assert/strict";
import { type Abi, ABIS, hostAbi } from "./layout.ts";

const PROGRAM = String.raw`
#define _GNU_SOURCE
#include <stdio.h>
#include <stddef.h>
#include <errno.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <netinet/in.h>
#include <sys/uio.h>
#define P(name, v) printf("%s\"" #name "\": %ld", first ? "" : ",", (long)(v)), first = 0
int main(void) {
  int first = 1;
  printf("{");
  P(AF_INET, AF_INET); P(SOCK_DGRAM, SOCK_DGRAM); P(SOCK_CLOEXEC, SOCK_CLOEXEC);
  P(SOL_SOCKET, SOL_SOCKET); P(SO_RCVBUF, SO_RCVBUF); P(SO_SNDBUF, SO_SNDBUF);
  P(SO_RCVTIMEO, SO_RCVTIMEO); P(SO_TIMESTAMPNS, SO_TIMESTAMPNS);
  P(SCM_TIMESTAMPNS, SCM_TIMESTAMPNS); P(MSG_WAITFORONE, MSG_WAITFORONE);
  P(MSG_DONTWAIT, MSG_DONTWAIT); P(EAGAIN, EAGAIN); P(EINTR, EINTR);
  P(EADDRINUSE, EADDRINUSE); P(EADDRNOTAVAIL, EADDRNOTAVAIL);
  P(CLOCK_REALTIME, CLOCK_REALTIME); P(CLOCK_MONOTONIC, CLOCK_MONOTONIC);
  P(TIMER_ABSTIME, TIMER_ABSTIME); P(PR_SET_TIMERSLACK, PR_SET_TIMERSLACK);
  P(SIZEOF_MSGHDR, sizeof(struct msghdr)); P(SIZEOF_MMSGHDR, sizeof(struct mmsghdr));
  P(SIZEOF_IOVEC, sizeof(struct iovec)); P(SIZEOF_TIMESPEC, sizeof(struct timespec));
  P(SIZEOF_SOCKADDR_IN, sizeof(struct sockaddr_in));
  P(CMSG_HDR, CMSG_LEN(0)); P(CMSG_SPACE_TIMESPEC, CMSG_SPACE(sizeof(struct timespec)));
  P(MSG_NAME, offsetof(struct msghdr, msg_name));
  P(MSG_NAMELEN, offsetof(struct msghdr, msg_namelen));
  P(MSG_IOV, offsetof(struct msghdr, msg_iov));
  P(MSG_IOVLEN, offsetof(struct msghdr, msg_iovlen));
  P(MSG_CONTROL, offsetof(struct msghdr, msg_control));
  P(MSG_CONTROLLEN, offsetof(struct msghdr, msg_controllen));
  P(MSG_FLAGS, offsetof(struct msghdr, msg_flags));
  P(MMSG_LEN, offsetof(struct mmsghdr, msg_len));
  P(CMSG_LEN, offsetof(struct cmsghdr, cmsg_len));
  P(CMSG_LEVEL, offsetof(struct cmsghdr, cmsg_level));
  P(CMSG_TYPE, offsetof(struct cmsghdr, cmsg_type));
  printf("}\n");
  return 0;
}
`;

/** Builds and runs the C program; returns its values. */
async function headerValues(): Promise<Record<string, number>> {
  const dir = await Deno.makeTempDir({ prefix: "treecast-abi-" });
  try {
    await Deno.writeTextFile(`${dir}/abi.c`, PROGRAM);
    const cc = await new Deno.Command("cc", {
      args: ["-O0", "-o", `${dir}/abi`, `${dir}/abi.c`],
      stderr: "piped",
    }).output();
    assert.equal(cc.code, 0, new TextDecoder().decode(cc.stderr));
    const run = await new Deno.Command(`${dir}/abi`, { stdout: "piped" })
      .output();
    assert.equal(run.code, 0);
    return JSON.parse(new TextDecoder().decode(run.stdout));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name:
    "the native ABI table matches this machine's headers (sizes, offsets, constants)",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const abi = hostAbi();
    assert.ok(
      abi !== null,
      `no ABI table for ${Deno.build.arch}; known: ${
        Object.keys(ABIS).join(", ")
      }`,
    );
    const fromHeaders = await headerValues();
    assert.deepEqual(
      Object.keys(fromHeaders).sort(),
      Object.keys(abi).sort(),
      "the C program prints every field of the table",
    );
    for (const key of Object.keys(abi) as (keyof Abi)[]) {
      assert.equal(abi[key], fromHeaders[key], key);
    }
  },
});
