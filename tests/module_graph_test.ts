import assert from "node:assert/strict";
import {
  findRings,
  type ModuleGraph,
  projectGraph,
  projectModules,
  ringPath,
} from "./helpers/module_graph.ts";

const ROOT = new URL("../", import.meta.url);

const graph = (edges: Record<string, string[]>): ModuleGraph =>
  new Map(Object.entries(edges));

Deno.test("findRings: a graph without rings has none", () => {
  const g = graph({ a: ["b", "c"], b: ["c"], c: [], d: ["a"] });
  assert.deepEqual(findRings(g), []);
});

Deno.test("findRings: names every module of each ring, and only those", () => {
  const g = graph({
    main: ["faq", "results"],
    faq: ["pool"],
    pool: ["script"],
    script: ["keys", "leaf"],
    keys: ["faq"],
    results: ["summary"],
    summary: ["results", "leaf"],
    leaf: [],
    self: ["self"],
  });
  assert.deepEqual(findRings(g), [
    ["faq", "keys", "pool", "script"],
    ["results", "summary"],
    ["self"],
  ]);
  assert.equal(
    ringPath(g, ["faq", "keys", "pool", "script"]),
    "faq -> pool -> script -> keys -> faq",
  );
  assert.equal(ringPath(g, ["self"]), "self -> self");
});

Deno.test("ringPath: takes the shortest way around", () => {
  const g = graph({ a: ["b", "c"], b: ["c"], c: ["a"] });
  assert.deepEqual(findRings(g), [["a", "b", "c"]]);
  assert.equal(ringPath(g, ["a", "b", "c"]), "a -> c -> a");
});

Deno.test("the project's modules import each other in no ring", async () => {
  const modules = projectModules(ROOT);
  assert.ok(modules.includes("main.ts") && modules.includes("tests/chaos.ts"));
  const g = await projectGraph(ROOT, modules);
  // The graph is the real one: main.ts reaches the roles' CLIs.
  assert.ok(g.get("main.ts")?.includes("manager/cli.ts"));
  const rings = findRings(g);
  assert.deepEqual(
    rings.map((r) => ringPath(g, r)),
    [],
    `import rings (each module reaches the others):\n` +
      rings.map((r) => `  ${ringPath(g, r)}`).join("\n"),
  );
});
