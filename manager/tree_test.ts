import assert from "node:assert/strict";
import { internalCount, leafCount, nodeCount, Tree } from "./tree.ts";

/** A D = 2, F = 2 tree filled with A..G in BFS order. */
function abc(): Tree {
  const t = new Tree({ depth: 2, fanout: 2 });
  t.setRoot("A");
  t.addChildren(0, ["B", "C"]);
  t.addChildren(1, ["D", "E"]);
  t.addChildren(2, ["F", "G"]);
  return t;
}

Deno.test("node, leaf and internal counts of complete trees", () => {
  const cases: [number, number, number, number, number][] = [
    // depth, fanout, nodes, leaves, internal
    [1, 1, 2, 1, 1],
    [2, 1, 3, 1, 2],
    [3, 1, 4, 1, 3],
    [1, 2, 3, 2, 1],
    [2, 2, 7, 4, 3],
    [3, 2, 15, 8, 7],
    [2, 3, 13, 9, 4],
    [3, 10, 1111, 1000, 111],
  ];
  for (const [d, f, nodes, leaves, internal] of cases) {
    const at = `depth ${d}, fanout ${f}`;
    assert.equal(nodeCount(d, f), nodes, at);
    assert.equal(leafCount(d, f), leaves, at);
    assert.equal(internalCount(d, f), internal, at);
    const t = new Tree({ depth: d, fanout: f });
    assert.equal(t.nodes.length, nodes, at);
    assert.equal(t.leafIndices().length, leaves, at);
    assert.deepEqual(t.internalIndices(), [...Array(internal).keys()], at);
  }
});

Deno.test("a depth or fanout below 1 or not whole is refused", () => {
  for (const [d, f] of [[0, 2], [2, 0], [1.5, 2], [2, -1], [NaN, 2]]) {
    assert.throws(() => nodeCount(d!, f!), RangeError);
    assert.throws(() => new Tree({ depth: d!, fanout: f! }), RangeError);
  }
  assert.throws(() => nodeCount(60, 64), /too many nodes/);
});

Deno.test("the index layout: depths, parents, children, leaves", () => {
  const t = new Tree({ depth: 2, fanout: 3 });
  assert.deepEqual(
    t.nodes.map((_, i) => t.depthOf(i)),
    [0, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2],
  );
  assert.equal(t.parentIndex(0), undefined);
  assert.equal(t.parentIndex(3), 0);
  assert.equal(t.parentIndex(4), 1);
  assert.equal(t.parentIndex(12), 3);
  assert.deepEqual(t.childIndices(0), [1, 2, 3]);
  assert.deepEqual(t.childIndices(2), [7, 8, 9]);
  assert.deepEqual(t.childIndices(4), []);
  assert.equal(t.isLeaf(3), false);
  assert.equal(t.isLeaf(4), true);
  assert.deepEqual(t.leafIndices(), [4, 5, 6, 7, 8, 9, 10, 11, 12]);
  assert.throws(() => t.depthOf(13), RangeError);
  assert.throws(() => t.parentIndex(-1), RangeError);
});

Deno.test("nextInternal and addChildren fill the tree breadth-first", () => {
  const t = new Tree({ depth: 2, fanout: 2 });
  assert.equal(t.nextInternal(), undefined, "no root yet");
  t.setRoot("A");
  const order: number[] = [];
  const names = [..."BCDEFG"];
  let i;
  while ((i = t.nextInternal()) !== undefined) {
    order.push(i);
    assert.equal(t.complete, false);
    t.addChildren(i, names.splice(0, 2));
  }
  assert.deepEqual(order, [0, 1, 2]);
  assert.deepEqual(t.nodes, [..."ABCDEFG"]);
  assert.equal(t.complete, true);
  assert.deepEqual(t.edges(), [
    ["A", "B"],
    ["A", "C"],
    ["B", "D"],
    ["B", "E"],
    ["C", "F"],
    ["C", "G"],
  ]);
  assert.equal(t.indexOf("E"), 4);
  assert.equal(t.indexOf("Z"), undefined);
});

Deno.test("pendingAtDepth gives one whole depth to build in parallel", () => {
  const t = new Tree({ depth: 2, fanout: 2 });
  assert.deepEqual(t.pendingAtDepth(), []);
  t.setRoot("A");
  assert.deepEqual(t.pendingAtDepth(), [0]);
  t.addChildren(0, ["B", "C"]);
  assert.deepEqual(t.pendingAtDepth(), [1, 2]);
  t.addChildren(2, ["F", "G"]);
  assert.deepEqual(t.pendingAtDepth(), [1]);
  t.addChildren(1, ["D", "E"]);
  assert.deepEqual(t.pendingAtDepth(), []);
  assert.ok(t.complete);
});

