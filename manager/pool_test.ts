import assert from "node:assert/strict";
import { deriveSeed, Pool, Rng } from "./pool.ts";

const ADDRS = Array.from({ length: 10 }, (_, i) => `10.0.0.${i}:9000`);

Deno.test("Rng: the same seed gives the same sequence, another seed another", () => {
  const seq = (seed: number) => {
    const r = new Rng(seed);
    return Array.from({ length: 100 }, () => r.next());
  };
  assert.deepEqual(seq(1), seq(1));
  assert.notDeepEqual(seq(1), seq(2));
  // Both halves of a large seed count.
  assert.notDeepEqual(seq(1), seq(2 ** 32 + 1));
  for (const x of seq(3)) assert.ok(x >= 0 && x < 1, `${x} in [0, 1)`);
});

Deno.test("Rng.int stays in [0, n) and covers it", () => {
  const r = new Rng(5);
  const seen = new Set<number>();
  for (let i = 0; i < 1000; i++) {
    const v = r.int(7);
    assert.ok(Number.isInteger(v) && v >= 0 && v < 7, `${v}`);
    seen.add(v);
  }
  assert.equal(seen.size, 7);
  assert.equal(r.int(1), 0);
  for (const bad of [0, -1, 2.5, NaN]) {
    assert.throws(() => r.int(bad), RangeError);
  }
  assert.throws(() => new Rng(1.5), RangeError);
});

Deno.test("deriveSeed is stable and separates labels", () => {
  assert.equal(deriveSeed(1, 0, "BEST"), deriveSeed(1, 0, "BEST"));
  const seeds = [
    deriveSeed(1),
    deriveSeed(2),
    deriveSeed(1, 0, "BEST"),
    deriveSeed(1, 0, "WORST"),
    deriveSeed(1, 1, "BEST"),
    deriveSeed(2, 0, "BEST"),
    deriveSeed(1, 0),
    deriveSeed(1, "0"),
    deriveSeed(1, "0BEST"),
  ];
  assert.equal(new Set(seeds).size, seeds.length);
  for (const s of seeds) {
    assert.ok(Number.isInteger(s) && s >= 0 && s < 2 ** 32);
  }
  const a = new Rng(deriveSeed(1, 0, "BEST"));
  const b = new Rng(deriveSeed(1, 0, "BEST"));
  assert.equal(a.next(), b.next());
});

Deno.test("pools with the same seed draw the same, another seed differs", () => {
  const run = (seed: number) => {
    const p = new Pool(ADDRS, { seed });
    return Array.from({ length: 100 }, (_, i) => p.draw(1 + (i % 10)));
  };
  const a = run(1);
  assert.deepEqual(a, run(1));
  assert.notDeepEqual(a, run(2));
  for (const d of a) assert.equal(new Set(d).size, d.length, "distinct");
});

Deno.test("draw(1) is uniform: 20k draws from 10 give each 2000 ± 300", () => {
  const p = new Pool(ADDRS, { seed: 42 });
  const counts = new Map<string, number>();
  for (let i = 0; i < 20_000; i++) {
    const [a] = p.draw(1);
    counts.set(a!, (counts.get(a!) ?? 0) + 1);
  }
  assert.equal(counts.size, 10);
  for (const [a, n] of counts) {
    assert.ok(Math.abs(n - 2000) <= 300, `${a} drawn ${n} times`);
  }
});

Deno.test("draw leaves the pool as it was and refuses too many", () => {
  const p = new Pool(ADDRS, { seed: 1 });
  const all = p.draw(10);
  assert.deepEqual([...all].sort(), [...ADDRS].sort());
  assert.deepEqual(p.draw(0), []);
  assert.equal(p.size, 10);
  assert.deepEqual(p.list(), ADDRS);
  assert.throws(() => p.draw(11), /Cannot draw 11 workers from a pool of 10/);
  assert.throws(() => p.draw(-1), RangeError);
  assert.throws(() => p.draw(1.5), RangeError);
});

Deno.test("remove takes workers out, add puts them back", () => {
  const p = new Pool(ADDRS, { seed: 1 });
  assert.equal(p.remove([ADDRS[0]!, ADDRS[3]!, "nowhere:1"]), 2);
  assert.equal(p.size, 8);
  assert.equal(p.has(ADDRS[0]!), false);
  assert.equal(p.has(ADDRS[1]!), true);
  for (let i = 0; i < 50; i++) {
    assert.ok(!p.draw(8).includes(ADDRS[3]!), "a removed worker is drawn");
  }
  assert.throws(() => p.draw(9), RangeError);
  p.add(ADDRS[3]!);
  assert.equal(p.size, 9);
  assert.equal(p.list().at(-1), ADDRS[3]);
  assert.throws(() => p.add(ADDRS[3]!), /already in it/);
  assert.throws(() => new Pool(["a:1", "a:1"], { seed: 1 }), /already in it/);
  p.remove(p.list());
  assert.equal(p.size, 0);
  assert.deepEqual(p.draw(0), []);
});

Deno.test("candidatesFor: a count is capped at the pool size", () => {
  const p = new Pool(ADDRS, { seed: 1 });
  assert.equal(p.candidatesFor({ kind: "count", value: 4 }, 2), 4);
  assert.equal(p.candidatesFor({ kind: "count", value: 10 }, 2), 10);
  assert.equal(p.candidatesFor({ kind: "count", value: 25 }, 2), 10);
  p.remove(ADDRS.slice(0, 7));
  assert.equal(p.candidatesFor({ kind: "count", value: 4 }, 2), 3);
});

Deno.test("candidatesFor: a fraction is at least the fanout, at most the pool", () => {
  const p = new Pool(ADDRS, { seed: 1 });
  const f = (value: number, fanout = 2) =>
    p.candidatesFor({ kind: "fraction", value }, fanout);
  assert.equal(f(0.5), 5);
  assert.equal(f(0.7), 7, "0.7 × 10 is 7, not 8");
  assert.equal(f(0.3), 3);
  assert.equal(f(0.35), 4, "rounds up");
  assert.equal(f(0.01), 2, "at least the fanout");
  assert.equal(f(0.1, 3), 3);
  assert.equal(f(1), 10);
  assert.equal(f(0.5, 20), 10, "never more than the pool");
  assert.throws(() => p.candidatesFor({ kind: "count", value: 4 }, 0));
  assert.throws(() => p.candidatesFor({ kind: "fraction", value: 0 }, 2));
});

Deno.test("drawDisjoint gives disjoint sets of k, or throws", () => {
  const p = new Pool(ADDRS, { seed: 9 });
  const sets = p.drawDisjoint(3, 3);
  assert.equal(sets.length, 3);
  for (const s of sets) assert.equal(s.length, 3);
  const flat = sets.flat();
  assert.equal(new Set(flat).size, 9);
  for (const a of flat) assert.ok(p.has(a));
  assert.equal(p.size, 10, "drawing leaves the pool as it was");
  assert.equal(p.drawDisjoint(5, 2).flat().length, 10);
  assert.deepEqual(p.drawDisjoint(0, 4), []);
  assert.throws(() => p.drawDisjoint(3, 4), /need 12/);
  assert.throws(() => p.drawDisjoint(-1, 2), RangeError);
  const q = new Pool(ADDRS, { seed: 9 });
  assert.deepEqual(q.drawDisjoint(3, 3), sets, "seeded");
});
