/**
 * The step queue with fake workers and a fake clock: no processes, no real
 * waiting. Deadlines are crossed by advancing the injected clock.
 */
import assert from "node:assert/strict";
import type { Command } from "../proto/codec.ts";
import { leafDelays } from "../core/results.ts";
import { A, setup } from "./_testing.ts";
import { slowedBy } from "./experiment.ts";

Deno.test("BEST keeps the fastest, WORST the slowest, RANDOM draws; parallel stages share a batch", async () => {
  const slow = [A[9]!, A[10]!, A[11]!];
  const { exp } = setup(
    "trees: [{ type: BEST, strategy: P90 }, { type: WORST, strategy: P90 }, { type: RANDOM }]",
    { slow },
  );
  const r = await exp.run();
  assert.equal(r.status, "complete");
  const [best, worst, rand] = r.trees;
  assert.ok(
    best!.nodes.every((n) => !slow.includes(n!)),
    JSON.stringify(best!.nodes),
  );
  assert.ok(worst!.nodes.filter((n) => slow.includes(n!)).length >= 2);
  assert.equal(rand!.stages.length, 0);
  assert.equal(new Set(rand!.nodes).size, 7);
  // Depth 1: two parents x 4 candidates fit the 9 free workers: one batch.
  const d1 = best!.stages.filter((s) => s.depth === 1);
  assert.equal(d1.length, 2);
  assert.equal(d1[0]!.batch, d1[1]!.batch);
  for (const t of r.trees) {
    assert.equal(
      t.evaluations[0]!.nodes.filter((n) => n.role === "leaf").length,
      4,
    );
  }
  assert.ok(
    leafDelays(best!.evaluations[0]!.worstLeaf)!.p90Us <
      leafDelays(worst!.evaluations[0]!.worstLeaf)!.p90Us,
  );
});

Deno.test("a stage that never completes: at its deadline on the injected clock its parent is marked late and its job stopped; the tree fails, the run completes", async () => {
  const { exp, workers, clock } = setup(
    "trees: [{ type: BEST, strategy: P90 }]",
  );
  workers.stuck = true;
  const t0 = clock.now();
  const real0 = performance.now();
  const r = await exp.run();
  // warm-up 1 s + duration 2 s + margin 0.05 s + job_grace 5 s, then one
  // poll (0.05 s).
  const waited = clock.now() - t0;
  assert.ok(waited > 8050 && waited < 8300, `waited ${waited} ms of fake time`);
  assert.ok(performance.now() - real0 < 1000, "no real waiting");
  assert.equal(r.status, "complete");
  const root = A[0]!;
  assert.deepEqual(r.lost.map((l) => [l.addr, l.reason]), [[root, "late"]]);
  assert.match(
    r.lost[0]!.detail,
    /a PARENT stage did not complete within its timeout \(waiting for: parent job \S+ on \S+ still running\)$/,
  );
  // The root's stage was its tree's first job: the only one, and stopped.
  const [started] = workers.log;
  assert.equal(workers.stops.length, 1);
  assert.equal(workers.stops[0]!.addr, started!.addr);
  assert.equal(r.trees[0]!.status, "failed");
  assert.match(r.trees[0]!.error!, /^The root "\S+" was lost: /);
});

Deno.test("a parent lost during its stage is replaced by the next-best free candidate", async () => {
  const { exp, workers, events } = setup(
    "trees: [{ type: BEST, strategy: P90 }]",
  );
  let victim = "";
  const origReport = workers.report.bind(workers);
  workers.report = (addr, id) => {
    const starts = events.filter((e) => e.kind === "stage-start");
    const last = starts[starts.length - 1];
    if (!victim && last?.kind === "stage-start" && last.depth === 1) {
      victim = last.parents[0]!;
      workers.dead.add(victim);
    }
    return origReport(addr, id);
  };
  const r = await exp.run();
  assert.equal(r.status, "complete");
  const t = r.trees[0]!;
  assert.ok(!t.nodes.includes(victim));
  const rootStage = t.stages[0]!;
  const nextBest = rootStage.candidates.filter((c) => !c.kept).sort((a, b) =>
    a.score! - b.score!
  )[0]!;
  // The victim was node 1 (the first depth-1 parent): its place went to the
  // best candidate the root did not keep.
  assert.equal(t.nodes[1], nextBest.addr);
  assert.deepEqual(r.lost.map((l) => l.addr), [victim]);
});

