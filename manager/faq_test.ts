import assert from "node:assert/strict";
import { faq, fwStep, lineSearch, type Matrix, qapCost } from "./faq.ts";
import { Rng } from "./pool.ts";

function randomInstance(
  n: number,
  rng: Rng,
  tree = false,
): { a: Matrix; b: Matrix } {
  const m = (f: (i: number, j: number) => number) =>
    Array.from(
      { length: n },
      (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 0 : f(i, j))),
    );
  // A: a sparse 0/1 pattern, or a binary tree's parent -> child edges (the
  // LEMON placement); B: positive costs, not symmetric.
  return {
    a: tree
      ? m((i, j) => (j > 0 && Math.floor((j - 1) / 2) === i ? 1 : 0))
      : m(() => (rng.next() < 0.35 ? 1 : 0)),
    b: m(() => 1 + Math.floor(rng.next() * 100)),
  };
}

function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  const out: number[][] = [];
  for (const p of permutations(n - 1)) {
    for (let k = 0; k <= p.length; k++) {
      out.push([...p.slice(0, k), n - 1, ...p.slice(k)]);
    }
  }
  return out;
}

function bruteForce(a: Matrix, b: Matrix): number {
  let best = Infinity;
  for (const p of permutations(a.length)) {
    best = Math.min(best, qapCost(a, b, p));
  }
  return best;
}

Deno.test("faq: within 10 % of the brute-force optimum on average, never worse than identity (6-8 nodes)", () => {
  const rng = new Rng(13);
  const ratios: number[] = [];
  for (const n of [6, 7, 8]) {
    const perms = permutations(n);
    for (let k = 0; k < 12; k++) {
      const { a, b } = randomInstance(n, rng, k % 2 === 1);
      const opt = bruteForce(a, b);
      const identity = qapCost(a, b, perms[0]!.map((_, i) => i));
      for (const start of ["barycenter", "random"] as const) {
        const r = faq({ a, b, start, seed: k });
        assert.deepEqual(
          [...r.perm].sort((x, y) => x - y),
          perms[0]!.map((_, i) => i),
        );
        assert.ok(Math.abs(r.cost - qapCost(a, b, r.perm)) < 1e-9);
        assert.ok(r.cost >= opt);
        assert.ok(
          r.cost <= identity,
          `n=${n} #${k}: ${r.cost} > identity ${identity}`,
        );
        ratios.push(opt === 0 ? 1 : r.cost / opt);
      }
    }
  }
  const mean = ratios.reduce((s, x) => s + x, 0) / ratios.length;
  assert.ok(mean <= 1.10, `mean cost / optimum = ${mean.toFixed(3)}`);
});

Deno.test("faq: the step is P + a(Q - P), a convex combination that stays doubly stochastic", () => {
  const p = [[0.5, 0.5], [0.5, 0.5]];
  const q = [[1, 0], [0, 1]];
  // P + 0.5 (Q - P) = [[0.75, 0.25], [0.25, 0.75]]; P + 0.5 Q would be
  // [[1, 0.5], [0.5, 1]], whose rows sum to 1.5.
  assert.deepEqual(fwStep(p, q, 0.5), [[0.75, 0.25], [0.25, 0.75]]);
  assert.deepEqual(fwStep(p, q, 1), q);
  assert.deepEqual(fwStep(p, q, 0), p);
});

Deno.test("faq: exact line search minimises the quadratic along Q - P", () => {
  // f(a) = f0 + slope a + curvature a^2
  assert.equal(lineSearch(-2, 4), 0.25);
  assert.deepEqual(lineSearch(-10, 1), 1); // minimum beyond 1: clamp
  assert.deepEqual(lineSearch(3, 1), 0); // going up: no step
  assert.deepEqual(lineSearch(-3, -1), 1); // concave, f(1) < f(0)
  assert.deepEqual(lineSearch(-1, -0), 1);
  assert.deepEqual(lineSearch(1, -2), 1); // concave, f(1) = f0 - 1 < f0
  assert.deepEqual(lineSearch(2, -1), 0); // concave, f(1) = f0 + 1
});

Deno.test("faq: iterates beyond one step on an instance where one step is not enough", () => {
  // With P + a Q the step size collapses after one iteration; with the right
  // update the relaxed cost keeps falling for several iterations.
  const rng = new Rng(5);
  const { a, b } = randomInstance(12, rng);
  const r = faq({ a, b, maxIterations: 50, tolerance: 0 });
  assert.ok(r.iterations > 1, `iterations: ${r.iterations}`);
  const once = faq({ a, b, maxIterations: 1 });
  assert.ok(r.relaxedCost < once.relaxedCost);
});

Deno.test("faq: a linear term and the iteration cap are honoured; same seed, same answer", () => {
  const rng = new Rng(7);
  const { a, b } = randomInstance(6, rng);
  // A huge cost everywhere but the diagonal forces the identity.
  const linear = a.map((row, u) => row.map((_, i) => (u === i ? 0 : 1e6)));
  assert.deepEqual(faq({ a, b, linear }).perm, [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(faq({ a, b, maxIterations: 2 }).iterations <= 2, true);
  const x = faq({ a, b, start: "random", seed: 3 });
  assert.deepEqual(faq({ a, b, start: "random", seed: 3 }), x);
});
