import assert from "node:assert/strict";
import * as hdr from "hdr-histogram-js";
import { emptyJob, type Job, type ProbeStats } from "../proto/codec.ts";
import { leafDelays } from "../core/results.ts";
import { stats as fakeStats } from "./_testing.ts";
import { evaluationFromReport, leafScore, lossShare } from "./eval_nodes.ts";

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

/** Stats of a leaf that received delays 1..received µs and lost `lost`. */
function lossy(received: number, lost: number): ProbeStats {
  const h = hdr.build({ useWebAssembly: false });
  for (let us = 1; us <= received; us++) h.recordValue(us * 1000);
  const at = (p: number) => h.getValueAtPercentile(p) / 1000;
  const s = {
    ...fakeStats(at(90)),
    received,
    lost,
    p99Us: at(99),
    p999Us: at(99.9),
    maxUs: received,
    histogram: hdr.encodeIntoCompressedBase64(h),
  };
  h.destroy();
  return s;
}

/** The report with leaf `a`'s, `b`'s... statistics replaced. */
function withLeaves(leaves: Record<string, ProbeStats>): Job {
  const r = report({});
  const visit = (j: Job) => {
    if (leaves[j.owner]) j.stats = leaves[j.owner]!;
    j.deps.forEach(visit);
  };
  visit(r);
  return r;
}

Deno.test("a leaf's score is its p90 over every message sent, the lost ones infinitely late", () => {
  assert.equal(leafScore(fakeStats(120)), 120, "no loss: its p90");
  // 950 received (1..950 us), 50 lost: the 900th of 1000 is 900 us.
  const five = lossy(950, 50);
  assert.ok(five.p90Us < 860, `its received p90 is ${five.p90Us}`);
  assert.ok(Math.abs(leafScore(five) - 900) <= 1, `${leafScore(five)}`);
  assert.equal(leafScore(lossy(880, 120)), Infinity, "over 10 % lost");
  assert.equal(lossShare(lossy(880, 120)), 0.12);
  // 27 of 30 received: the 27th of 30 is the last received (not past it).
  assert.equal(leafScore(lossy(27, 3)), 27);
  // Without a histogram: the smallest reported percentile at or above it.
  assert.equal(leafScore({ ...five, histogram: "" }), five.p99Us);
});

Deno.test("a leaf that lost 5 % is the worst leaf over one with a higher p90 that lost nothing", () => {
  const five = lossy(950, 50);
  const ev = evaluationFromReport(
    withLeaves({ a: five, b: fakeStats(870), c: fakeStats(200) }),
    OPTS,
  );
  const w = leafDelays(ev.worstLeaf)!;
  assert.equal(w.addr, "a");
  assert.equal(w.p90Us, five.p90Us, "its delays are still its received p90");
  assert.equal(w.lossShare, 0.05);
  assert.ok(w.p90SentUs! > 870);
});

Deno.test("leaves that lost over 10 % rank above every other leaf, by their loss", () => {
  const ev = evaluationFromReport(
    withLeaves({
      a: lossy(850, 150),
      b: lossy(700, 300),
      c: fakeStats(5000),
    }),
    OPTS,
  );
  const w = leafDelays(ev.worstLeaf)!;
  assert.equal(w.addr, "b");
  assert.equal(w.lossShare, 0.3);
  assert.equal(w.p90SentUs, null);
});

Deno.test("the worst leaf says how many of its delays were negative and counted as 0", () => {
  const ev = evaluationFromReport(
    withLeaves({ b: { ...fakeStats(900), negative: 7 } }),
    OPTS,
  );
  assert.equal(leafDelays(ev.worstLeaf)?.negative, 7);
  const clean = evaluationFromReport(report({}), OPTS);
  assert.equal(leafDelays(clean.worstLeaf)?.negative, undefined);
});
