/**
 * `treecast report RESULTS.json [-o FILE]`: the HTML report of a results
 * file. A missing, unreadable or invalid results file is a usage error
 * naming the file (exit 2).
 *
 * @module
 */
import {
  type Command,
  type CommandSpec,
  type Io,
  runCommand,
  stdio,
  UsageError,
} from "../core/cli.ts";
import { WriteFailed } from "../core/durable_file.ts";
import type { Results } from "../core/results.ts";
import { resultsSchemaErrors } from "../core/results_schema.ts";
import { writeReport } from "./report.ts";

const spec = {
  name: "report",
  summary:
    "Write an HTML report of a results file: tables, tree drawings, delay charts",
  synopsis: "report RESULTS.json [-o FILE]",
  description:
    "Reads a results.json written by the manager (or demo), checks it against the\n" +
    "results schema and writes one self-contained HTML page (no script, nothing\n" +
    "fetched): the summary table, the trees drawn with their stragglers, the\n" +
    "delay CDF of every leaf, the per-second series, and every stage's candidates.",
  flags: {
    out: {
      type: "string",
      arg: "FILE",
      help: "Write the HTML to FILE; -o FILE for short",
      defaultText: "report.html beside RESULTS.json",
    },
  },
  positionals: [1, 1],
} as const satisfies CommandSpec;

/** The report file for a results file: `report.html` in the same folder. */
export function reportPathFor(resultsPath: string): string {
  const slash = resultsPath.lastIndexOf("/");
  return slash < 0
    ? "report.html"
    : `${resultsPath.slice(0, slash)}/report.html`;
}

/**
 * Reads and validates a results file. Throws {@link UsageError} naming the
 * file when it is missing, not JSON or does not fit the results schema.
 */
export async function loadResults(path: string): Promise<Results> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound
      ? "no such file"
      : (e as Error).message;
    throw new UsageError(`Cannot read results "${path}": ${why}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new UsageError(
      `Cannot read results "${path}": not JSON (${(e as Error).message})`,
    );
  }
  const errs = resultsSchemaErrors(doc);
  if (errs.length > 0) {
    const more = errs.length > 1 ? ` (and ${errs.length - 1} more)` : "";
    throw new UsageError(
      `Results "${path}" do not fit the results schema: ${errs[0]}${more}`,
    );
  }
  return doc as Results;
}

/**
 * Writes the report of `results` beside its results file and resolves to
 * the report's path. For the manager, at the end of an experiment.
 */
export async function writeReportBeside(
  results: Results,
  resultsPath: string,
): Promise<string> {
  const path = reportPathFor(resultsPath);
  await writeReport(results, path);
  return path;
}

/** Runs `treecast report ARGS`, writing to `io`; resolves to the exit code. */
export function runReportCommand(
  args: string[],
  io: Io = stdio,
): Promise<number> {
  // core/cli.ts knows long flags only: -o is spelled out here.
  const argv = args.map((a) => (a === "-o" ? "--out" : a));
  return runCommand(spec, argv, async ({ values, positionals }) => {
    const input = positionals[0]!;
    const out = values.out ?? reportPathFor(input);
    const results = await loadResults(input);
    try {
      await writeReport(results, out);
    } catch (x) {
      const e = x instanceof WriteFailed ? x.cause : x;
      if (e instanceof Deno.errors.NotFound) {
        throw new Error(
          `Cannot write report "${out}": its folder does not exist`,
        );
      }
      if (e instanceof Deno.errors.PermissionDenied) {
        throw new Error(`Cannot write report "${out}": permission denied`);
      }
      throw x;
    }
    io.out(`Report: ${out}\n`);
    return 0;
  }, io);
}

/** The `report` subcommand. */
export const reportCommand: Command = {
  spec,
  run: (args) => runReportCommand(args),
};
