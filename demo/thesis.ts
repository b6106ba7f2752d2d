/**
 * The thesis's experiment as a script: 25 workers, depth 3, fanout 2,
 * K = 4, BEST under three strategies, WORST, RANDOM and LEMON, 2 roots x 2
 * evaluation runs, one rebuild round. `examples/thesis.yaml` is its cloud
 * form; `treecast demo --thesis` runs {@link thesisScript}, its local form
 * (shorter jobs, lower rates) on local workers.
 *
 * @module
 */

/** Options of {@link thesisScript}. */
export interface ThesisOptions {
  addrs: readonly string[];
  seed: number;
  /** The script's description (one line). */
  description?: string;
  /** Deadline of a request attempt, s (at least the workers' relay deadline). */
  requestTimeoutS?: number;
}

/** The local form of the thesis's experiment (`treecast demo --thesis`). */
export function thesisScript(o: ThesisOptions): string {
  return `# Written by treecast demo --thesis: ${o.addrs.length} local workers.
# The cloud form, with its placeholders: examples/thesis.yaml.
name: thesis
description: ${
    o.description ??
      "The thesis's comparison on a local testbed with emulated stragglers."
  }
seed: ${o.seed}
addrs:
${o.addrs.map((a) => `  - "${a}"`).join("\n")}
depth: 3
fanout: 2
hyperparameter: 4
rate: 1000
duration: 500ms
warmup: 200ms
evaluation:
  rate: 1000
  duration: 700ms
  warmup: 200ms
  runs: 2
roots: 2
rebuild: 1
lemon:
  limit: 3
  duration: 400ms
  warmup: 200ms
trees:
  - type: BEST
    strategy: WEIGHTED
  - type: BEST
    strategy: P90
  - type: BEST
    strategy: P50
  - type: WORST
    strategy: P90
  - type: RANDOM
  - type: LEMON
timeouts:
  request: ${o.requestTimeoutS ?? 3}
  retries: 1
  job_grace: 10
`;
}
