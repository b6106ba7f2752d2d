/**
 * A fault costs a job, never the run: workers that stop answering, pause,
 * answer late or refuse, on the fake workers and clock (no processes, no
 * real waiting). Each is named in the results with its reason; every way
 * out of a run stops the jobs it started.
 */
import assert from "node:assert/strict";
import { Interrupted } from "../core/cli.ts";
import { assertResultsSchema } from "../tests/helpers/schema.ts";
import { A, setup } from "./_testing.ts";
import { culprit } from "./probing.ts";

/** Calls `hook` once, when the first stage at `depth` is reported on. */
function atStage(
  s: ReturnType<typeof setup>,
  depth: number,
  hook: (parent: string, candidates: string[]) => void,
): void {
  let done = false;
  const orig = s.workers.report.bind(s.workers);
  s.workers.report = (addr, id) => {
    const last = s.events.findLast((e) => e.kind === "stage-start");
    if (!done && last?.kind === "stage-start" && last.depth === depth) {
      done = true;
      hook(last.parents[0]!, last.sets[0]!);
    }
    return orig(addr, id);
  };
}

Deno.test("a parent paused mid-stage (silent, its port open) is named paused and replaced; the run completes", async () => {
  const s = setup("trees: [{ type: BEST, strategy: P90 }]");
  let victim = "";
  atStage(s, 1, (parent) => s.workers.paused.add(victim = parent));
  const r = await s.exp.run();
  assert.equal(r.status, "complete");
  assert.deepEqual(r.lost.map((l) => [l.addr, l.reason, l.during]), [
    [victim, "paused", "stage"],
  ]);
  assert.ok(!r.trees[0]!.nodes.includes(victim));
  assert.equal(r.trees[0]!.nodes.filter((n) => n).length, 7);
  assertResultsSchema(JSON.parse(JSON.stringify(r)));
});

Deno.test("a dead parent (its port closed) is named lost, not paused", async () => {
  const s = setup("trees: [{ type: BEST, strategy: P90 }]");
  let victim = "";
  atStage(s, 1, (parent) => s.workers.dead.add(victim = parent));
  const r = await s.exp.run();
  assert.deepEqual(r.lost.map((l) => [l.addr, l.reason]), [[victim, "lost"]]);
});

Deno.test("a candidate whose job never ends: at the deadline it is named late, the stage is scored with the others, the job stopped", async () => {
  const s = setup("trees: [{ type: BEST, strategy: P90 }]");
  let victim = "";
  atStage(s, 0, (_, candidates) => s.workers.hung.add(victim = candidates[0]!));
  const r = await s.exp.run();
  assert.equal(r.status, "complete");
  assert.deepEqual(r.lost.map((l) => [l.addr, l.reason]), [[victim, "late"]]);
  const t = r.trees[0]!;
  assert.equal(t.status, "complete");
  assert.ok(!t.nodes.includes(victim));
  // The root's stage kept two of the three candidates that reported.
  const first = t.stages[0]!;
  assert.equal(first.candidates.filter((c) => c.kept).length, 2);
  assert.equal(first.candidates.find((c) => c.addr === victim)?.kept, false);
  // Its parent's job, the root's, was stopped.
  assert.equal(s.workers.stops.length, 1);
  assert.equal(s.workers.stops[0]!.addr, A[0]);
});

Deno.test("a parent that refuses its stage is named refused and replaced; the run completes", async () => {
  const s = setup("trees: [{ type: BEST, strategy: P90 }]");
  let victim = "";
  const orig = s.workers.command.bind(s.workers);
  s.workers.command = (addr, cmd) => {
    const last = s.events.findLast((e) => e.kind === "stage-start");
    if (!victim && last?.kind === "stage-start" && last.depth === 1) {
      s.workers.refusing.add(victim = last.parents[0]!);
    }
    return orig(addr, cmd);
  };
  const r = await s.exp.run();
  assert.equal(r.status, "complete");
  assert.deepEqual(r.lost.map((l) => [l.addr, l.reason]), [[
    victim,
    "refused",
  ]]);
  assert.match(r.lost[0]!.detail, /Refused for the test/);
  assert.ok(!r.trees[0]!.nodes.includes(victim));
});

