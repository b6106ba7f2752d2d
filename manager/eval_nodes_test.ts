import assert from "node:assert/strict";
import { emptyJob, type Job, type ProbeStats } from "../proto/codec.ts";
import { leafDelays } from "../core/results.ts";
import { stats as fakeStats } from "./_testing.ts";
import { evaluationFromReport } from "./eval_nodes.ts";

function stats(received: number, p90Us: number): ProbeStats {
  return {
    ...fakeStats(p90Us),
    received,
    lost: received === 0 ? 1000 : 0,
    endSeen: received > 0,
  };
}

/** Root r, proxies p1 and p2, leaves a, b (under p1) and c, d (under p2). */
function report(received: Record<string, number>): Job {
  const leaf = (owner: string, p90: number) =>
    emptyJob({
      owner,
      flag: "CHILD",
      end: true,
      stats: stats(received[owner] ?? 1000, p90),
    });
  const proxy = (owner: string, deps: Job[]) =>
    emptyJob({ owner, flag: "PROXY", end: true, deps, stats: stats(1000, 50) });
  return emptyJob({
    owner: "r",
    flag: "MCAST",
    end: true,
    sender: {
      sent: 1000,
      children: 2,
      lateShare: 0,
      latenessP50Us: 0,
      latenessP99Us: 0,
      latenessMaxUs: 0,
    },
    deps: [
      proxy("p1", [leaf("a", 100), leaf("b", 900)]),
      proxy("p2", [leaf("c", 200), leaf("d", 300)]),
    ],
  });
}

const OPTS = {
  run: 1,
  root: "r",
  treeNodes: ["r", "p1", "p2", "a", "b", "c", "d"],
  startedUs: 0,
  finishedUs: 1,
};

Deno.test("a leaf that reported no packets is listed as silent with why, and is the worst leaf", () => {
  const ev = evaluationFromReport(report({ c: 0 }), OPTS);
  assert.deepEqual(ev.missing, []);
  assert.deepEqual(ev.silent?.map((s) => s.addr), ["c"]);
  assert.match(ev.silent![0]!.reason, /received no packets/);
  assert.match(ev.silent![0]!.reason, /END/);
  // b has the highest p90 of the leaves that received, but c got nothing.
  assert.equal(ev.worstLeaf?.addr, "c");
  assert.equal(ev.worstLeaf?.silent, ev.silent![0]!.reason);
  assert.equal(leafDelays(ev.worstLeaf), undefined);
});

Deno.test("without a silent leaf the worst leaf is the highest p90, with its delays", () => {
  const ev = evaluationFromReport(report({}), OPTS);
  assert.deepEqual(ev.silent, []);
  assert.equal(ev.worstLeaf?.addr, "b");
  assert.equal(leafDelays(ev.worstLeaf)?.p90Us, 900);
});
