import assert from "node:assert/strict";
import { leafDelays } from "../core/results.ts";
import { demoResults } from "../tests/fixtures/results_demo.ts";
import type { ExperimentEvent } from "./experiment.ts";
import {
  createProgress,
  formatDuration,
  plannedStages,
  STAGES_SHOWN,
  stagesLeft,
  Tracker,
} from "./progress.ts";
import type { TreeResult } from "./results.ts";

const STAGE_MS = 1800, EVAL_MS = 2300;

/** The demo's events, as the experiment emitted them, each with its time. */
function demoEvents(): { at: number; e: ExperimentEvent }[] {
  const r = demoResults();
  const out: { at: number; e: ExperimentEvent }[] = [];
  let at = 1_000_000;
  out.push({ at, e: { kind: "connect", results: r.workers } });
  r.trees.forEach((tree, index) => {
    const total = r.trees.length;
    out.push({ at, e: { kind: "tree-start", tree, index, total } });
    for (const s of tree.stages) {
      out.push({
        at,
        e: {
          kind: "stage-start",
          tree,
          depth: s.depth,
          parents: [s.parent],
          sets: [s.candidates.map((c) => c.addr)],
          candidates: s.candidates.length,
          expectedMs: STAGE_MS,
        },
      });
      at += 2500;
      out.push({ at, e: { kind: "stage-done", tree, stages: [s] } });
    }
    for (const evaluation of tree.evaluations) {
      out.push({
        at,
        e: {
          kind: "eval-start",
          tree,
          run: evaluation.run,
          expectedMs: EVAL_MS,
        },
      });
      at += 2700;
      out.push({ at, e: { kind: "eval-done", tree, evaluation } });
    }
    out.push({ at, e: { kind: "tree-done", tree, index, total } });
  });
  return out;
}

Deno.test("plain mode: one line per event, no cursor or colour codes", () => {
  let clock = 0;
  const lines: string[] = [];
  const p = createProgress({
    isTerminal: false,
    write: (t) => lines.push(t),
    now: () => clock,
  });
  const events = demoEvents();
  for (const { at, e } of events) {
    clock = at;
    p.onEvent(e);
  }
  p.close();
  assert.equal(lines.length, events.length);
  const text = lines.join("");
  for (const l of lines) assert.match(l, /^[^\n]+\n$/);
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(text, /[\x00-\x09\x0b-\x1f\x7f\x9b]/);
  assert.match(text, /^connect: 12 of 12 workers answered$/m);
  assert.match(
    text,
    /^tree 1\/4 BEST-WEIGHTED: stage 1\/2: 1 parent at depth 0 probe 5 candidates for 1\.8 s; ETA \d+ s$/m,
  );
  assert.match(text, /^tree 3\/4 WORST-P90: stage 3\/3 done: /m);
  const random = leafDelays(demoResults().trees[3]!.evaluations[0]!.worstLeaf)!;
  assert.ok(
    text.includes(
      `\ntree 4/4 RANDOM: evaluation 1/1 done: worst leaf ${random.addr} p90 ` +
        `${random.p90Us.toFixed(1)} us\n`,
    ),
  );
  assert.match(text, /^tree 4\/4 RANDOM: complete$/m);
});

Deno.test("plain mode: a stage of 1,000 parents is one line naming the first few and counting the rest", () => {
  const lines: string[] = [];
  const p = createProgress({ isTerminal: false, write: (t) => lines.push(t) });
  const tree = demoResults().trees[0]!;
  const one = tree.stages[0]!;
  const stages = Array.from({ length: 1000 }, (_, i) => ({
    ...one,
    parent: `10.0.${i >> 8}.${i & 255}:9000`,
  }));
  p.onEvent({ kind: "tree-start", tree, index: 0, total: 1 });
  p.onEvent({ kind: "stage-done", tree, stages });
  p.close();
  const line = lines.at(-1)!;
  assert.match(line, /^[^\n]+\n$/);
  const kept = one.candidates.filter((c) => c.kept).length;
  assert.equal(line.match(/ keeps /g)?.length, STAGES_SHOWN);
  assert.ok(line.includes("10.0.0.3:9000 keeps "));
  assert.ok(!line.includes(`10.0.0.${STAGES_SHOWN}:9000`));
  assert.ok(
    line.includes(
      `; ${1000 - STAGES_SHOWN} more parents keep ${
        (1000 - STAGES_SHOWN) * kept
      } (results.json has them)`,
    ),
  );
  assert.ok(line.length < 1000, `${line.length} characters`);
});

Deno.test("plain mode: lost and readmitted workers get a line each; a lost one says why unless merely lost", () => {
  const lines: string[] = [];
  const p = createProgress({ isTerminal: false, write: (t) => lines.push(t) });
  p.onEvent({
    kind: "lost",
    lost: {
      addr: "10.0.0.7:7000",
      atUs: 0,
      during: "stage",
      tree: "BEST-P90",
      detail: "REPORT timed out after 2 retries",
    },
  });
  p.onEvent({
    kind: "lost",
    lost: {
      addr: "10.0.0.8:7000",
      atUs: 0,
      during: "evaluation",
      detail: "no answer",
      reason: "paused",
    },
  });
  p.onEvent({ kind: "readmitted", addr: "10.0.0.7:7000" });
  assert.deepEqual(lines, [
    "lost worker 10.0.0.7:7000 during BEST-P90 stage: REPORT timed out after 2 retries\n",
    "lost worker 10.0.0.8:7000 (paused) during evaluation: no answer\n",
    "worker 10.0.0.7:7000 answered CONNECT again: admitted\n",
  ]);
});

