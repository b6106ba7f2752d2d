/**
 * The results file: `results/<name>-<UTC time>/results.json`, rewritten
 * (atomically: temp file, then rename) every time a tree, stage or
 * evaluation finishes, so an interrupted experiment keeps what it completed.
 * Its types are `core/results.ts`'s, documented by `core/results.schema.json`.
 *
 * @module
 */
import {
  PROGRAM_VERSION,
  PROTOCOL_VERSION,
  RESULTS_VERSION,
} from "../core/version.ts";
import type { Results } from "../core/results.ts";
import type { Script } from "./script_types.ts";

export type * from "../core/results.ts";

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
    mismatches: [],
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
