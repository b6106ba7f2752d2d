/**
 * A complete tree of worker addresses, of depth D (levels below the root)
 * and fanout F, filled breadth-first.
 *
 * The nodes live in one array in BFS order: index 0 is the root and the
 * children of node `i` are `F*i+1 .. F*i+F`. Internal nodes are therefore
 * the indices `0 .. internalCount-1` and leaves the rest. A node's children
 * are always assigned all at once ({@link Tree.addChildren}), so a node "has
 * children" exactly when its first child slot holds an address.
 *
 * Pure: no I/O, no randomness. Errors are plain `Error`s naming the index and
 * the address.
 *
 * @module
 */
import type { Subtree } from "../proto/codec.ts";
import type { HedgeEdge } from "./hedge.ts";

/** Options of the {@link Tree} constructor. */
export interface TreeOptions {
  /** Levels below the root, at least 1. */
  depth: number;
  /** Children per internal node, at least 1. */
  fanout: number;
}

/** The JSON form of a {@link Tree}; unassigned nodes are `null`. */
export interface TreeJSON {
  depth: number;
  fanout: number;
  nodes: (string | null)[];
  edges: [string, string][];
  /** Hedge edges (`hedge.ts`): the first node also forwards to the second. */
  hedges: [string, string][];
}

/**
 * Nodes in a complete tree: (F^(D+1) − 1)/(F − 1), or D + 1 when F = 1.
 * Throws if depth or fanout is not a whole number of at least 1, or if the
 * count is not a safe integer.
 */
export function nodeCount(depth: number, fanout: number): number {
  _checkShape(depth, fanout);
  const n = fanout === 1
    ? depth + 1
    : (fanout ** (depth + 1) - 1) / (fanout - 1);
  if (!Number.isSafeInteger(n)) {
    throw new Error(
      `Cannot size a tree of depth ${depth} and fanout ${fanout}: too many nodes`,
    );
  }
  return n;
}

/** Leaves in a complete tree: F^D. */
export function leafCount(depth: number, fanout: number): number {
  nodeCount(depth, fanout);
  return fanout ** depth;
}

/** Internal (non-leaf) nodes in a complete tree: nodeCount − leafCount. */
export function internalCount(depth: number, fanout: number): number {
  return nodeCount(depth, fanout) - leafCount(depth, fanout);
}

/** A complete tree of worker addresses, built breadth-first. */
export class Tree {
  #depth: number;
  #fanout: number;
  #internal: number;
  #nodes: (string | undefined)[];
  #index = new Map<string, number>();
  /** Hedge destinations by forwarding node (`hedge.ts`). */
  #hedges = new Map<number, number[]>();

  /** An empty tree: set the root, then add children level by level. */
  constructor(opts: TreeOptions) {
    const n = nodeCount(opts.depth, opts.fanout);
    this.#depth = opts.depth;
    this.#fanout = opts.fanout;
    this.#internal = internalCount(opts.depth, opts.fanout);
    this.#nodes = new Array<string | undefined>(n).fill(undefined);
  }

  /** Levels below the root. */
  get depth(): number {
    return this.#depth;
  }

  /** Children per internal node. */
  get fanout(): number {
    return this.#fanout;
  }

  /** Every node in BFS order; `undefined` where no address is assigned yet. */
  get nodes(): readonly (string | undefined)[] {
    return this.#nodes;
  }

  /** True when every node has an address. */
  get complete(): boolean {
    return this.#index.size === this.#nodes.length;
  }

  /** Whether `addr` is a node of the tree. */
  has(addr: string): boolean {
    return this.#index.has(addr);
  }

  /** The index of `addr`, or undefined if it is not in the tree. */
  indexOf(addr: string): number | undefined {
    return this.#index.get(addr);
  }

  /** Assigns the root. Throws if the root is already set (use {@link replace}). */
  setRoot(addr: string): void {
    const root = this.#nodes[0];
    if (root !== undefined) {
      throw new Error(
        `Cannot set root "${addr}": the tree already has root "${root}"`,
      );
    }
    this.#assign(0, addr);
  }

