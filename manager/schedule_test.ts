import assert from "node:assert/strict";
import { allToAllRounds } from "./schedule.ts";

Deno.test("all-to-all: every ordered pair exactly once, nobody over the limit in any round", () => {
  for (const n of [1, 2, 3, 5, 12, 25]) {
    for (const limit of [1, 2, 3, 4, 7, 30]) {
      const rounds = allToAllRounds(n, limit);
      const seen = new Set<string>();
      for (const round of rounds) {
        const receiving = new Map<number, number>();
        for (const t of round) {
          assert.ok(t.to.length <= limit, `n=${n} limit=${limit}: sends`);
          for (const to of t.to) {
            assert.notEqual(to, t.from);
            const pair = `${t.from}>${to}`;
            assert.ok(!seen.has(pair), `${pair} twice`);
            seen.add(pair);
            receiving.set(to, (receiving.get(to) ?? 0) + 1);
          }
        }
        for (const [to, k] of receiving) {
          assert.ok(k <= limit, `n=${n} limit=${limit}: ${to} receives ${k}`);
        }
      }
      assert.equal(seen.size, n * (n - 1), `n=${n} limit=${limit}`);
      assert.equal(rounds.length, n <= 1 ? 0 : Math.ceil((n - 1) / limit));
    }
  }
});

Deno.test("all-to-all: a hand example of 4 workers, 2 peers at once", () => {
  assert.deepEqual(allToAllRounds(4, 2), [
    [
      { from: 0, to: [1, 2] },
      { from: 1, to: [2, 3] },
      { from: 2, to: [3, 0] },
      { from: 3, to: [0, 1] },
    ],
    [
      { from: 0, to: [3] },
      { from: 1, to: [0] },
      { from: 2, to: [1] },
      { from: 3, to: [2] },
    ],
  ]);
  assert.throws(() => allToAllRounds(4, 0), RangeError);
});
