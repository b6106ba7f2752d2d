import assert from "node:assert/strict";
import { queueTrees } from "./roots.ts";
import { parseScript } from "./script.ts";
import type { Step, StepContext } from "./step.ts";

/** The steps queueTrees queues for `roots`, as "ACTION tree@root" lines. */
function queued(roots: string[]): string[] {
  const script = parseScript(
    `name: x
addrs: [a:1, b:2, c:3, d:4, e:5, f:6, g:7]
trees:
  - { type: BEST, strategy: P90 }
  - { type: LEMON }
  - { type: WORST, strategy: P90 }
  - { type: RANDOM }
`,
    "t.yaml",
  );
  const steps: Step[] = [];
  const ctx = { script, next: (...s: Step[]) => steps.push(...s) };
  queueTrees(ctx as unknown as StepContext, roots);
  return steps.map((s) =>
    s.action === "ALLTOALL"
      ? `ALLTOALL ${s.runs.map((r) => `${r.spec.name}@${r.root}`).join(",")}`
      : s.action === "ROOT"
      ? `ROOT ${s.run?.spec.name}@${s.run?.root}`
      : s.action
  );
}

Deno.test("trees are queued in the script's order from the first root, reversed from the second, and so on", () => {
  const forward = (r: string) => [
    `ROOT BEST-P90@${r}`,
    `ALLTOALL LEMON@${r}`,
    `ROOT LEMON@${r}`,
    `ROOT WORST-P90@${r}`,
    `ROOT RANDOM@${r}`,
  ];
  const backward = (r: string) => [
    `ROOT RANDOM@${r}`,
    `ROOT WORST-P90@${r}`,
    `ALLTOALL LEMON@${r}`,
    `ROOT LEMON@${r}`,
    `ROOT BEST-P90@${r}`,
  ];
  assert.deepEqual(queued(["a:1", "b:2", "c:3"]), [
    ...forward("a:1"),
    ...backward("b:2"),
    ...forward("c:3"),
  ]);
});
