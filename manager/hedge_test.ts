import assert from "node:assert/strict";
import { hedgeEdges } from "./hedge.ts";
import { Tree } from "./tree.ts";

const shape = { depth: 2, fanout: 3, seed: 7 };

/** Hedge parents of each node, by BFS index. */
function parentsOf(edges: [number, number][]): Map<number, number[]> {
  const m = new Map<number, number[]>();
  for (const [from, to] of edges) m.set(to, [...m.get(to) ?? [], from]);
  return m;
}

Deno.test("hedge 0 adds no edge; hedge must be below the fanout", () => {
  assert.deepEqual(hedgeEdges({ ...shape, hedge: 0, type: "BEST" }), []);
  assert.throws(
    () => hedgeEdges({ ...shape, hedge: 3, type: "BEST" }),
    /from 0 to fanout - 1 \(2\), got 3/,
  );
  assert.throws(() => hedgeEdges({ ...shape, hedge: -1, type: "RANDOM" }));
});

Deno.test("BEST, WORST and LEMON: a child of the proxy at slot k gets the proxies at slots k+1.., wrapping", () => {
  for (const type of ["BEST", "WORST", "LEMON"] as const) {
    const p = parentsOf(hedgeEdges({ ...shape, hedge: 2, type }));
    // Depth-1 proxies 1, 2, 3 (root's children) have no hedge parent.
    for (const i of [1, 2, 3]) assert.equal(p.get(i), undefined);
    // Children of 1 (4, 5, 6) get 2 then 3; of 3 (10..12) get 1 then 2.
    for (const c of [4, 5, 6]) assert.deepEqual(p.get(c), [2, 3]);
    for (const c of [7, 8, 9]) assert.deepEqual(p.get(c), [3, 1]);
    for (const c of [10, 11, 12]) assert.deepEqual(p.get(c), [1, 2]);
  }
  // hedge 1: the next-best only.
  const one = parentsOf(hedgeEdges({ ...shape, hedge: 1, type: "BEST" }));
  assert.deepEqual(one.get(4), [2]);
  assert.deepEqual(one.get(12), [1]);
});

Deno.test("RANDOM: each node gets H distinct siblings of its parent, drawn from the seed", () => {
  const edges = hedgeEdges({
    depth: 3,
    fanout: 4,
    hedge: 2,
    type: "RANDOM",
    seed: 3,
  });
  const p = parentsOf(edges);
  const t = new Tree({ depth: 3, fanout: 4 });
  for (let c = 5; c < 85; c++) {
    const hp = p.get(c)!;
    assert.equal(hp.length, 2, `node ${c}`);
    assert.notEqual(hp[0], hp[1]);
    const parent = t.parentIndex(c)!;
    for (const q of hp) {
      assert.notEqual(q, parent);
      assert.equal(t.parentIndex(q), t.parentIndex(parent), `${q} of ${c}`);
    }
  }
  assert.deepEqual(
    hedgeEdges({ depth: 3, fanout: 4, hedge: 2, type: "RANDOM", seed: 3 }),
    edges,
  );
  assert.notDeepEqual(
    hedgeEdges({ depth: 3, fanout: 4, hedge: 2, type: "RANDOM", seed: 4 }),
    edges,
  );
  // Not always the rotation.
  assert.notDeepEqual(
    edges,
    hedgeEdges({ depth: 3, fanout: 4, hedge: 2, type: "BEST", seed: 3 }),
  );
});

Deno.test("a tree with hedges gives them in its subtrees, edges and JSON, and keeps them when a node is replaced", () => {
  const t = new Tree({ depth: 2, fanout: 2 });
  t.setHedges(
    hedgeEdges({ depth: 2, fanout: 2, hedge: 1, type: "BEST", seed: 0 }),
  );
  t.setRoot("r:1");
  t.addChildren(0, ["a:1", "b:1"]);
  t.addChildren(1, ["a1:1", "a2:1"]);
  t.addChildren(2, ["b1:1", "b2:1"]);
  const sub = t.subtree(0);
  assert.equal(sub.hedges, undefined);
  assert.deepEqual(sub.children[0]!.hedges, ["b1:1", "b2:1"]);
  assert.deepEqual(sub.children[1]!.hedges, ["a1:1", "a2:1"]);
  assert.equal(sub.children[0]!.children[0]!.hedges, undefined);
  t.replace(2, "c:1");
  assert.deepEqual(t.toJSON().hedges, [
    ["a:1", "b1:1"],
    ["a:1", "b2:1"],
    ["c:1", "a1:1"],
    ["c:1", "a2:1"],
  ]);
});

Deno.test("a hedge edge from anything but a sibling of the node's parent is refused", () => {
  const t = new Tree({ depth: 2, fanout: 2 });
  assert.throws(
    () => t.setHedges([[1, 3]]),
    /node 3 from node 1: not a sibling/,
  );
  assert.throws(() => t.setHedges([[0, 3]]), /not a sibling/);
  assert.throws(() => t.setHedges([[2, 1]]), /not a sibling/);
  assert.throws(() => t.setHedges([[4, 5]]), /not a sibling/);
});
