/**
 * LEMON placement (pure): which worker takes which tree position, given the
 * all-to-all delay matrix, as a quadratic assignment problem solved by FAQ
 * (`faq.ts`): minimise the sum over tree edges of the delay from the worker
 * placed at the parent to the worker placed at the child. The root is
 * fixed; the other positions (padded with empty ones to as many as there
 * are workers) are assigned.
 *
 * @module
 */
import { faq } from "./faq.ts";
import type { FaqStart } from "./script_types.ts";
import { nodeCount } from "./tree.ts";

/** Options of {@link placeTree}. */
export interface PlaceOptions {
  /** Workers, in the matrix's order. */
  addrs: readonly string[];
  /** delaysUs[to][from]: median one-way delay received by `to` from `from`. */
  delaysUs: readonly (readonly (number | null)[])[];
  root: string;
  depth: number;
  fanout: number;
  /** Workers that may be placed (default: all of `addrs`). */
  usable?: ReadonlySet<string>;
  seed: number;
  start: FaqStart;
  maxIterations: number;
  tolerance: number;
  restarts: number;
}

/** What {@link placeTree} chose. */
export interface Placement {
  /** Addresses in breadth-first order, index 0 the root. */
  nodes: string[];
  /** Sum over the tree's edges of the delay, us. */
  costUs: number;
  iterations: number;
}

/** Places the workers in a tree of the given shape, root fixed. */
export function placeTree(o: PlaceOptions): Placement {
  const index = new Map(o.addrs.map((a, i) => [a, i]));
  const root = index.get(o.root);
  if (root === undefined) {
    throw new Error(`The root "${o.root}" was not probed`);
  }
  const positions = nodeCount(o.depth, o.fanout);
  const hasRow = (i: number) => o.delaysUs[i]!.some((d) => d !== null);
  const items = o.addrs.map((_, i) => i).filter((i) =>
    i !== root && (!o.usable || o.usable.has(o.addrs[i]!)) && hasRow(i)
  );
  if (items.length < positions - 1) {
    throw new Error(
      `LEMON: ${items.length} workers with measured delays, too few for a tree of ${positions}`,
    );
  }
  // A pair that did not report costs more than any measured one.
  const measured = o.delaysUs.flat().filter((d): d is number => d !== null);
  // A loop, not Math.max(...measured): N (N - 1) arguments overflow the
  // stack from N ~ 350 on.
  const missing = 10 * measured.reduce((m, d) => Math.max(m, d), 1);
  const delay = (from: number, to: number) => o.delaysUs[to]![from] ?? missing;
  const n = items.length;
  const parentOf = (p: number) => Math.floor((p - 1) / o.fanout);
  // Positions 1..positions-1 become QAP positions 0..; the rest are empty.
  const a = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const linear = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let p = 1; p < positions; p++) {
    const q = parentOf(p);
    if (q === 0) {
      items.forEach((item, i) => (linear[p - 1]![i] = delay(root, item)));
    } else {
      a[q - 1]![p - 1] = 1;
    }
  }
  const b = items.map((from) =>
    items.map((to) => from === to ? 0 : delay(from, to))
  );
  const r = faq({
    a,
    b,
    linear,
    start: o.start,
    seed: o.seed,
    maxIterations: o.maxIterations,
    tolerance: o.tolerance,
    restarts: o.restarts,
  });
  const nodes = [o.root];
  for (let p = 1; p < positions; p++) {
    nodes.push(o.addrs[items[r.perm[p - 1]!]!]!);
  }
  return { nodes, costUs: r.cost, iterations: r.iterations };
}