Deno.test("a stage that fails again after its retry fails its tree only: the next tree completes", async () => {
  const s = setup("trees: [{ type: BEST, strategy: P90 }, { type: RANDOM }]");
  // Every depth-1 parent of the BEST tree refuses: node 1's stage fails,
  // its replacement's too.
  const orig = s.workers.command.bind(s.workers);
  s.workers.command = (addr, cmd) => {
    const refuse = cmd.flag === "PARENT" && addr !== A[0];
    if (refuse) s.workers.refusing.add(addr);
    return orig(addr, cmd).finally(() => s.workers.refusing.delete(addr));
  };
  const r = await s.exp.run();
  assert.equal(r.status, "complete");
  const [best, random] = r.trees;
  assert.equal(best!.status, "failed");
  assert.match(best!.error!, /: the stage of node \d failed 2 times; last: /);
  // Both depth-1 parents of the first batch, then node 1's replacement.
  assert.equal(r.lost.length, 3);
  assert.ok(r.lost.every((l) => l.reason === "refused"));
  assert.equal(random!.status, "complete", String(random!.error));
  assertResultsSchema(JSON.parse(JSON.stringify(r)));
});

Deno.test("a leaf whose job never ends during MCAST: the evaluation is counted with what reported, the leaf named late", async () => {
  const s = setup("trees: [{ type: RANDOM }]");
  let victim = "";
  const orig = s.workers.command.bind(s.workers);
  s.workers.command = (addr, cmd) => {
    if (cmd.flag === "MCAST") {
      s.workers.hung.add(victim = cmd.subtrees[0]!.children[0]!.addr);
    }
    return orig(addr, cmd);
  };
  const r = await s.exp.run();
  const t = r.trees[0]!, ev = t.evaluations[0]!;
  assert.equal(t.status, "complete");
  assert.equal(ev.error, undefined);
  assert.deepEqual(ev.missing, [victim]);
  assert.equal(
    ev.nodes.filter((n) => n.role === "leaf" && n.stats).length,
    3,
  );
  assert.deepEqual(r.lost.map((l) => [l.addr, l.reason, l.during]), [
    [victim, "late", "evaluation"],
  ]);
  assert.deepEqual(s.workers.stops.map((x) => x.addr), [t.root]);
});

Deno.test("an error that ends the run stops every job it started and has not collected", async () => {
  const s = setup("trees: [{ type: BEST, strategy: P90 }]");
  let started = "";
  s.workers.report = (addr, id) => {
    started = `${addr} ${id}`;
    return Promise.reject(new Error("a bug in the manager"));
  };
  await assert.rejects(s.exp.run(), /a bug in the manager/);
  assert.equal(s.exp.results.status, "failed");
  assert.deepEqual(s.workers.stops.map((x) => `${x.addr} ${x.id}`), [started]);
});

Deno.test("an interruption stops every job it started and has not collected", async () => {
  const stop = new AbortController();
  const s = setup("trees: [{ type: BEST, strategy: P90 }]", {
    signal: stop.signal,
  });
  const orig = s.workers.command.bind(s.workers);
  let started = "";
  s.workers.command = async (addr, cmd) => {
    const job = await orig(addr, cmd);
    started = `${addr} ${job.id}`;
    stop.abort();
    return job;
  };
  await assert.rejects(s.exp.run(), Interrupted);
  assert.equal(s.exp.results.status, "interrupted");
  assert.deepEqual(s.workers.stops.map((x) => `${x.addr} ${x.id}`), [started]);
});

Deno.test("who a relay's error is about: a proxy that answered it could start none of its children is not blamed, the child its relay named is", () => {
  const err = 'Lost: Worker "P:1" answered with an error: Cannot start ' +
    'the subtree job on "C:2": Worker "C:2" did not answer 2 requests';
  assert.deepEqual(culprit("P:1", err), { addr: "C:2", reason: "lost" });
  assert.deepEqual(
    culprit("P:1", 'Lost: Worker "P:1" did not answer 2 requests'),
    { addr: "P:1", reason: "lost" },
  );
  // Nested: the worker named last is the one.
  const nested = 'Cannot start the subtree job on "P:1": Worker "P:1" ' +
    'answered with an error: Cannot start the child job on "C:2": timeout';
  assert.deepEqual(culprit("P:1", nested), { addr: "C:2", reason: "lost" });
  // One that answered with the error refused.
  const refused = 'Cannot start the child job on "C:2": Worker "C:2" ' +
    "answered with an error: busy";
  assert.deepEqual(culprit("C:2", refused), { addr: "C:2", reason: "refused" });
  assert.deepEqual(
    culprit("P:1", 'Lost: Worker "P:1" answered with an error: busy'),
    { addr: "P:1", reason: "refused" },
  );
});
