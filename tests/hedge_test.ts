import assert from "node:assert/strict";
import { Manager } from "../manager/manager.ts";
import { hedgeEdges } from "../manager/hedge.ts";
import { Tree } from "../manager/tree.ts";
import { emptyCommand, type Job } from "../proto/codec.ts";
import { randomDepthOf, runHedged } from "./helpers/hedged.ts";
import { startTestbed } from "./helpers/testbed.ts";

Deno.test("a hedged MCAST (depth 2, fanout 2, hedge 1): each leaf gets every message from its parent and its parent's sibling, counting one duplicate per message", async () => {
  const bed = await startTestbed(7);
  const m = new Manager({ timeoutMs: 5000, retries: 1 });
  try {
    // The run's roster: a COMMAND names only workers it connected.
    await m.connect(bed.addrs);
    const tree = new Tree({ depth: 2, fanout: 2 });
    tree.setRoot(bed.addrs[0]!);
    tree.addChildren(0, bed.addrs.slice(1, 3));
    tree.addChildren(1, bed.addrs.slice(3, 5));
    tree.addChildren(2, bed.addrs.slice(5, 7));
    tree.setHedges(
      hedgeEdges({ depth: 2, fanout: 2, hedge: 1, type: "BEST", seed: 1 }),
    );
    const sub = tree.subtree(0);
    assert.deepEqual(sub.children[0]!.hedges, bed.addrs.slice(5, 7));
    const job = await m.command(
      bed.addrs[0]!,
      emptyCommand({
        flag: "MCAST",
        layer: 2,
        rate: 500,
        dur: 800,
        warmup: 100,
        timeout: 15_000,
        record: true,
        addrs: sub.children.map((c) => c.addr),
        subtrees: sub.children,
      }),
    );
    let report;
    for (let i = 0; i < 80; i++) {
      await new Promise((r) => setTimeout(r, 250));
      report = await m.report(bed.addrs[0]!, job.id, { layers: 2 });
      if (report.complete) break;
    }
    assert.ok(report?.complete, "the evaluation did not complete");
    const root = report!.job;
    assert.equal(root.ret, 0, root.error);
    const proxies = root.deps;
    assert.deepEqual(proxies.map((p) => p.owner), bed.addrs.slice(1, 3));
    const leaves: Job[] = proxies.flatMap((p) => p.deps);
    assert.equal(leaves.length, 4);
    for (const l of leaves) {
      assert.equal(l.ret, 0, l.error);
      const s = l.stats!;
      assert.ok(s.received >= 350, `${l.owner} received ${s.received}`);
      // Every message came twice (from its parent and its hedge parent);
      // a loaded machine loses a few copies (or the leaf stops on the first
      // END before the last ones come): most, never more than one a message.
      assert.ok(
        s.duplicates >= 0.5 * s.received && s.duplicates <= s.received,
        `${l.owner}: ${s.duplicates} duplicates of ${s.received} messages`,
      );
    }
    for (const p of proxies) {
      // Its own 2 children and its sibling's 2: 4 destinations a message.
      assert.ok(p.forward!.forwarded > 0);
    }
  } finally {
    m.close();
    await bed.stop();
  }
});

Deno.test({
  name:
    "a script with hedge: 1 evaluates a RANDOM tree whose nodes below depth 1 each have two parents, its leaves counting duplicates; randomDepthOf predicts where the draw put each worker",
  sanitizeResources: false,
  fn: async () => {
    const results = await runHedged({ hedge: 1, seed: 3 });
    const t = results.trees[0]!;
    assert.equal(t.status, "complete", t.error ?? "");
    assert.equal(t.hedge, 1);
    const parents = new Map<string, string[]>();
    for (const [from, to] of [...t.edges, ...t.hedges ?? []]) {
      parents.set(to, [...parents.get(to) ?? [], from]);
    }
    const [root, a, b, ...leaves] = t.nodes as string[];
    assert.deepEqual(parents.get(a!), [root]);
    assert.deepEqual(parents.get(b!), [root]);
    for (const l of leaves) {
      assert.deepEqual(new Set(parents.get(l)), new Set([a, b]), l);
    }
    const { nodes, missing } = t.evaluations[0]!;
    assert.deepEqual(missing, [], "workers lost during the evaluation");
    // The bench places its stragglers by this prediction of the draw.
    const addrs = t.nodes as string[];
    for (const n of nodes) {
      const at = randomDepthOf(
        addrs,
        { seed: 3, depth: 2, fanout: 2 },
        addrs.indexOf(n.addr),
      );
      assert.equal(at, n.depth, `${n.addr}'s depth`);
    }
    for (const l of leaves) {
      const s = nodes.find((n) => n.addr === l)!.stats!;
      assert.ok(s.received > 0, `${l} received nothing`);
      assert.ok(
        s.duplicates >= 0.5 * s.received && s.duplicates <= s.received,
        `${l}: ${s.duplicates} duplicates of ${s.received} messages`,
      );
    }
  },
});
