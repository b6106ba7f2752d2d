/**
 * The roster of a run: the workers its manager admitted, proven per address
 * instead of listed. The manager draws a run id and a 32-byte key per run and
 * gives both to every worker in its CONNECT hello; each COMMAND carries, for
 * every worker address it names, a tag made with the key (the first 8 bytes
 * of HMAC-SHA256(key, address)), and the manager tags only the workers it
 * admitted. A worker checks every tag before it relays anything and relays
 * the tags of the subtree it passes on. So the roster costs 32 bytes per
 * CONNECT and 8 bytes per address named, whatever the number of workers (a
 * listed roster at 5,000 workers would be ~100 KB per worker, ~500 MB in
 * all). A worker of the run holds the key too: the tags keep out addresses
 * no run admitted (mistakes, stray commands), not the run's own workers.
 *
 * @module
 */
import { createHmac } from "node:crypto";
import {
  type Command,
  ROSTER_KEY_BYTES,
  ROSTER_TAG_BYTES,
  type Subtree,
} from "../proto/codec.ts";

/** A run's id and roster key, as a manager's hello carries them. */
export interface RunKey {
  run: string;
  key: Uint8Array;
}

/** A fresh run: 16 random hex digits and a random key. */
export function newRun(): RunKey {
  const id = crypto.getRandomValues(new Uint8Array(8));
  return {
    run: Array.from(id, (x) => x.toString(16).padStart(2, "0")).join(""),
    key: crypto.getRandomValues(new Uint8Array(ROSTER_KEY_BYTES)),
  };
}

/**
 * The worker addresses `cmd` names, in the order of its tags, each with its
 * field: every node of its subtrees depth-first, or its addrs when it has
 * none.
 */
export function namedAddrs(cmd: Command): { addr: string; field: string }[] {
  if (cmd.subtrees.length === 0) {
    return cmd.addrs.map((addr, i) => ({ addr, field: `addrs[${i}]` }));
  }
  const out: { addr: string; field: string }[] = [];
  const visit = (n: Subtree, field: string): void => {
    out.push({ addr: n.addr, field: `${field}.addr` });
    n.children.forEach((c, j) => visit(c, `${field}.children[${j}]`));
  };
  cmd.subtrees.forEach((t, i) => visit(t, `subtrees[${i}]`));
  return out;
}

/** The worker addresses `cmd` names, in the order of its tags. */
export function commandNames(cmd: Command): string[] {
  return namedAddrs(cmd).map((n) => n.addr);
}

/** The tag of `addr` under `key`. */
export function rosterTag(key: Uint8Array, addr: string): Uint8Array {
  const mac = createHmac("sha256", key).update(addr).digest();
  return new Uint8Array(mac.subarray(0, ROSTER_TAG_BYTES));
}

/** The tags of `names`, one after the other. */
export function rosterTags(
  key: Uint8Array,
  names: readonly string[],
): Uint8Array {
  const out = new Uint8Array(names.length * ROSTER_TAG_BYTES);
  names.forEach((n, i) => out.set(rosterTag(key, n), i * ROSTER_TAG_BYTES));
  return out;
}

/**
 * The first address `cmd` names whose tag is missing or wrong under `key`
 * (with its field); undefined when every one is proven.
 */
export function unrostered(
  key: Uint8Array,
  cmd: Command,
): { addr: string; field: string } | undefined {
  const tags = cmd.rosterTags ?? new Uint8Array();
  return namedAddrs(cmd).find((n, i) => {
    const at = i * ROSTER_TAG_BYTES;
    const given = tags.subarray(at, at + ROSTER_TAG_BYTES);
    const want = rosterTag(key, n.addr);
    return given.length !== want.length || given.some((b, j) => b !== want[j]);
  });
}

/**
 * Each address `cmd` names mapped to its entry of a per-name list
 * (`value(i)` for the i-th name): its tag, its relay port.
 */
function _byName<T>(cmd: Command, value: (i: number) => T): Map<string, T> {
  return new Map(commandNames(cmd).map((a, i) => [a, value(i)]));
}

/**
 * The tags of the addresses `relayed` names, taken from the (checked) tags
 * of `cmd`, the command it is relayed from.
 */
export function relayedTags(cmd: Command, relayed: Command): Uint8Array {
  const tags = cmd.rosterTags ?? new Uint8Array();
  const byAddr = _byName(
    cmd,
    (i) => tags.subarray(i * ROSTER_TAG_BYTES, (i + 1) * ROSTER_TAG_BYTES),
  );
  const names = commandNames(relayed);
  const out = new Uint8Array(names.length * ROSTER_TAG_BYTES);
  names.forEach((n, i) => {
    const t = byAddr.get(n);
    if (t) out.set(t, i * ROSTER_TAG_BYTES);
  });
  return out;
}

/**
 * The relay port of each worker address `cmd` names (`Command.relay_ports`,
 * 0 where it has none; empty when the command carries none).
 */
export function relayPortsOf(cmd: Command): Map<string, number> {
  const ports = cmd.relayPorts ?? [];
  return ports.length === 0 ? new Map() : _byName(cmd, (i) => ports[i] ?? 0);
}

/**
 * The relay ports of the addresses `relayed` names, taken from those of
 * `cmd`, the command it is relayed from (empty when it carries none).
 */
export function relayedPorts(cmd: Command, relayed: Command): number[] {
  const ports = relayPortsOf(cmd);
  if (ports.size === 0) return [];
  return commandNames(relayed).map((n) => ports.get(n) ?? 0);
}