Deno.test("plain mode: a name with control characters cannot move the cursor", () => {
  const lines: string[] = [];
  const p = createProgress({ isTerminal: false, write: (t) => lines.push(t) });
  const tree = { ...demoResults().trees[0]!, name: "evil\x1b[2J\rname" };
  p.onEvent({ kind: "tree-start", tree, index: 0, total: 1 });
  assert.equal(lines.length, 1);
  assert.ok(lines[0]!.startsWith("tree 1/1 evil[2Jname: building"));
});

/** A stream that looks like a terminal to cli-progress. */
function fakeTty() {
  let text = "";
  return {
    stream: {
      isTTY: true,
      columns: 160,
      write: (s: string) => void (text += s),
    },
    text: () => text,
  };
}

Deno.test("terminal mode: a live bar with tree, stage, job time left and ETA", () => {
  let clock = 0;
  const tty = fakeTty();
  const p = createProgress({
    isTerminal: true,
    stream: tty.stream,
    now: () => clock,
    plan: { evalRuns: 1, stageMs: STAGE_MS, evalMs: EVAL_MS },
  });
  const events = demoEvents();
  for (const { at, e } of events.slice(0, 3)) { // connect, tree-start, stage-start
    clock = at;
    p.onEvent(e);
  }
  clock += 500;
  p.close();
  const text = tty.text();
  assert.match(
    text,
    /tree 1\/4 BEST-WEIGHTED \| stage 1\/2 \| probing, 1 s left \| ETA \d+ s/,
  );
  assert.ok(text.includes("\x1b["), "the live bar redraws with cursor codes");
  // Event lines are kept above the bar.
  assert.match(text, /tree 1\/4 BEST-WEIGHTED: building from root/);
  const after = text.length;
  p.onEvent(events[3]!.e);
  p.close();
  assert.equal(tty.text().length, after, "nothing is drawn once closed");
});

function tree(over: Partial<TreeResult>): TreeResult {
  return { ...demoResults().trees[0]!, ...over };
}

Deno.test("plannedStages: per depth in parallel, per parent otherwise", () => {
  assert.equal(plannedStages(tree({ depth: 3, fanout: 2, parallel: true })), 3);
  assert.equal(
    plannedStages(tree({ depth: 3, fanout: 2, parallel: false })),
    7,
  );
  assert.equal(
    plannedStages(tree({ depth: 4, fanout: 1, parallel: false })),
    4,
  );
  assert.equal(plannedStages(tree({ type: "RANDOM" })), 0);
});

Deno.test("stagesLeft: a batch smaller than its depth shows the pool's limit", () => {
  const t = tree({ depth: 3, fanout: 2, parallel: true });
  // Depth 0 (one parent): no limit seen; depths 1 and 2 one stage each.
  assert.equal(stagesLeft(t, [1], { depth: 0, batch: 1 }), 2);
  // Depth 1 probed 1 of 2 parents at once: 1 more there, then 4 at depth 2.
  assert.equal(stagesLeft(t, [1, 1], { depth: 1, batch: 1 }), 5);
  // Depth 2 in batches of 3: 1 more batch of the 4 parents.
  assert.equal(stagesLeft(t, [1, 2, 3], { depth: 2, batch: 3 }), 1);
});

Deno.test("Tracker: the ETA counts the job left, the stages, runs and trees", () => {
  const t = new Tracker({ evalRuns: 2, stageMs: 1000, evalMs: 2000 });
  assert.equal(t.etaMs(0), undefined);
  const a = tree({ depth: 2, fanout: 2, parallel: true });
  t.update({ kind: "tree-start", tree: a, index: 0, total: 2 }, 0);
  t.update({
    kind: "stage-start",
    tree: a,
    depth: 0,
    parents: ["p"],
    sets: [["a", "b", "c", "d", "e"]],
    candidates: 5,
    expectedMs: 1000,
  }, 0);
  assert.equal(t.stages, 2);
  assert.equal(t.jobLeftMs(400), 600);
  // Before any job finished, jobs are assumed 15% longer than expected.
  const r = 1.15;
  const thisTree = (1000 * r - 400) + 1000 * r + 2 * 2000 * r;
  const nextTree = (2 * 1000 + 2 * 2000) * r;
  assert.ok(Math.abs(t.etaMs(400)! - (thisTree + nextTree)) < 1e-6);
  // A stage that took twice as long doubles the estimates.
  t.update({ kind: "stage-done", tree: a, stages: [] }, 2000);
  assert.equal(t.ratio, 2);
  assert.equal(t.etaMs(2000), 1000 * 2 + 2 * 2000 * 2 + (2000 + 4000) * 2);
});

Deno.test("formatDuration", () => {
  assert.equal(formatDuration(0), "0 s");
  assert.equal(formatDuration(44_600), "45 s");
  assert.equal(formatDuration(185_000), "3 min 05 s");
  assert.equal(formatDuration(3_720_000), "1 h 02 min");
});