  /** Depth of node `i`: 0 for the root, `depth` for a leaf. */
  depthOf(i: number): number {
    this.#check(i);
    if (this.#fanout === 1) return i;
    let d = 0, end = 1, width = 1;
    while (i >= end) {
      width *= this.#fanout;
      end += width;
      d++;
    }
    return d;
  }

  /** Indices of the children of node `i` (none for a leaf). */
  childIndices(i: number): number[] {
    if (this.isLeaf(i)) return [];
    const first = this.#fanout * i + 1;
    return Array.from({ length: this.#fanout }, (_, k) => first + k);
  }

  /** Index of the parent of node `i`, or undefined for the root. */
  parentIndex(i: number): number | undefined {
    this.#check(i);
    return i === 0 ? undefined : Math.floor((i - 1) / this.#fanout);
  }

  /** Whether node `i` is on the last level. */
  isLeaf(i: number): boolean {
    this.#check(i);
    return i >= this.#internal;
  }

  /** Indices of the internal nodes, in BFS order. */
  internalIndices(): number[] {
    return Array.from({ length: this.#internal }, (_, i) => i);
  }

  /** Indices of the leaves, in BFS order. */
  leafIndices(): number[] {
    const n = this.#nodes.length - this.#internal;
    return Array.from({ length: n }, (_, k) => this.#internal + k);
  }

  /**
   * The first internal node in BFS order that has an address but no
   * children yet: the next parent to build. Undefined when there is none
   * (the tree is complete, or the root is unset).
   */
  nextInternal(): number | undefined {
    for (let i = 0; i < this.#internal; i++) {
      if (this.#needsChildren(i)) return i;
    }
    return undefined;
  }

  /**
   * Every internal node of the shallowest depth that still lacks children,
   * and has an address: the parents to build at once, in BFS order. Empty
   * when the tree is complete or the root is unset.
   */
  pendingAtDepth(): number[] {
    const first = this.nextInternal();
    if (first === undefined) return [];
    const d = this.depthOf(first);
    const out: number[] = [];
    for (let i = first; i < this.#internal && this.depthOf(i) === d; i++) {
      if (this.#needsChildren(i)) out.push(i);
    }
    return out;
  }

  /**
   * Assigns the children of internal node `i`: exactly `fanout` addresses,
   * new to the tree and distinct. Throws if `i` is a leaf, has no address,
   * already has children, or the addresses are wrong.
   */
  addChildren(i: number, addrs: readonly string[]): void {
    this.#check(i);
    const at = `node ${i}`;
    if (this.isLeaf(i)) {
      throw new Error(`Cannot add children to ${at}: it is a leaf`);
    }
    const parent = this.#nodes[i];
    if (parent === undefined) {
      throw new Error(`Cannot add children to ${at}: it has no address yet`);
    }
    const first = this.#fanout * i + 1;
    if (this.#nodes[first] !== undefined) {
      throw new Error(
        `Cannot add children to ${at} ("${parent}"): it already has children`,
      );
    }
    if (addrs.length !== this.#fanout) {
      throw new Error(
        `Cannot add children to ${at} ("${parent}"): expected ${this.#fanout} ` +
          `addresses (the fanout), got ${addrs.length}`,
      );
    }
    const seen = new Set<string>();
    for (const a of addrs) {
      const where = this.#index.get(a);
      if (seen.has(a) || where !== undefined) {
        const why = where === undefined
          ? "it is listed twice"
          : `it is already node ${where}`;
        throw new Error(
          `Cannot add child "${a}" to ${at} ("${parent}"): ${why}`,
        );
      }
      seen.add(a);
    }
    addrs.forEach((a, k) => this.#assign(first + k, a));
  }

  /**
   * Gives node `i` a new address (e.g. a lost parent replaced), keeping its
   * place and children. Returns the old address. Throws if `i` has no
   * address yet or `addr` is already in the tree.
   */
  replace(i: number, addr: string): string {
    this.#check(i);
    const old = this.#nodes[i];
    if (old === undefined) {
      throw new Error(`Cannot replace node ${i}: it has no address yet`);
    }
    const where = this.#index.get(addr);
    if (where !== undefined) {
      throw new Error(
        `Cannot replace node ${i} ("${old}") with "${addr}": it is already ` +
          `node ${where}`,
      );
    }
    this.#index.delete(old);
    this.#assign(i, addr);
    return old;
  }

  /** Parent → child address pairs of the assigned nodes, in BFS order. */
  edges(): [string, string][] {
    const out: [string, string][] = [];
    for (let c = 1; c < this.#nodes.length; c++) {
      const child = this.#nodes[c];
      const parent = this.#nodes[Math.floor((c - 1) / this.#fanout)];
      if (child !== undefined && parent !== undefined) {
        out.push([parent, child]);
      }
    }
    return out;
  }

  /**
   * Sets the hedge edges (`hedge.ts` `hedgeEdges`): node `from` also
   * forwards to node `to`, a child of one of its siblings.
   */
  setHedges(edges: readonly HedgeEdge[]): void {
    this.#hedges.clear();
    for (const [from, to] of edges) {
      const p = this.parentIndex(to), q = this.parentIndex(from);
      const g = p === undefined ? undefined : this.parentIndex(p);
      if (g === undefined || from === p || q !== g) {
        throw new Error(
          `Cannot hedge node ${to} from node ${from}: not a sibling of its parent`,
        );
      }
      const list = this.#hedges.get(from) ?? [];
      list.push(to);
      this.#hedges.set(from, list);
    }
  }

  /** Hedge edges between assigned nodes, as address pairs, by forwarding node in BFS order. */
  hedgeEdges(): [string, string][] {
    const out: [string, string][] = [];
    for (const from of [...this.#hedges.keys()].sort((a, b) => a - b)) {
      const a = this.#nodes[from];
      if (a === undefined) continue;
      for (const to of this.#hedges.get(from)!) {
        const b = this.#nodes[to];
        if (b !== undefined) out.push([a, b]);
      }
    }
    return out;
  }

  /**
   * Node `i` and everything assigned below it, as nested `{addr, children}`
   * (with `hedges`: the assigned nodes it also forwards to, when it has any).
   * Throws if `i` has no address.
   */
  subtree(i: number): Subtree {
    const addr = this.#nodes[i];
    if (addr === undefined) {
      this.#check(i);
      throw new Error(`Cannot take the subtree of node ${i}: no address yet`);
    }
    const children = this.childIndices(i)
      .filter((c) => this.#nodes[c] !== undefined)
      .map((c) => this.subtree(c));
    const hedges = (this.#hedges.get(i) ?? []).map((h) => this.#nodes[h])
      .filter((a): a is string => a !== undefined);
    return hedges.length > 0 ? { addr, children, hedges } : { addr, children };
  }

  /** `{depth, fanout, nodes, edges, hedges}`, with unassigned nodes as `null`. */
  toJSON(): TreeJSON {
    return {
      depth: this.#depth,
      fanout: this.#fanout,
      nodes: this.#nodes.map((a) => a ?? null),
      edges: this.edges(),
      hedges: this.hedgeEdges(),
    };
  }

  #needsChildren(i: number): boolean {
    return this.#nodes[i] !== undefined &&
      this.#nodes[this.#fanout * i + 1] === undefined;
  }

  #assign(i: number, addr: string): void {
    const where = this.#index.get(addr);
    if (where !== undefined) {
      throw new Error(
        `Cannot place "${addr}" at node ${i}: it is node ${where}`,
      );
    }
    this.#nodes[i] = addr;
    this.#index.set(addr, i);
  }

  #check(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.#nodes.length) {
      throw new RangeError(
        `Node index ${i} is out of range: the tree has ${this.#nodes.length} ` +
          `nodes (0 to ${this.#nodes.length - 1})`,
      );
    }
  }
}

function _checkShape(depth: number, fanout: number): void {
  for (const [name, v] of [["depth", depth], ["fanout", fanout]] as const) {
    if (!Number.isSafeInteger(v) || v < 1) {
      throw new RangeError(
        `Tree ${name} must be a whole number of at least 1, got ${v}`,
      );
    }
  }
}
