/**
 * Validation of a COMMAND's parameters before anything is started. Every
 * numeric parameter has a range (`core/limits.ts`, the table the script check
 * shares), every address must be HOST:PORT, and the
 * job kind must be one the product defines; anything else is a
 * {@link CommandError} naming the field, answered with ERR.
 *
 * @module
 */
import { splitHostPort } from "../core/cli.ts";
import { type LimitField, LIMITS } from "../core/limits.ts";
import type { Command, Subtree } from "../proto/codec.ts";

/** A COMMAND that must not be run; the message names the field. */
export class CommandError extends Error {
  override name = "CommandError";
  /** The offending field. */
  readonly field: string;
  constructor(field: string, reason: string) {
    super(`Field "${field}" ${reason}`);
    this.field = field;
  }
}

function _range(field: LimitField, n: number): void {
  const [min, max] = LIMITS[field];
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new CommandError(
      field,
      `must be a whole number from ${min} to ${max}, got ${n}`,
    );
  }
}

/** Height of a subtree: 0 for a leaf. */
export function height(t: Subtree): number {
  return t.children.length === 0 ? 0 : 1 + Math.max(...t.children.map(height));
}

function _countNodes(t: Subtree, budget: { left: number }): void {
  if (--budget.left < 0) {
    throw new CommandError(
      "subtrees",
      `must hold at most ${LIMITS.subtreeNodes[1]} nodes`,
    );
  }
  t.children.forEach((c) => _countNodes(c, budget));
}

function _addr(field: string, text: string): void {
  try {
    splitHostPort(text);
  } catch (e) {
    throw new CommandError(field, `must be HOST:PORT: ${(e as Error).message}`);
  }
}

/**
 * What is wrong with a probe's data address that a worker below answered
 * (it goes into this worker's probe flags), or undefined when it is a
 * HOST:PORT with a host that is no flag (`-...`) and a port that is not 0.
 */
export function probeAddrProblem(text: string): string | undefined {
  let hp;
  try {
    hp = splitHostPort(text);
  } catch (e) {
    return `an invalid probe address: ${(e as Error).message}`;
  }
  if (hp.hostname.startsWith("-") || hp.hostname.startsWith(".")) {
    return `an invalid probe address: "${text}" has no host name`;
  }
  if (hp.port === 0) return `an invalid probe address: "${text}" has port 0`;
  return undefined;
}

/** An address as a key: host (lower case) and port, or the text as given. */
function _key(text: string): string {
  try {
    const { hostname, port } = splitHostPort(text);
    return `${hostname.toLowerCase()}:${port}`;
  } catch {
    return text;
  }
}

/**
 * Throws {@link CommandError} unless every worker address of `cmd` (its
 * addrs and every node of its subtrees) is named once and none is `self`:
 * a worker relaying to itself, or to one worker twice, would wait on
 * itself (it answers one request at a time).
 */
function _distinct(cmd: Command, self: string | undefined): void {
  const seen = new Map<string, string>();
  if (self !== undefined) seen.set(_key(self), "this worker's own address");
  const see = (addr: string, path: string) => {
    const k = _key(addr);
    const before = seen.get(k);
    if (before !== undefined) {
      throw new CommandError(
        path,
        `names "${addr}" again: it is ${before}; a worker takes one place ` +
          "in a command's tree",
      );
    }
    seen.set(k, path);
  };
  if (cmd.subtrees.length === 0) {
    cmd.addrs.forEach((a, i) => see(a, `addrs[${i}]`));
    return;
  }
  const visit = (n: Subtree, path: string): void => {
    see(n.addr, `${path}.addr`);
    n.children.forEach((c, j) => visit(c, `${path}.children[${j}]`));
  };
  cmd.subtrees.forEach((t, i) => visit(t, `subtrees[${i}]`));
}

/**
 * Throws {@link CommandError} unless `cmd` is a job this product runs on
 * the worker named `self` (its advertised address; none: not checked).
 */
