/**
 * The results file: `results/<name>-<UTC time>/results.json`, rewritten
 * (durably and atomically: `core/durable_file.ts`) every time a tree, stage
 * or evaluation finishes, so an interrupted experiment keeps what it
 * completed. A write that fails (a full disk) ends the run: the file keeps
 * the last results written, marked failed with the error.
 * Its types are `core/results.ts`'s, documented by `core/results.schema.json`.
 *
 * @module
 */
import {
  PROGRAM_VERSION,
  PROTOCOL_VERSION,
  RESULTS_VERSION,
} from "../core/version.ts";
import { WriteFailed, writeFileDurably } from "../core/durable_file.ts";
import type { Results } from "../core/results.ts";
import { nowUs } from "../proto/codec.ts";
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

/**
 * Marks `results` as ended: `failed` or `interrupted`, with the error, and
 * every tree still building or evaluating failed with it.
 */
export function markEnded(
  results: Results,
  status: "failed" | "interrupted",
  error: string,
): void {
  results.status = status;
  results.error = error;
  for (const t of results.trees) {
    if (t.status === "building" || t.status === "evaluating") {
      t.status = "failed";
      t.error = error;
    }
  }
}

/**
 * Writes a results document durably, every time it is asked to. After a
 * failed write it writes no more: every later call throws the same error.
 */
export class ResultsWriter {
  /** The folder of this run. */
  readonly dir: string;
  /** The results.json path. */
  readonly path: string;
  /** The text last written (undefined before the first write). */
  #last: string | undefined;
  /** Why writing stopped, once a write failed. */
  #failed: Error | undefined;

  constructor(dir: string) {
    this.dir = dir;
    this.path = `${dir}/results.json`;
    Deno.mkdirSync(dir, { recursive: true });
  }

  /**
   * Writes `results` to results.json. On a failure (the temp file already
   * removed), rewrites the last results written, or these when none were,
   * compactly, marked failed with the error (the room the failed temp file
   * held is enough on a disk the run filled), and throws a
   * {@link WriteFailed} saying what results.json now holds.
   */
  write(results: Results): void {
    if (this.#failed) throw this.#failed;
    const text = JSON.stringify(results, null, 1) + "\n";
    try {
      writeFileDurably(this.path, text);
      this.#last = text;
    } catch (e) {
      const last: Results = this.#last === undefined
        ? structuredClone(results)
        : JSON.parse(this.#last);
      markEnded(last, "failed", (e as Error).message);
      last.finishedUs = nowUs();
      let kept: string;
      try {
        writeFileDurably(this.path, JSON.stringify(last) + "\n");
        kept = "it keeps the last results written, marked failed";
      } catch {
        kept = this.#last === undefined
          ? "nothing was written"
          : `it keeps the last results written, still marked ${
            JSON.parse(this.#last).status
          }`;
      }
      const cause = e instanceof WriteFailed ? e.cause : e;
      throw this.#failed = new WriteFailed(this.path, cause, kept);
    }
  }
}
