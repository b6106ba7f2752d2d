/**
 * `treecast manager SCRIPT.yaml`: run an experiment script's steps.
 *
 * @module
 */
import {
  type Command,
  type CommandSpec,
  Interrupted,
  parseNumber,
  parseSeconds,
  runCommand,
  stdio,
  UsageError,
} from "../core/cli.ts";
import { readKeyPair, readPublicKeys } from "../core/curve.ts";
import type { CurveClientKeys } from "../core/transport.ts";
import { LOG_FLAGS, logFromFlags, type MessageLog } from "../core/node.ts";
import { writeReportBeside } from "../report/cli.ts";
import { Experiment } from "./experiment.ts";
import { writeLeafCsv } from "./export.ts";
import {
  clockWarnings,
  connectTable,
  kindsTable,
  mismatchWarnings,
  modeLine,
  offsetWarnings,
  summaryTable,
} from "./format.ts";
import { Manager } from "./manager.ts";
import { createProgress } from "./progress.ts";
import { ResultsWriter, runFolderName, type TestbedInfo } from "./results.ts";
import { loadScript, type Script } from "./script.ts";

const spec = {
  name: "manager",
  summary:
    "Run an experiment script: connect to workers, build and evaluate trees",
  synopsis: "manager SCRIPT.yaml [options]",
  description:
    "Reads the YAML script, validates it (exit 2 naming file, line and field),\n" +
    "and runs its steps. Results go to OUT/<name>-<UTC time>/results.json, written\n" +
    "as each stage and evaluation finishes. Exits 0 when every step succeeded and\n" +
    "every worker answered, 1 on a failure, 130 when interrupted.",
  flags: {
    out: {
      type: "string",
      arg: "DIR",
      help: "Folder for the results folders",
      defaultText: "results",
    },
    timeout: {
      type: "string",
      arg: "SECONDS",
      help:
        "Deadline of each request to a worker (overrides timeouts.connect and timeouts.request)",
    },
    retries: {
      type: "string",
      arg: "N",
      help:
        "Retries before a worker is unreachable (overrides timeouts.retries)",
    },
    "curve-key": {
      type: "string",
      arg: "FILE",
      help: "Encrypt and authenticate with CURVE: this manager's .key file",
    },
    "curve-server": {
      type: "string",
      arg: "FILE",
      help: "The workers' public key file (.pub), with --curve-key",
    },
    ...LOG_FLAGS,
  },
  positionals: [1, 1],
} as const satisfies CommandSpec;

/** Options of {@link runScript}. */
export interface RunScriptOptions {
  /** Folder for the results folders. */
  out: string;
  timeoutMs?: number;
  retries?: number;
  log?: MessageLog;
  curve?: CurveClientKeys;
  /** The testbed the workers run on (`treecast demo`), recorded in the results. */
  testbed?: TestbedInfo;
}

/**
 * Runs a validated script with terminal output: the CONNECT table, one line
 * per event, the summary table and where the results are. Resolves to the
 * exit code; Ctrl-C (SIGINT) or SIGTERM stops it with the partial results
 * written ({@link Interrupted}, exit 130).
 */
