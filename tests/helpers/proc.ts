/**
 * Process inspection for tests (Linux /proc).
 *
 * @module
 */

import { childrenOf } from "../../core/proc.ts";
export { childrenOf };

function _link(path: string): string | undefined {
  try {
    return Deno.readLinkSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Whether `child` is a warm probe of `parent` still waiting for its flags:
 * its stdin is a pipe whose other end `parent` holds open (a worker closes
 * it once it handed the probe a job; see probes/standby.ts).
 */
export function idleStandby(parent: number, child: number): boolean {
  const stdin = _link(`/proc/${child}/fd/0`);
  if (!stdin?.startsWith("pipe:")) return false;
  try {
    for (const e of Deno.readDirSync(`/proc/${parent}/fd`)) {
      if (_link(`/proc/${parent}/fd/${e.name}`) === stdin) return true;
    }
  } catch { /* gone */ }
  return false;
}

/** The children of `pid` that run a job: all but its idle warm probes. */
export function jobsOf(pid: number): number[] {
  return childrenOf(pid).filter((c) => !idleStandby(pid, c));
}

/** Whether a process with this pid is alive (and not a zombie). */
export function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
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
