/**
 * The pool of workers not yet placed in a tree, and the seeded randomness
 * that draws from it.
 *
 * Everything here is deterministic: the same seed and the same sequence of
 * calls give the same draws, so an experiment can be rerun exactly. Use
 * {@link deriveSeed} to give each (root, tree) its own stream, so that
 * adding a tree to a script does not change the draws of the others.
 *
 * @module
 */
import type { Hyperparameter } from "./script_types.ts";

/** Options of the {@link Pool} constructor. */
export interface PoolOptions {
  /** Seed of the pool's {@link Rng}: a safe integer. */
  seed: number;
}

/**
 * A small seeded PRNG: sfc32 (Chris Doty-Humphrey's Small Fast Counting
 * generator, 128 bits of state), seeded from both 32-bit halves of a safe
 * integer. Not for cryptography.
 */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /** A generator whose sequence depends only on `seed` (a safe integer). */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) {
      throw new RangeError(`Seed must be a safe integer, got ${seed}`);
    }
    this.#a = seed >>> 0;
    this.#b = Math.floor(seed / 2 ** 32) >>> 0;
    this.#c = 0x9e3779b9;
    this.#d = 1;
    // Mix the seed through the state before the first output.
    for (let i = 0; i < 15; i++) this.#u32();
  }

  /** The next number in [0, 1), with 32 random bits. */
  next(): number {
    return this.#u32() / 2 ** 32;
  }

  /**
   * A whole number in [0, n), for a whole `n` from 1 to 2^32. The bias is
   * below n / 2^32: negligible for pool sizes.
   */
  int(n: number): number {
    if (!Number.isSafeInteger(n) || n < 1 || n > 2 ** 32) {
      throw new RangeError(
        `Cannot draw a whole number below ${n}: the bound must be a whole ` +
          `number from 1 to 2^32`,
      );
    }
    return Math.floor(this.next() * n);
  }

  #u32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }
}

/**
 * A seed for one purpose, derived from a base seed and labels (e.g. the root
 * index and the tree name): a 32-bit FNV-1a hash of them, finished with the
 * MurmurHash3 mixer. Labels are typed, so `("1")` and `(1)` differ.
 */
export function deriveSeed(
  seed: number,
  ...labels: (string | number)[]
): number {
  const text = JSON.stringify([seed, ...labels]);
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The workers free to be drawn, in a stable order, with their own seeded
 * {@link Rng}. Drawing does not remove: call {@link Pool.remove} for the
 * workers a tree takes or that are lost.
 */
export class Pool {
  #addrs: string[];
  #set: Set<string>;
  #rng: Rng;

  /** A pool of distinct addresses. Throws on a duplicate. */
  constructor(addrs: readonly string[], opts: PoolOptions) {
    this.#addrs = [];
    this.#set = new Set();
    this.#rng = new Rng(opts.seed);
    for (const a of addrs) this.add(a);
  }

  /** Workers in the pool. */
  get size(): number {
    return this.#addrs.length;
  }

  /** Whether `addr` is in the pool. */
  has(addr: string): boolean {
    return this.#set.has(addr);
  }

  /** The workers, in the order they were added. */
  list(): string[] {
    return [...this.#addrs];
  }

  /**
   * `k` distinct workers drawn uniformly at random, left in the pool.
   * Throws if `k` is not a whole number from 0 to {@link size}.
   */
  draw(k: number): string[] {
    if (!Number.isSafeInteger(k) || k < 0 || k > this.size) {
      throw new RangeError(
        `Cannot draw ${k} workers from a pool of ${this.size}`,
      );
    }
    // A partial Fisher-Yates shuffle of a copy: one Rng call per draw.
    const a = [...this.#addrs];
    for (let i = 0; i < k; i++) {
      const j = i + this.#rng.int(a.length - i);
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a.slice(0, k);
  }

  /**
   * Takes `addrs` out of the pool; addresses not in it are ignored (a lost
   * worker may already have been placed). Returns how many were removed.
   */
  remove(addrs: Iterable<string>): number {
    const gone = new Set<string>();
    for (const a of addrs) if (this.#set.delete(a)) gone.add(a);
    if (gone.size > 0) this.#addrs = this.#addrs.filter((a) => !gone.has(a));
    return gone.size;
  }

  /** Puts `addr` (back) at the end of the pool. Throws if it is already in. */
  add(addr: string): void {
    if (this.#set.has(addr)) {
      throw new Error(`Cannot add "${addr}" to the pool: it is already in it`);
    }
    this.#set.add(addr);
    this.#addrs.push(addr);
  }

  /**
   * K, the candidates a parent probes given the current pool: a count is
   * `min(count, size)`; a fraction is `max(fanout, ceil(value × size))`,
   * capped at `size`.
   */
  candidatesFor(h: Hyperparameter, fanout: number): number {
    if (!Number.isSafeInteger(fanout) || fanout < 1) {
      throw new RangeError(
        `Fanout must be a whole number of at least 1, got ${fanout}`,
      );
    }
    if (!(h.value > 0) || (h.kind === "count" && !Number.isInteger(h.value))) {
      throw new RangeError(
        `Cannot size candidates from hyperparameter ${h.kind} ${h.value}`,
      );
    }
    if (h.kind === "count") return Math.min(h.value, this.size);
    // Round away float noise first: 0.7 × 10 is 7.000000000000001.
    const share = Math.ceil(Number((h.value * this.size).toPrecision(12)));
    return Math.min(this.size, Math.max(fanout, share));
  }

  /**
   * `parents` disjoint sets of `k` candidates each, for building several
   * parents at once. Throws unless `parents × k ≤ size`.
   */
  drawDisjoint(parents: number, k: number): string[][] {
    for (const [name, v] of [["parents", parents], ["k", k]] as const) {
      if (!Number.isSafeInteger(v) || v < 0) {
        throw new RangeError(
          `Cannot draw disjoint candidates: ${name} must be a whole number, ` +
            `got ${v}`,
        );
      }
    }
    if (parents * k > this.size) {
      throw new RangeError(
        `Cannot draw ${parents} disjoint sets of ${k} candidates from a pool ` +
          `of ${this.size}: they need ${parents * k}`,
      );
    }
    const all = this.draw(parents * k);
    return Array.from(
      { length: parents },
      (_, p) => all.slice(p * k, p * k + k),
    );
  }
}