export async function runScript(
  script: Script,
  opts: RunScriptOptions,
): Promise<number> {
  const manager = new Manager({
    timeoutMs: opts.timeoutMs ?? Math.round(script.timeouts.request * 1000),
    connectTimeoutMs: opts.timeoutMs ??
      Math.round(script.timeouts.connect * 1000),
    retries: opts.retries ?? script.timeouts.retries,
    ...(opts.log ? { log: opts.log } : {}),
    ...(opts.curve ? { curve: opts.curve } : {}),
  });
  const needsResults = script.steps.some((s) => s.action === "ROOT");
  const writer = needsResults
    ? new ResultsWriter(
      `${opts.out}/${runFolderName(script.name, new Date())}`,
    )
    : undefined;
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  let unreachable = 0;
  const progress = createProgress({
    isTerminal: Deno.stderr.isTerminal(),
    plan: {
      evalRuns: script.evaluation.runs,
      stageMs: (script.warmup + script.duration) * 1000,
      evalMs: (script.evaluation.warmup + script.evaluation.duration) * 1000,
    },
  });
  const experiment = new Experiment(script, {
    manager,
    ...(writer ? { writer } : {}),
    ...(opts.testbed ? { testbed: opts.testbed } : {}),
    signal: stop.signal,
    onEvent: (e) => {
      if (e.kind === "connect") {
        stdio.out(connectTable(e.results));
        stdio.out(modeLine(experiment.results) ?? "");
        const warnings = clockWarnings(
          e.results,
          undefined,
          script.clocks.maxErrorUs,
        );
        for (const w of warnings) stdio.err(w + "\n");
        const lost = e.results.filter((r) => r.status !== "ok");
        unreachable = lost.length;
        if (lost.length > 0) {
          stdio.err(
            `error: ${lost.length} of ${e.results.length} workers did not answer CONNECT: ` +
              lost.map((r) => `"${r.addr}"`).join(", ") + "\n",
          );
        }
      }
      progress.onEvent(e);
    },
  });
  try {
    await experiment.run();
  } catch (e) {
    progress.close();
    if (writer) {
      try {
        await writeLeafCsv(experiment.results, writer.path);
        const report = await writeReportBeside(experiment.results, writer.path);
        stdio.err(`Report of the partial results: ${report}\n`);
      } catch (x) {
        stdio.err(
          `warning: Cannot write the report: ${(x as Error).message}\n`,
        );
      }
    }
    if (e instanceof Interrupted) {
      const stopped = await manager.stopAll(experiment.live);
      stdio.err(
        `Stopped the jobs on ${stopped.length} of ${experiment.live.length} workers\n`,
      );
    }
    if (e instanceof Interrupted && writer) {
      throw new Interrupted(
        `Interrupted: partial results in ${writer.path}`,
      );
    }
    if (writer) stdio.err(`Partial results in ${writer.path}\n`);
    throw e;
  } finally {
    progress.close();
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
    manager.close();
  }
  if (experiment.results.trees.length > 0) {
    stdio.out(summaryTable(experiment.results));
    stdio.out(
      "\nAcross roots and runs (worst leaf, mean ± 95 % interval):\n" +
        kindsTable(experiment.results),
    );
    stdio.out(modeLine(experiment.results) ?? "");
  }
  for (const w of mismatchWarnings(experiment.results)) stdio.err(w + "\n");
  for (const w of offsetWarnings(experiment.results)) stdio.err(w + "\n");
  if (writer) {
    const csv = await writeLeafCsv(experiment.results, writer.path);
    const report = await writeReportBeside(experiment.results, writer.path);
    stdio.out(
      `Results: ${writer.path}\nLeaf statistics: ${csv}\nReport: ${report}\n`,
    );
  }
  return unreachable === 0 ? 0 : 1;
}

/** The `manager` subcommand. */
export const managerCommand: Command = {
  spec,
  run: (args) =>
    runCommand(spec, args, async ({ values, positionals }) => {
      const timeoutS = values.timeout === undefined
        ? undefined
        : parseSeconds("timeout", values.timeout, { min: 0.01, max: 3600 });
      const retries = values.retries === undefined
        ? undefined
        : parseNumber("retries", values.retries, {
          min: 0,
          max: 10,
          integer: true,
        });
      if (
        (values["curve-key"] === undefined) !==
          (values["curve-server"] === undefined)
      ) {
        throw new UsageError(
          'Flags "--curve-key" and "--curve-server" go together',
        );
      }
      const curve = values["curve-key"] === undefined ? undefined : {
        ...readKeyPair("curve-key", values["curve-key"]),
        serverKey: readPublicKeys("curve-server", [
          values["curve-server"]!,
        ])[0]!,
      };
      const script = await loadScript(positionals[0]!);
      return await runScript(script, {
        out: values.out ?? "results",
        ...(timeoutS !== undefined
          ? { timeoutMs: Math.round(timeoutS * 1000) }
          : {}),
        ...(retries !== undefined ? { retries } : {}),
        ...(curve ? { curve } : {}),
        log: logFromFlags(values),
      });
    }),
};
