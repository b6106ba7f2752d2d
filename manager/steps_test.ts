/**
 * The ALLTOALL (LEMON) and REBUILD steps on the fake workers and clock:
 * no processes, no real waiting.
 */
import assert from "node:assert/strict";
import { assertResultsSchema } from "../tests/helpers/schema.ts";
import { leafDelays } from "../core/results.ts";
import { A, setup } from "./_testing.ts";

Deno.test("ALLTOALL: every pair probed within the limit, straggler rows stand out, LEMON places no straggler", async () => {
  const slow = [A[3]!, A[7]!, A[10]!];
  const { exp, workers, events } = setup(
    "trees: [{ type: LEMON }, { type: RANDOM }]\nlemon: { limit: 3, duration: 1s, warmup: 0 }",
    { slow },
  );
  const r = await exp.run();
  assert.equal(r.status, "complete");
  const phase = r.allToAll![0]!;
  assert.equal(phase.rounds, 4); // 11 peers, 3 at once
  assert.equal(phase.addrs.length, 12);
  // Every worker streamed to each peer once, to at most 3 at a time.
  const parents = workers.log.filter((l) =>
    l.cmd.instr.startsWith("LEMON all-to-all")
  );
  assert.equal(parents.length, 12 * 4);
  assert.ok(parents.every((l) => l.cmd.addrs.length <= 3));
  const pairs = new Set(
    parents.flatMap((l) => l.cmd.addrs.map((to) => `${l.addr}>${to}`)),
  );
  assert.equal(pairs.size, 12 * 11);
  // 1000 packets/s for 1 s to each of 11 peers, from 12 workers.
  assert.equal(phase.packets, 12 * 11 * 1000);
  // Rows (receivers): the stragglers' stand out.
  phase.addrs.forEach((a, i) => {
    const row = phase.delaysUs[i]!.filter((d): d is number => d !== null);
    assert.equal(row.length, 11);
    const min = Math.min(...row);
    assert.ok(
      slow.includes(a) ? min >= 2000 : Math.max(...row) < 100,
      `${a}: ${row}`,
    );
  });
  const lemon = r.trees.find((t) => t.type === "LEMON")!;
  assert.equal(lemon.status, "complete");
  assert.equal(new Set(lemon.nodes).size, 7);
  assert.deepEqual(lemon.stragglers, []);
  assert.ok(lemon.placement!.costUs > 0);
  assert.ok(events.some((e) => e.kind === "alltoall-done"));
  assertResultsSchema(JSON.parse(JSON.stringify(r)));
  assert.deepEqual(r.summary!.rows.map((x) => x.kind), ["LEMON", "RANDOM"]);
  assert.equal(r.summary!.rows[0]!.probing.packets, phase.packets);
});

Deno.test("REBUILD: one round swaps the straggler leaf out of a RANDOM tree and evaluates it again", async () => {
  // The RANDOM draw does not depend on delays: find the tree, then make one
  // of its leaves the straggler.
  const first = await setup("trees: [{ type: RANDOM }]").exp.run();
  const leaf = first.trees[0]!.nodes[5]!;
  const { exp } = setup("trees: [{ type: RANDOM }]\nrebuild: 1", {
    slow: [leaf],
  });
  const r = await exp.run();
  const t = r.trees[0]!;
  assert.equal(t.status, "complete");
  assert.deepEqual(t.evaluations.map((e) => e.round ?? 0), [0, 1]);
  assert.equal(t.evaluations[0]!.worstLeaf!.addr, leaf);
  assert.ok(!t.nodes.includes(leaf), JSON.stringify(t.nodes));
  assert.deepEqual(t.stragglers, []);
  assert.ok(leafDelays(t.evaluations[1]!.worstLeaf)!.p90Us < 1000);
  const stage = t.stages.find((s) => s.round === 1)!;
  assert.equal(stage.parent, t.nodes[2]);
  // The parent's two children and two fresh candidates (K = 4).
  assert.equal(stage.candidates.length, 4);
  assert.deepEqual(t.rebuilds!.map((b) => [b.round, b.worstLeaf]), [[1, leaf]]);
  assert.ok(t.rebuilds![0]!.before.includes(leaf));
  assert.ok(!t.rebuilds![0]!.after.includes(leaf));
  assertResultsSchema(JSON.parse(JSON.stringify(r)));
  assert.deepEqual(r.summary!.rows.map((x) => x.kind), [
    "RANDOM",
    "RANDOM rebuild 1",
  ]);
});

Deno.test("REBUILD: 0 rounds (the default) evaluates once, as before", async () => {
  const r = await setup("trees: [{ type: BEST, strategy: P90 }]").exp.run();
  assert.deepEqual(r.trees[0]!.evaluations.map((e) => e.round), [undefined]);
  assert.equal(r.trees[0]!.rebuilds, undefined);
});

Deno.test("root: probe: the candidates whose streams had the lowest p90 become the roots", async () => {
  const { exp, workers } = setup(
    "trees: [{ type: BEST, strategy: P90 }]\nroot_probe: { candidates: 6, sample: 3 }\nroots: 2",
    { root: "probe" },
  );
  // Worker i's streams take 500 i us longer: the lower, the better root.
  A.forEach((a, i) => (workers.sendDelay[a] = 500 * i));
  const r = await exp.run();
  assert.equal(r.status, "complete");
  const p = r.rootProbe!;
  assert.equal(p.stages.length, 6);
  assert.ok(p.stages.every((st) => st.candidates.length === 3));
  const probed = A.filter((a) => a in p.scores);
  assert.equal(probed.length, 6);
  assert.deepEqual(p.chosen, probed.slice(0, 2));
  assert.deepEqual(r.trees.map((t) => t.root).sort(), [...p.chosen].sort());
  assertResultsSchema(JSON.parse(JSON.stringify(r)));
});
