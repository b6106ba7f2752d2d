/**
 * `treecast demo --virtual N`: the real manager against a virtual pool of N
 * workers (`pool.ts`), on a script shaped for N (`virtualScript`); prints
 * which VMs the model made stragglers and, from the results, how many of
 * them each tree kept.
 *
 * @module
 */
import { stdio } from "../../core/cli.ts";
import type { Results } from "../../core/results.ts";
import { runScript } from "../../manager/cli.ts";
import { parseScript } from "../../manager/script.ts";
import { startVirtualPool, steadyRoot } from "./pool.ts";

/** Nodes of a tree of depth `d`, fanout `f`. */
function _nodes(d: number, f: number): number {
  let n = 1;
  for (let i = 1, w = 1; i <= d; i++) n += w *= f;
  return n;
}

/**
 * The tree shape for `n` workers: the largest of a fixed ladder that takes
 * at most half of them (so that there is a choice to make), else the
 * smallest.
 */
export function virtualShape(
  n: number,
): { depth: number; fanout: number; hyperparameter: number } {
  const ladder = [[3, 10], [2, 10], [2, 5], [3, 2], [2, 2]] as const;
  const [depth, fanout] = ladder.find(([d, f]) => 2 * _nodes(d, f) <= n) ??
    [2, 2];
  // Candidates per parent: what the last depth's parents can all draw at
  // once from what is left (so each depth is one batch), at most 2F.
  const left = n - _nodes(depth - 1, fanout);
  const parents = fanout ** (depth - 1);
  const hyperparameter = Math.max(
    fanout,
    Math.min(2 * fanout, Math.floor(left / parents)),
  );
  return { depth, fanout, hyperparameter };
}

/** Options of {@link virtualScript}. */
export interface VirtualScriptOptions {
  addrs: string[];
  root: string;
  seed: number;
  /** Tree lines (default BEST P90, WORST P90, RANDOM). */
  trees?: string[];
  /** Deadline of each request, s (default 10). */
  requestTimeoutS?: number;
  /** The tree's shape (default {@link virtualShape}'s for the workers). */
  shape?: { depth: number; fanout: number; hyperparameter: number };
  /** The evaluation's stream (default 1,000 messages/s for 1 s). */
  evaluation?: { rate: number; durationS: number };
}

/**
 * The script of a virtual pool: short streams (stages 0.5 s at 1,000 pps
 * after 0.1 s of warm-up; one evaluation of 1 s after 0.2 s), so that a
 * thousand leaves cost the model about a million message draws.
 */
export function virtualScript(o: VirtualScriptOptions): string {
  const { depth, fanout, hyperparameter } = o.shape ??
    virtualShape(o.addrs.length);
  const trees = o.trees ??
    [
      "{ type: BEST, strategy: P90 }",
      "{ type: WORST, strategy: P90 }",
      "{ type: RANDOM }",
    ];
  return `# Written by treecast demo --virtual: ${o.addrs.length} virtual workers.
name: virtual
description: Virtual pool of ${o.addrs.length} workers in one process, seeded network model.
seed: ${o.seed}
addrs:
${o.addrs.map((a) => `  - "${a}"`).join("\n")}
depth: ${depth}
fanout: ${fanout}
hyperparameter: ${hyperparameter}
rate: 1000
duration: 500ms
warmup: 100ms
evaluation:
  rate: ${o.evaluation?.rate ?? 1000}
  duration: ${o.evaluation?.durationS ?? 1}s
  warmup: 200ms
  runs: 1
root: "${o.root}"
trees:
${trees.map((t) => `  - ${t}`).join("\n")}
timeouts:
  request: ${o.requestTimeoutS ?? 10}
  retries: 1
  job_grace: 10
`;
}

/** What `treecast demo --virtual` was asked. */
export interface VirtualPlan {
  workers: number;
  seed: number;
  /** Share of stragglers. */
  stragglers: number;
  out: string;
  /** Tree lines and shape of the script (default {@link virtualScript}'s). */
  trees?: string[];
  shape?: VirtualScriptOptions["shape"];
  evaluation?: VirtualScriptOptions["evaluation"];
}

/** Lines naming, per tree, how many stragglers it kept. */
export function keptLines(results: Results): string[] {
  return results.trees.map((t) =>
    `demo: ${t.name} (${t.type}) kept ${t.stragglers.length} straggler${
      t.stragglers.length === 1 ? "" : "s"
    } among ${t.nodes.filter((n) => n !== null).length} nodes${
      t.status === "complete" ? "" : ` (${t.status})`
    }`
  );
}

/** Runs the virtual demo; resolves to the manager's exit code. */
export async function runVirtualDemo(plan: VirtualPlan): Promise<number> {
  return (await runVirtual(plan)).code;
}

/**
 * Starts the pool, writes the script into `plan.out`, runs the manager on
 * it, prints how many stragglers each tree kept and stops the pool;
 * resolves to the exit code, the results and the script's addresses.
 * A failed run rejects as the manager's run does.
 */
export async function runVirtual(
  plan: VirtualPlan,
): Promise<{ code: number; results: Results; addrs: string[] }> {
  stdio.err(
    `demo: starting ${plan.workers} virtual workers (seed ${plan.seed}, ${
      (plan.stragglers * 100).toFixed(1)
    } % stragglers)\n`,
  );
  const pool = await startVirtualPool({
    workers: plan.workers,
    seed: plan.seed,
    stragglers: plan.stragglers,
    relayTimeoutMs: 5000,
  });
  try {
    const root = steadyRoot(pool);
    const text = virtualScript({
      addrs: pool.addrs,
      root,
      seed: plan.seed,
      ...(plan.trees ? { trees: plan.trees } : {}),
      ...(plan.shape ? { shape: plan.shape } : {}),
      ...(plan.evaluation ? { evaluation: plan.evaluation } : {}),
    });
    await Deno.mkdir(plan.out, { recursive: true });
    const file = `${plan.out}/virtual.yaml`;
    await Deno.writeTextFile(file, text);
    stdio.out(
      `demo: ${pool.stragglers.length} stragglers: ${
        pool.stragglers.map((s) => `${s.addr} (${s.detail})`).join(", ") ||
        "none"
      }; script ${file}\n`,
    );
    let results: Results | undefined;
    const code = await runScript(parseScript(text, file), {
      out: plan.out,
      testbed: {
        kind: "virtual",
        straggle: "model",
        stragglers: pool.stragglers,
      },
      onEnd: (r) => (results = r),
    }).finally(() => {
      for (const line of results ? keptLines(results) : []) {
        stdio.out(line + "\n");
      }
    });
    return { code, results: results!, addrs: pool.addrs };
  } finally {
    await pool.stop();
    stdio.err(`demo: stopped ${pool.addrs.length} virtual workers\n`);
  }
}
