import assert from "node:assert/strict";
import { Manager } from "../manager/manager.ts";
import { Tree } from "../manager/tree.ts";
import { emptyCommand, type Job } from "../proto/codec.ts";
import { startTestbed } from "./helpers/testbed.ts";

Deno.test("a 7-node MCAST delivers to all 4 leaves through 1 proxy hop; every leaf reaches the manager", async () => {
  const bed = await startTestbed(7);
  const m = new Manager({ timeoutMs: 3000, retries: 1 });
  try {
    // The run's roster: a COMMAND names only workers it connected.
    await m.connect(bed.addrs);
    const tree = new Tree({ depth: 2, fanout: 2 });
    tree.setRoot(bed.addrs[0]!);
    tree.addChildren(0, bed.addrs.slice(1, 3));
    tree.addChildren(1, bed.addrs.slice(3, 5));
    tree.addChildren(2, bed.addrs.slice(5, 7));
    const sub = tree.subtree(0);
    const job = await m.command(
      bed.addrs[0]!,
      emptyCommand({
        flag: "MCAST",
        layer: 2,
        rate: 1000,
        dur: 800,
        warmup: 100,
        timeout: 15_000,
        record: true,
        addrs: sub.children.map((c) => c.addr),
        subtrees: sub.children,
      }),
    );
    assert.equal(job.flag, "MCAST");
    assert.equal(job.deps.length, 2);
    let report;
    for (let i = 0; i < 60; i++) {
      await new Promise((r) => setTimeout(r, 250));
      report = await m.report(bed.addrs[0]!, job.id, { layers: 2 });
      if (report.complete) break;
    }
    assert.ok(report?.complete, "the evaluation did not complete");
    const root = report!.job;
    assert.equal(root.ret, 0, root.error);
    assert.ok(root.sender && root.sender.sent > 0);
    const proxies = root.deps;
    assert.deepEqual(proxies.map((p) => p.owner), bed.addrs.slice(1, 3));
    const leaves: Job[] = proxies.flatMap((p) => p.deps);
    assert.deepEqual(
      leaves.map((l) => l.owner).sort(),
      bed.addrs.slice(3, 7).sort(),
    );
    for (const p of proxies) {
      assert.equal(p.flag, "PROXY");
      assert.ok(p.forward!.forwarded > 0);
      assert.equal(p.stats?.hops, 0, "a proxy receives straight from the root");
    }
    for (const l of leaves) {
      assert.equal(l.flag, "CHILD");
      assert.equal(l.ret, 0, l.error);
      assert.equal(l.stats!.hops, 1, `${l.owner} saw ${l.stats!.hops} hops`);
      assert.ok(
        l.stats!.received >= 700,
        `${l.owner} received ${l.stats!.received}`,
      );
      assert.ok(l.stats!.p50Us > 0);
      assert.ok(l.stats!.histogram.length > 0);
    }
    // A second REPORT for the finished job gives the same results.
    const again = await m.report(bed.addrs[0]!, job.id, { layers: 2 });
    assert.ok(again.complete);
    assert.deepEqual(again.job, root);
  } finally {
    m.close();
    await bed.stop();
  }
});