Deno.test("a parent that restarted during its stage (its job gone) is replaced; the run goes on", async () => {
  const { exp, workers, events } = setup(
    "trees: [{ type: BEST, strategy: P90 }, { type: RANDOM }]",
  );
  let victim = "";
  const origReport = workers.report.bind(workers);
  workers.report = (addr, id) => {
    const last = events.findLast((e) => e.kind === "stage-start");
    if (!victim && last?.kind === "stage-start" && last.depth === 1) {
      victim = last.parents[0]!;
      workers.restarted.add(victim);
    }
    return origReport(addr, id);
  };
  const r = await exp.run();
  assert.equal(r.status, "complete", String(r.error));
  assert.ok(victim);
  assert.ok(!r.trees[0]!.nodes.includes(victim));
  assert.equal(r.trees[0]!.nodes.filter((n) => n).length, 7);
  assert.deepEqual(r.lost.map((l) => [l.addr, l.during]), [[victim, "stage"]]);
  assert.match(r.lost[0]!.detail, /restarted/);
  assert.equal(r.trees[1]!.status, "complete");
});

Deno.test("a candidate that cannot be started is marked lost and the stage drawn again", async () => {
  const { exp, workers } = setup("trees: [{ type: BEST, strategy: P90 }]");
  // Admitted at CONNECT, dead when the first stage's parent relays to it.
  const stages: Command[] = [];
  const origCommand = workers.command.bind(workers);
  workers.command = (addr, cmd) => {
    if (cmd.flag === "PARENT") {
      if (stages.length === 0) workers.dead.add(cmd.addrs[0]!);
      stages.push(cmd);
    }
    return origCommand(addr, cmd);
  };
  const r = await exp.run();
  const victim = stages[0]!.addrs[0]!;
  assert.equal(r.status, "complete");
  assert.equal(r.workers.find((w) => w.addr === victim)?.status, "ok");
  assert.deepEqual(r.lost.map((l) => [l.addr, l.during]), [[victim, "stage"]]);
  assert.ok(!r.trees[0]!.nodes.includes(victim));
  // The root's stage was drawn again, without the victim.
  const again = stages[1]!;
  assert.equal(again.instr, stages[0]!.instr);
  assert.ok(!again.addrs.includes(victim));
});

Deno.test("a pool that runs dry fails its tree with a clear error; the run and the tree before it complete", async () => {
  const { exp, workers } = setup(
    "trees: [{ type: RANDOM }, { type: BEST, strategy: P90 }]",
  );
  // At the second tree's first stage six workers stop answering: five are
  // left for a tree of seven.
  const origCommand = workers.command.bind(workers);
  let killed = false;
  workers.command = (addr, cmd) => {
    if (cmd.flag === "PARENT" && !killed) {
      killed = true;
      for (const a of A.slice(6)) workers.dead.add(a);
    }
    return origCommand(addr, cmd);
  };
  const r = await exp.run();
  assert.equal(r.status, "complete");
  assert.equal(r.trees[0]!.status, "complete");
  assert.equal(r.trees[1]!.status, "failed");
  assert.match(
    r.trees[1]!.error!,
    /^BEST-P90: the pool has \d+ live workers left, too few to finish the tree \(lost: "[^"]+"(, "[^"]+")*\)$/,
  );
});

Deno.test("a worker emulating delay or loss is a straggler; one whose only emulation is a clock offset is not", () => {
  assert.equal(slowedBy("delay=5ms,jitter=100us"), true);
  assert.equal(slowedBy("offset=300us,loss=0.01"), true);
  assert.equal(slowedBy("offset=-1ms"), false);
  assert.equal(slowedBy(""), false);
  assert.equal(slowedBy(undefined), false);
});

for (const when of ["before", "after"] as const) {
  Deno.test(`a root lost ${when} its MCAST command starts: the evaluation fails its tree, the root is recorded lost, the next tree from it fails`, async () => {
    const { exp, workers } = setup(
      "trees: [{ type: BEST, strategy: P90 }, { type: RANDOM }]",
    );
    const origCommand = workers.command.bind(workers);
    let victim = "";
    workers.command = async (addr, cmd) => {
      if (cmd.flag !== "MCAST" || victim) return origCommand(addr, cmd);
      victim = addr;
      if (when === "before") workers.dead.add(addr);
      const job = await origCommand(addr, cmd);
      workers.dead.add(addr);
      return job;
    };
    const r = await exp.run().catch(() => exp.results);
    const [best, random] = r.trees;
    assert.equal(best!.status, "failed");
    assert.match(
      best!.error ?? "",
      when === "before"
        ? /^The evaluation could not start: /
        : new RegExp(`^The root "${victim}" was lost: `),
    );
    assert.equal(best!.evaluations[0]!.error, best!.error);
    assert.deepEqual(r.lost.map((l) => [l.addr, l.during, l.tree]), [
      [victim, "evaluation", best!.name],
    ]);
    // The next tree has the same root: it fails at its start.
    assert.equal(random!.status, "failed");
    assert.match(random!.error ?? "", /was lost/);
  });
}
