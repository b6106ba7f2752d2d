/**
 * A testbed of network namespaces (Linux, root): one namespace per worker,
 * each a "host" with its own address in the benchmarking range
 * 198.18.0.0/15, joined by veth pairs to a bridge in the host namespace,
 * whose own address in the same /24 lets the manager reach every worker.
 * The namespaces have no default route: their traffic reaches each other
 * and the host's bridge, nothing else.
 *
 * Every name starts with a prefix unique to this process (`tcn<pid>`) and
 * the /24 is derived from the pid, skipping any /24 already on the host, so
 * concurrent runs never collide. {@link Netns.remove} deletes everything of
 * the prefix that exists, so it also cleans up after a half-made testbed.
 *
 * @module
 */
import { UsageError } from "../core/cli.ts";

/** One namespace: a worker's host. */
export interface NetnsHost {
  /** The namespace's name (`ip netns exec NAME`). */
  name: string;
  /** Its address on the bridge. */
  addr: string;
}

/** A made testbed. */
export interface Netns {
  /** What every namespace and link of it is named after. */
  prefix: string;
  /** The /24 of the bridge, e.g. "198.18.42.0/24". */
  subnet: string;
  bridge: string;
  /** The host namespace's address on the bridge. */
  hostAddr: string;
  hosts: NetnsHost[];
  /** The command prefix that runs a program inside host `i`'s namespace. */
  exec(i: number): string[];
  /** Deletes every namespace and link of the prefix; safe to call twice. */
  remove(): Promise<void>;
}

/** Throws the usage error (exit 2) that says why a namespace testbed cannot run here. */
export function requireNetnsSupport(
  os: string = Deno.build.os,
  uid: number | null = Deno.uid(),
): void {
  if (os !== "linux") {
    throw new UsageError(
      `"--netns" needs Linux network namespaces; this is ${os}`,
    );
  }
  if (uid !== 0) {
    throw new UsageError(
      `"--netns" needs root (it creates network namespaces and links); run it as root`,
    );
  }
}

/** Runs `ip ARGS`; throws with its stderr when it fails. */
export async function ip(args: string[]): Promise<string> {
  const out = await new Deno.Command("ip", {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  if (!out.success) {
    throw new Error(
      `"ip ${args.join(" ")}" failed: ${dec.decode(out.stderr).trim()}`,
    );
  }
  return dec.decode(out.stdout);
}

/** The prefix of this process's names: short enough for 15-byte link names. */
export function netnsPrefix(pid: number = Deno.pid): string {
  return `tcn${pid}`;
}

/** Whether `name` is one of the testbed's own (not a longer pid's). */
export function ownName(prefix: string, name: string): boolean {
  return name.startsWith(prefix) &&
    /^(-\d+|b|[hn]\d+)$/.test(name.slice(prefix.length));
}

/**
 * The first free /24 of 198.18.0.0/15 at or after the pid's slot (512 of
 * them), given the IPv4 addresses already on the host; "198.18.N" or
 * "198.19.N" (three octets).
 */
export function pickSubnet(pid: number, used: string[]): string {
  const taken = new Set(used.map((a) => a.split(".").slice(0, 3).join(".")));
  for (let k = 0; k < 512; k++) {
    const slot = (pid + k) % 512;
    const net = `198.${18 + (slot >> 8)}.${slot & 255}`;
    if (!taken.has(net)) return net;
  }
  throw new Error("Every /24 of 198.18.0.0/15 is in use on this host");
}

/** The IPv4 addresses on the host namespace's links. */
async function hostAddrs(): Promise<string[]> {
  const out = await ip(["-o", "-4", "addr", "show"]);
  return [...out.matchAll(/\binet (\d+\.\d+\.\d+\.\d+)\//g)].map((m) => m[1]!);
}

/**
 * Makes `n` namespaces on a fresh bridge. On any failure (or `signal`)
 * whatever was made is removed before the error is thrown.
 */
export async function createNetns(
  n: number,
  opts: { pid?: number; signal?: AbortSignal } = {},
): Promise<Netns> {
  requireNetnsSupport();
  if (n < 1 || n > 200) throw new Error(`Cannot make ${n} namespaces`);
  const pid = opts.pid ?? Deno.pid;
  const prefix = netnsPrefix(pid);
  const net = pickSubnet(pid, await hostAddrs());
  const bridge = `${prefix}b`;
  const bed: Netns = {
    prefix,
    subnet: `${net}.0/24`,
    bridge,
    hostAddr: `${net}.1`,
    hosts: Array.from({ length: n }, (_, i) => ({
      name: `${prefix}-${i}`,
      addr: `${net}.${10 + i}`,
    })),
    exec: (i) => ["ip", "netns", "exec", bed.hosts[i]!.name],
    remove: () => removeNetns(prefix),
  };
  const step = async (args: string[]) => {
    opts.signal?.throwIfAborted();
    await ip(args);
  };
  try {
    await step(["link", "add", bridge, "type", "bridge"]);
    await step(["addr", "add", `${bed.hostAddr}/24`, "dev", bridge]);
    await step(["link", "set", bridge, "up"]);
    for (const [i, h] of bed.hosts.entries()) {
      const outer = `${prefix}h${i}`, inner = `${prefix}n${i}`;
      await step(["netns", "add", h.name]);
      await step(["link", "add", outer, "type", "veth", "peer", "name", inner]);
      await step(["link", "set", inner, "netns", h.name]);
      await step(["link", "set", outer, "master", bridge, "up"]);
      await step(["-n", h.name, "addr", "add", `${h.addr}/24`, "dev", inner]);
      await step(["-n", h.name, "link", "set", inner, "up"]);
      await step(["-n", h.name, "link", "set", "lo", "up"]);
    }
  } catch (e) {
    await bed.remove();
    throw e;
  }
  return bed;
}

/** The namespaces and host links whose names are the prefix's. */
export async function leftovers(
  prefix: string,
): Promise<{ netns: string[]; links: string[] }> {
  const netns = (await ip(["netns", "list"])).split("\n")
    .map((l) => l.split(" ")[0]!).filter((s) => ownName(prefix, s));
  const links = [
    ...(await ip(["-o", "link", "show"])).matchAll(/^\d+: ([^:@\s]+)/gm),
  ].map((m) => m[1]!).filter((s) => ownName(prefix, s));
  return { netns, links };
}

/**
 * Deletes every link (a veth's host end takes its peer along) and namespace
 * of the prefix, links first: deleting a namespace frees its veth pair only
 * later, in the background.
 */
async function removeNetns(prefix: string): Promise<void> {
  const { netns, links } = await leftovers(prefix);
  const failures: string[] = [];
  const attempt = async (args: string[]) => {
    try {
      await ip(args);
    } catch (e) {
      failures.push((e as Error).message);
    }
  };
  for (const link of links) await attempt(["link", "del", link]);
  for (const name of netns) await attempt(["netns", "del", name]);
  const left = await leftovers(prefix);
  if (left.netns.length + left.links.length > 0) {
    throw new Error(
      `Cannot remove the testbed: ${
        [...left.netns, ...left.links].join(", ")
      } left (${failures.join("; ")})`,
    );
  }
}
