/**
 * Process inspection for tests (Linux /proc).
 *
 * @module
 */

import { childrenOf, procStat } from "../../demo/proc.ts";
export { childrenOf };

function _link(path: string): string | undefined {
  try {
    return Deno.readLinkSync(path);
  } catch {
    return undefined;
  }
}

/** The inodes of this machine's UDP sockets (this network namespace). */
function _udpInodes(): Set<string> {
  const out = new Set<string>();
  for (const f of ["/proc/net/udp", "/proc/net/udp6"]) {
    let text = "";
    try {
      text = Deno.readTextFileSync(f);
    } catch { /* no IPv6 */ }
    for (const row of text.trim().split("\n").slice(1)) {
      const inode = row.trim().split(/\s+/)[9];
      if (inode) out.add(inode);
    }
  }
  return out;
}

/**
 * Whether process `pid` holds a UDP socket: what a probe does from its
 * bind to its end, and a warm probe waiting for a job does not.
 */
export function holdsUdp(pid: number): boolean {
  const udp = _udpInodes();
  try {
    for (const e of Deno.readDirSync(`/proc/${pid}/fd`)) {
      const m = /^socket:\[(\d+)\]$/.exec(
        _link(`/proc/${pid}/fd/${e.name}`) ?? "",
      );
      if (m && udp.has(m[1]!)) return true;
    }
  } catch { /* gone */ }
  return false;
}

/** Whether `pid` is a probe process running a job (alive, its socket open). */
export function runsJob(pid: number): boolean {
  return alive(pid) && holdsUdp(pid);
}

/**
 * Whether `child` is a warm probe (`--standby`, see probes/standby.ts)
 * waiting for a job: alive and holding no UDP socket.
 */
export function idleStandby(child: number): boolean {
  let cmdline = "";
  try {
    cmdline = Deno.readTextFileSync(`/proc/${child}/cmdline`);
  } catch {
    return false;
  }
  return cmdline.split("\0").includes("--standby") && alive(child) &&
    !holdsUdp(child);
}

/** The children of `pid` that run a job: those holding a UDP socket. */
export function jobsOf(pid: number): number[] {
  return childrenOf(pid).filter(runsJob);
}

/** Whether a process with this pid is alive (and not a zombie). */
export function alive(pid: number): boolean {
  const s = procStat(pid);
  return s !== undefined && s.state !== "Z";
}

/** Waits until `cond()` holds, polling; false if it did not within `ms`. */
export async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}