Deno.test("pendingAtDepth stays on the shallowest unfinished depth", () => {
  const t = new Tree({ depth: 3, fanout: 2 });
  t.setRoot("a");
  t.addChildren(0, ["b", "c"]);
  t.addChildren(1, ["d", "e"]);
  t.addChildren(3, ["h", "i"]);
  // c (depth 1) still needs children: depth 2 waits for it.
  assert.deepEqual(t.pendingAtDepth(), [2]);
  t.addChildren(2, ["f", "g"]);
  assert.deepEqual(t.pendingAtDepth(), [4, 5, 6]);
});

Deno.test("addChildren refuses a wrong count, duplicates, leaves and empty nodes", () => {
  const t = new Tree({ depth: 2, fanout: 2 });
  assert.throws(() => t.addChildren(0, ["B", "C"]), /no address yet/);
  t.setRoot("A");
  assert.throws(() => t.addChildren(0, ["B"]), /expected 2 .*got 1/);
  assert.throws(() => t.addChildren(0, ["B", "C", "D"]), /got 3/);
  assert.throws(() => t.addChildren(0, ["B", "A"]), /"A".*already node 0/);
  assert.throws(() => t.addChildren(0, ["B", "B"]), /"B".*listed twice/);
  assert.deepEqual(t.nodes, [
    "A",
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
  ]);
  t.addChildren(0, ["B", "C"]);
  assert.throws(() => t.addChildren(0, ["X", "Y"]), /already has children/);
  assert.throws(() => t.addChildren(2, ["D", "B"]), /"B".*already node 1/);
  t.addChildren(1, ["D", "E"]);
  assert.throws(() => t.addChildren(3, ["X", "Y"]), /is a leaf/);
  assert.throws(() => t.addChildren(7, ["X", "Y"]), RangeError);
  assert.throws(() => t.setRoot("Z"), /already has root "A"/);
});

Deno.test("replace swaps an address and keeps the shape", () => {
  const t = abc();
  assert.equal(t.replace(1, "B2"), "B");
  assert.equal(t.has("B"), false);
  assert.equal(t.indexOf("B2"), 1);
  assert.deepEqual(t.nodes, ["A", "B2", "C", "D", "E", "F", "G"]);
  assert.deepEqual(t.edges().filter(([p]) => p === "B2"), [
    ["B2", "D"],
    ["B2", "E"],
  ]);
  assert.throws(() => t.replace(2, "D"), /already node 3/);
  assert.throws(() => t.replace(2, "C"), /already node 2/);
  const empty = new Tree({ depth: 1, fanout: 2 });
  assert.throws(() => empty.replace(0, "A"), /no address yet/);
  // The old address may be used again once replaced.
  t.replace(3, "B");
  assert.deepEqual(t.subtree(1).children.map((c) => c.addr), ["B", "E"]);
});

Deno.test("subtree nests {addr, children}", () => {
  const t = abc();
  assert.deepEqual(t.subtree(2), {
    addr: "C",
    children: [{ addr: "F", children: [] }, { addr: "G", children: [] }],
  });
  assert.deepEqual(t.subtree(0).children.map((c) => c.addr), ["B", "C"]);
  const partial = new Tree({ depth: 2, fanout: 2 });
  partial.setRoot("A");
  assert.deepEqual(partial.subtree(0), { addr: "A", children: [] });
  assert.throws(() => partial.subtree(1), /no address yet/);
});

Deno.test("a fanout of 1 is a chain", () => {
  const t = new Tree({ depth: 3, fanout: 1 });
  t.setRoot("a");
  for (const [i, c] of [[0, "b"], [1, "c"], [2, "d"]] as const) {
    assert.deepEqual(t.pendingAtDepth(), [i]);
    assert.equal(t.nextInternal(), i);
    t.addChildren(i, [c]);
  }
  assert.ok(t.complete);
  assert.deepEqual(t.nodes.map((_, i) => t.depthOf(i)), [0, 1, 2, 3]);
  assert.deepEqual(t.leafIndices(), [3]);
  assert.deepEqual(t.subtree(2), {
    addr: "c",
    children: [{ addr: "d", children: [] }],
  });
  assert.deepEqual(t.edges(), [["a", "b"], ["b", "c"], ["c", "d"]]);
});

Deno.test("toJSON gives depth, fanout, nodes, edges and hedges", () => {
  const t = new Tree({ depth: 1, fanout: 2 });
  t.setRoot("A");
  assert.deepEqual(JSON.parse(JSON.stringify(t)), {
    depth: 1,
    fanout: 2,
    nodes: ["A", null, null],
    edges: [],
    hedges: [],
  });
  t.addChildren(0, ["B", "C"]);
  assert.deepEqual(t.toJSON(), {
    depth: 1,
    fanout: 2,
    nodes: ["A", "B", "C"],
    edges: [["A", "B"], ["A", "C"]],
    hedges: [],
  });
});
