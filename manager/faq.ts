/**
 * FAQ (Vogelstein et al., "Fast approximate quadratic programming for graph
 * matching", 2015): an approximate solver of the quadratic assignment
 * problem, pure and without I/O.
 *
 * The problem: square matrices A (n x n, between positions) and B (n x n,
 * between items, e.g. VMs), an optional linear cost C (position x item);
 * find the permutation matrix P (P[u][i] = 1: position u holds item i)
 * minimising
 *
 *     f(P) = sum_{u,v} A[u][v] * (P B P^T)[u][v] + sum_{u,i} C[u][i] P[u][i]
 *
 * FAQ relaxes P to the doubly stochastic matrices and runs Frank–Wolfe:
 * the gradient G = A P B^T + A^T P B + C; the linear assignment problem
 * Q = argmin_Q <G, Q> over permutations (solved by the `munkres` package);
 * an exact line search for a in [0, 1] along Q - P (f is quadratic in a);
 * the update P + a (Q - P), which keeps P doubly stochastic; and at the end
 * the projection of P to the nearest permutation (the assignment maximising
 * <P, Q>). The answer is the cheapest of that projection and every
 * permutation Q the iterations visited, over one run from the chosen start
 * and `restarts` runs from seeded random starts.
 *
 * @module
 */
import { munkres } from "munkres";
import { deriveSeed, Rng } from "./pool.ts";
import type { FaqStart } from "./script_types.ts";

/** A dense matrix, rows of numbers. */
export type Matrix = number[][];

/** Options of {@link faq}. */
export interface FaqOptions {
  /** Position-to-position weights (n x n). */
  a: Matrix;
  /** Item-to-item costs (n x n). */
  b: Matrix;
  /** Linear cost of placing item i at position u (n x n); default none. */
  linear?: Matrix;
  /**
   * The start: the barycenter J/n, or a seeded random doubly stochastic
   * matrix (half barycenter, half a Sinkhorn-balanced random matrix).
   */
  start?: FaqStart;
  seed?: number;
  /** Frank–Wolfe iterations at most (default 30). */
  maxIterations?: number;
  /** Stop when a step lowers the relaxed cost by less than this share (default 1e-6). */
  tolerance?: number;
  /**
   * Further runs from seeded random starts (default 8); the cheapest answer
   * wins. FAQ is a local method: on sparse A (a tree's edges) one start
   * often ends in a poor local minimum.
   */
  restarts?: number;
}

/** What {@link faq} found. */
export interface FaqResult {
  /** perm[u] = the item placed at position u. */
  perm: number[];
  /** f of that permutation. */
  cost: number;
  /** Frank–Wolfe iterations of the run that found it. */
  iterations: number;
  /** Runs made (1 + restarts). */
  runs: number;
  /** The relaxed cost of the last doubly stochastic iterate. */
  relaxedCost: number;
}

/** The QAP cost of a permutation (perm[u] = item at position u). */
export function qapCost(
  a: Matrix,
  b: Matrix,
  perm: readonly number[],
  linear?: Matrix,
): number {
  let sum = 0;
  const n = perm.length;
  for (let u = 0; u < n; u++) {
    const au = a[u]!, bu = b[perm[u]!]!;
    for (let v = 0; v < n; v++) {
      const w = au[v]!;
      if (w !== 0) sum += w * bu[perm[v]!]!;
    }
    if (linear) sum += linear[u]![perm[u]!]!;
  }
  return sum;
}

/** The Frank–Wolfe update P + a (Q - P): a convex combination of P and Q. */
export function fwStep(p: Matrix, q: Matrix, a: number): Matrix {
  return p.map((row, u) => row.map((x, i) => x + a * (q[u]![i]! - x)));
}

/**
 * The step a in [0, 1] minimising f(P + a R), R = Q - P, for f quadratic:
 * f(P + a R) = f(P) + a <G, R> + a^2 <A, R B R^T> (<G, R> the slope at 0).
 */
export function lineSearch(slope: number, curvature: number): number {
  if (curvature > 0) return Math.min(1, Math.max(0, -slope / (2 * curvature)));
  return slope + curvature < 0 ? 1 : 0;
}

/** Solves the QAP approximately; deterministic for a given seed. */
export function faq(o: FaqOptions): FaqResult {
  const n = o.a.length;
  if (n === 0) {
    return { perm: [], cost: 0, iterations: 0, runs: 0, relaxedCost: 0 };
  }
  if (o.b.length !== n || (o.linear && o.linear.length !== n)) {
    throw new RangeError("faq: the matrices must have the same size");
  }
  const seed = o.seed ?? 0;
  const restarts = o.restarts ?? 8;
  let best = faqRun(o, o.start ?? "barycenter", seed);
  for (let k = 1; k <= restarts; k++) {
    const r = faqRun(o, "random", deriveSeed(seed, "faq", k));
    if (r.cost < best.cost) best = r;
  }
  return { ...best, runs: 1 + restarts };
}