export function validateCommand(cmd: Command, self?: string): void {
  if (!["PARENT", "CHILD", "PROXY", "MCAST"].includes(cmd.flag)) {
    throw new CommandError(
      "flag",
      `must be PARENT, CHILD, PROXY or MCAST, got ${cmd.flag}`,
    );
  }
  _range("rate", cmd.rate);
  _range("dur", cmd.dur);
  _range("warmup", cmd.warmup);
  _range("timeout", cmd.timeout);
  _range("layer", cmd.layer);
  _range("select", cmd.select);
  _range("size", cmd.size);
  if (cmd.size !== 0 && cmd.size < 24) {
    throw new CommandError(
      "size",
      `must be 0 (default) or at least 24 bytes, got ${cmd.size}`,
    );
  }
  if (cmd.instr.length > LIMITS.instr[1]) {
    throw new CommandError(
      "instr",
      `must be at most ${LIMITS.instr[1]} characters`,
    );
  }
  if (cmd.addrs.length > LIMITS.addrs[1]) {
    throw new CommandError(
      "addrs",
      `must list at most ${LIMITS.addrs[1]} addresses`,
    );
  }
  cmd.addrs.forEach((a, i) => _addr(`addrs[${i}]`, a));
  if (new Set(cmd.addrs).size !== cmd.addrs.length) {
    throw new CommandError("addrs", "must not repeat an address");
  }
  if (cmd.flag === "CHILD") {
    if (cmd.layer !== 0) {
      throw new CommandError("layer", `must be 0 for CHILD, got ${cmd.layer}`);
    }
    if (cmd.addrs.length > 0) {
      throw new CommandError("addrs", "must be empty for CHILD");
    }
    if (cmd.subtrees.length > 0) {
      throw new CommandError("subtrees", "must be empty for CHILD");
    }
    return;
  }
  if (cmd.layer < 1) {
    throw new CommandError(
      "layer",
      `must be at least 1 for ${cmd.flag}, got ${cmd.layer}`,
    );
  }
  if (cmd.addrs.length === 0) {
    throw new CommandError(
      "addrs",
      `must list at least one address for ${cmd.flag}`,
    );
  }
  _hedgeStep(cmd);
  if (cmd.subtrees.length === 0) return _distinct(cmd, self);
  if (cmd.subtrees.length !== cmd.addrs.length) {
    throw new CommandError(
      "subtrees",
      "must have one entry per address in addrs",
    );
  }
  const budget = { left: LIMITS.subtreeNodes[1] };
  cmd.subtrees.forEach((t, i) => {
    if (t.addr !== cmd.addrs[i]) {
      throw new CommandError(`subtrees[${i}].addr`, `must equal addrs[${i}]`);
    }
    _countNodes(t, budget);
    const visit = (n: Subtree, path: string): void => {
      _addr(`${path}.addr`, n.addr);
      n.children.forEach((c, j) => visit(c, `${path}.children[${j}]`));
    };
    visit(t, `subtrees[${i}]`);
    if (height(t) > cmd.layer - 1) {
      throw new CommandError(
        `subtrees[${i}]`,
        `is ${height(t) + 1} layers deep, more than layer ${cmd.layer} allows`,
      );
    }
  });
  _distinct(cmd, self);
  _hedges(cmd.subtrees, self ?? "", "subtrees");
}

/**
 * Throws {@link CommandError} unless every hedge of every node names a
 * child of one of the node's siblings (`manager/hedge.ts`): never a node
 * outside the tree, the node's own parent or child, or anything else.
 * `siblings` are the children of the node named `parent`.
 */
function _hedges(siblings: Subtree[], parent: string, path: string): void {
  siblings.forEach((s, i) => {
    (s.hedges ?? []).forEach((h, k) => {
      const field = `${path}[${i}].hedges[${k}]`;
      const ok = siblings.some((o, j) =>
        j !== i && o.children.some((c) => _key(c.addr) === _key(h))
      );
      if (ok) return;
      const why = _key(h) === _key(parent)
        ? "is this node's own parent"
        : s.children.some((c) => _key(c.addr) === _key(h))
        ? "is already this node's child"
        : "is not a child of a sibling of this node (in this tree)";
      throw new CommandError(field, `names "${h}", which ${why}`);
    });
    _hedges(s.children, s.addr, `${path}[${i}].children`);
  });
}

/** Throws {@link CommandError} unless the command's hedge phase is one a PROXY runs. */
function _hedgeStep(cmd: Command): void {
  const h = cmd.hedge;
  if (h === undefined) return;
  if (cmd.flag !== "PROXY") {
    throw new CommandError("hedge", `is for PROXY only, got ${cmd.flag}`);
  }
  if (h.phase !== 1 && h.phase !== 2) {
    throw new CommandError("hedge.phase", `must be 1 or 2, got ${h.phase}`);
  }
  if (h.key === "" || h.key.length > 64) {
    throw new CommandError("hedge.key", "must be 1 to 64 characters");
  }
  if (h.to.length > (h.phase === 1 ? 0 : LIMITS.addrs[1])) {
    throw new CommandError(
      "hedge.to",
      h.phase === 1
        ? "must be empty in phase 1"
        : `must list at most ${LIMITS.addrs[1]} addresses`,
    );
  }
  h.to.forEach((a, i) => {
    const bad = probeAddrProblem(a);
    if (bad) throw new CommandError(`hedge.to[${i}]`, `is ${bad}`);
  });
}

/** The probe I/O backends and timestamp kinds a worker offers. */
export interface IoOffer {
  io: readonly ("native" | "deno")[];
  timestamps: readonly ("kernel" | "user")[];
}

/** A probe's resolved I/O: backend and receive timestamps (never auto). */
export interface ProbeIo {
  io: "native" | "deno";
  timestamps: "kernel" | "user";
}

/**
 * The backend and timestamps a validated command runs its probe with: the
 * command's, or for AUTO / unset the worker's best. Throws
 * {@link CommandError} naming `io` or `timestamps` when this worker cannot
 * give what the command asks (kernel timestamps need native I/O on a
 * kernel that gives them).
 */
export function commandIo(cmd: Command, offer: IoOffer): ProbeIo {
  const io = cmd.io === "AUTO"
    ? (offer.io.includes("native") ? "native" : "deno")
    : cmd.io === "NATIVE"
    ? "native"
    : "deno";
  if (!offer.io.includes(io)) {
    throw new CommandError(
      "io",
      `must be one this worker runs (${offer.io.join(", ")}), got ${cmd.io}`,
    );
  }
  const kernel = io === "native" && offer.timestamps.includes("kernel");
  if (cmd.timestamps === "KERNEL" && !kernel) {
    throw new CommandError(
      "timestamps",
      `must be USER (or unset) for ${io} I/O on this worker, got KERNEL`,
    );
  }
  const timestamps = cmd.timestamps === "USER"
    ? "user"
    : cmd.timestamps === "KERNEL" || kernel
    ? "kernel"
    : "user";
  return { io, timestamps };
}
