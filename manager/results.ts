/**
 * The results file: `results/<name>-<UTC time>/results.json`, rewritten
 * (atomically: temp file, then rename) every time a tree, stage or
 * evaluation finishes, so an interrupted experiment keeps what it completed.
 * Its shape is documented by `results.schema.json` beside this file.
 *
 * @module
 */
import {
  PROGRAM_VERSION,
  PROTOCOL_VERSION,
  RESULTS_VERSION,
} from "../core/version.ts";
import type { ForwardStats, ProbeStats, SenderStats } from "../proto/codec.ts";
import type { ConnectResult } from "./manager.ts";
import type { Script, TreeType } from "./script.ts";

/** One candidate of a PARENT stage. */
export interface CandidateResult {
  addr: string;
  stats?: ProbeStats;
  /** The strategy's score (absent for failed candidates). */
  score?: number;
  kept: boolean;
  error?: string;
}

/** One PARENT stage: a parent node probing its candidates. */
export interface StageResult {
  /** Depth of the parent in the tree. */
  depth: number;
  parent: string;
  /** Stages started together (one depth built in parallel) share a batch. */
  batch: number;
  candidates: CandidateResult[];
  sender?: SenderStats;
  startedUs: number;
  finishedUs: number;
  error?: string;
}

/** One node of an evaluated tree. */
export interface EvalNode {
  addr: string;
  role: "root" | "proxy" | "leaf";
  depth: number;
  stats?: ProbeStats;
  forward?: ForwardStats;
  sender?: SenderStats;
  /** Emulation the node's worker applied ("" when none). */
  emulate: string;
  error?: string;
}

/** A worker that stopped answering (or failed to start a job) during the run. */
export interface LostWorker {
  addr: string;
  /** When it was declared lost (manager clock, us since the epoch). */
  atUs: number;
  /** What was going on: "stage" (probing), "evaluation", "connect". */
  during: "stage" | "evaluation" | "connect";
  /** The tree being built or evaluated, if any. */
  tree?: string;
  detail: string;
  /** Re-admitted at a later CONNECT (us), if it came back. */
  readmittedUs?: number;
}

/** One multicast evaluation of a finished tree. */
export interface EvaluationResult {
  run: number;
  startedUs: number;
  finishedUs: number;
  nodes: EvalNode[];
  /** Tree nodes that did not report (lost, or below a lost proxy). */
  missing: string[];
  /** The leaf with the highest p90 delay. */
  worstLeaf?: {
    addr: string;
    p90Us: number;
    p50Us: number;
    meanUs: number;
    stddevUs: number;
  };
  error?: string;
}

/** One built tree and its evaluations. */
export interface TreeResult {
  name: string;
  type: TreeType;
  strategy?: { name: string; weights: Record<string, number> };
  root: string;
  rootIndex: number;
  parallel: boolean;
  depth: number;
  fanout: number;
  /** Addresses in breadth-first order (index 0 the root). */
  nodes: (string | null)[];
  edges: [string, string][];
  stages: StageResult[];
  evaluations: EvaluationResult[];
  /** Workers of the tree that emulate a slow VM. */
  stragglers: string[];
  buildMs: number;
  evaluationMs: number;
  status: "building" | "evaluating" | "complete" | "failed";
  error?: string;
}

/** The whole results file. */
export interface Results {
  format: "treecast-results";
  versions: { program: string; protocol: number; results: number };
  name: string;
  status: "running" | "complete" | "interrupted" | "failed";
  error?: string;
  startedUs: number;
  finishedUs?: number;
  host: { hostname: string; os: string; arch: string; deno: string };
  script: { file: string; text: string; seed: number };
  workers: ConnectResult[];
  /** Workers lost during the run, in order. */
  lost: LostWorker[];
  trees: TreeResult[];
}

/** A fresh results document for a script. */
export function newResults(script: Script, startedUs: number): Results {
  return {
    format: "treecast-results",
    versions: {
      program: PROGRAM_VERSION,
      protocol: PROTOCOL_VERSION,
      results: RESULTS_VERSION,
    },
    name: script.name,
    status: "running",
    startedUs,
    host: {
      hostname: Deno.hostname(),
      os: Deno.build.os,
      arch: Deno.build.arch,
      deno: Deno.version.deno,
    },
    script: { file: script.file, text: script.text, seed: script.seed },
    workers: [],
    lost: [],
    trees: [],
  };
}

/** The folder name for a run: `<name>-<UTC time>`, e.g. `DEMO-20261125T021500Z`. */
export function runFolderName(name: string, at: Date): string {
  const t = at.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  return `${name}-${t}`;
}

/** Writes a results document atomically, every time it is asked to. */
export class ResultsWriter {
  /** The folder of this run. */
  readonly dir: string;
  /** The results.json path. */
  readonly path: string;

  constructor(dir: string) {
    this.dir = dir;
    this.path = `${dir}/results.json`;
    Deno.mkdirSync(dir, { recursive: true });
  }

  /** Writes `results` to results.json (temp file + rename). */
  write(results: Results): void {
    const tmp = `${this.path}.tmp`;
    Deno.writeTextFileSync(tmp, JSON.stringify(results, null, 1) + "\n");
    Deno.renameSync(tmp, this.path);
  }
}