/** One Frank–Wolfe run from one start. */
function faqRun(
  o: FaqOptions,
  start: FaqStart,
  seed: number,
): Omit<FaqResult, "runs"> {
  const n = o.a.length;
  const { a, b } = o;
  const at = transpose(a), bt = transpose(b);
  const zero = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const c = o.linear ?? zero;
  const maxIterations = o.maxIterations ?? 30;
  const tolerance = o.tolerance ?? 1e-6;
  let p = start === "random"
    ? randomDoublyStochastic(n, seed)
    : zero.map((row) => row.map(() => 1 / n));
  let best: { perm: number[]; cost: number } | undefined;
  const consider = (perm: number[]) => {
    const cost = qapCost(a, b, perm, o.linear);
    if (!best || cost < best.cost) best = { perm, cost };
  };
  let f = relaxed(a, b, c, p);
  let iterations = 0;
  while (iterations < maxIterations) {
    iterations++;
    // G = A P B^T + A^T P B + C
    const g = add(mul(mul(a, p), bt), mul(mul(at, p), b), c);
    const perm = assign(g);
    consider(perm);
    const q = permutationMatrix(perm);
    const r = q.map((row, u) => row.map((x, i) => x - p[u]![i]!));
    const slope = dot(g, r);
    const curvature = dot(a, mul(mul(r, b), transpose(r)));
    const step = lineSearch(slope, curvature);
    if (step === 0) break;
    p = fwStep(p, q, step);
    const next = relaxed(a, b, c, p);
    const gain = f - next;
    f = next;
    if (gain <= tolerance * Math.max(1, Math.abs(f))) break;
  }
  // Projection: the permutation nearest P (maximise <P, Q>).
  consider(assign(p.map((row) => row.map((x) => -x))));
  return { ...best!, iterations, relaxedCost: f };
}

/** The permutation minimising <cost, Q>: perm[u] = column of row u. */
function assign(cost: Matrix): number[] {
  const perm = new Array<number>(cost.length).fill(-1);
  for (const [row, col] of munkres(cost)) perm[row] = col;
  return perm;
}

function permutationMatrix(perm: readonly number[]): Matrix {
  return perm.map((col) => perm.map((_, i) => (i === col ? 1 : 0)));
}

/** f over doubly stochastic P: <A, P B P^T> + <C, P>. */
function relaxed(a: Matrix, b: Matrix, c: Matrix, p: Matrix): number {
  return dot(a, mul(mul(p, b), transpose(p))) + dot(c, p);
}

/** A seeded random doubly stochastic matrix strictly inside the polytope. */
function randomDoublyStochastic(n: number, seed: number): Matrix {
  const rng = new Rng(seed);
  let m = Array.from(
    { length: n },
    () => Array.from({ length: n }, () => rng.next() + 1e-3),
  );
  for (let k = 0; k < 200; k++) { // Sinkhorn balancing
    m = m.map((row) => {
      const s = row.reduce((x, y) => x + y, 0);
      return row.map((x) => x / s);
    });
    const cols = m[0]!.map((_, i) => m.reduce((s, row) => s + row[i]!, 0));
    m = m.map((row) => row.map((x, i) => x / cols[i]!));
  }
  return m.map((row) => row.map((x) => (x + 1 / n) / 2));
}

function transpose(m: Matrix): Matrix {
  return m[0]!.map((_, j) => m.map((row) => row[j]!));
}

function mul(x: Matrix, y: Matrix): Matrix {
  const n = y[0]!.length;
  return x.map((row) => {
    const out = new Array<number>(n).fill(0);
    row.forEach((v, k) => {
      if (v === 0) return;
      const yk = y[k]!;
      for (let j = 0; j < n; j++) out[j]! += v * yk[j]!;
    });
    return out;
  });
}

function add(...ms: Matrix[]): Matrix {
  return ms[0]!.map((row, i) =>
    row.map((_, j) => ms.reduce((s, m) => s + m[i]![j]!, 0))
  );
}

function dot(x: Matrix, y: Matrix): number {
  let s = 0;
  x.forEach((row, i) => row.forEach((v, j) => (s += v * y[i]![j]!)));
  return s;
}
