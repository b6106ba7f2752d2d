import { createProgress } from "./progress.ts";
import type { Results } from "./results.ts";
const r: Results = JSON.parse(Deno.readTextFileSync("tests/fixtures/results_demo.json"));
const p = createProgress({ isTerminal: Deno.stderr.isTerminal(), plan: {evalRuns: 1, stageMs: 600, evalMs: 800} });
const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));
p.onEvent({ kind: "connect", results: r.workers });
for (const [i, t] of r.trees.slice(0, 2).entries()) {
  p.onEvent({ kind: "tree-start", tree: t, index: i, total: 2 });
  for (const s of t.stages) {
    p.onEvent({ kind: "stage-start", tree: t, depth: s.depth, parents: [s.parent], candidates: 5, expectedMs: 600 });
    await sleep(700);
    p.onEvent({ kind: "stage-done", tree: t, stages: [s] });
  }
  p.onEvent({ kind: "eval-start", tree: t, run: 1, expectedMs: 800 });
  await sleep(900);
  p.onEvent({ kind: "eval-done", tree: t, evaluation: t.evaluations[0]! });
  p.onEvent({ kind: "tree-done", tree: t, index: i, total: 2 });
}
p.close();
console.log("after close");
