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
import { writeLeafCsv, writeMessageCsv } from "./export.ts";
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
import {
  type ConnectResult,
  type Results,
  ResultsWriter,
  type TestbedInfo,
} from "./results.ts";
import { makeRunFolder } from "./run_folder.ts";
import { loadScript, type Script } from "./script.ts";

const spec = {
  name: "manager",
  summary:
    "Run an experiment script: connect to workers, build and evaluate trees",
  synopsis: "manager SCRIPT.yaml [options]",
  description:
    "Reads the YAML script, validates it (exit 2 naming file, line and field),\n" +
    "and runs its steps. Results go to OUT/<name>-<UTC time>/results.json, written\n" +
    "as each stage and evaluation finishes. Exits 0 when the run went through and\n" +
    "every worker answered CONNECT (workers lost later and trees that could not\n" +
    "be finished are named in the results), 1 on a failure, 130 when interrupted\n" +
    "(SIGINT, SIGTERM or SIGHUP: partial results written).",
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
  /** Called with the results once the run ended, whatever the end. */
  onEnd?: (results: Results) => void;
}

/**
 * Runs a validated script with terminal output: the CONNECT table, one line
 * per event, the summary table and where the results are. Resolves to the
 * exit code; Ctrl-C (SIGINT), SIGTERM or SIGHUP (the terminal or ssh
 * session closed) stops it with the partial results
 * written ({@link Interrupted}, exit 130).
 *
 * results.json is written by the experiment as each step finishes and once
 * more at its end, whatever the end; the leaf CSV and the report are
 * written here, once, after the run ended (complete or not).
 */
export async function runScript(
  script: Script,
  opts: RunScriptOptions,
): Promise<number> {
  const manager = newManager(script, opts);
  const writer = script.steps.some((s) => s.action === "ROOT")
    ? new ResultsWriter(makeRunFolder(opts.out, script.name, new Date()))
    : undefined;
  const stop = new AbortController();
  const progress = progressFor(script);
  let unreachable = 0;
  const experiment = new Experiment(script, {
    manager,
    ...(writer ? { writer } : {}),
    ...(opts.testbed ? { testbed: opts.testbed } : {}),
    signal: stop.signal,
    onEvent: (e) => {
      if (e.kind === "connect") {
        unreachable = printConnect(e.results, experiment.results, script);
      }
      progress.onEvent(e);
    },
  });
  const error = await runUntilStopped(experiment, manager, stop, progress);
  opts.onEnd?.(experiment.results);
  if (error === undefined) printSummary(experiment.results);
  const files = writer &&
    await writeExports(experiment.results, writer.path, error !== undefined);
  if (error !== undefined) {
    if (files) stdio.err(`Report of the partial results: ${files.report}\n`);
    if (!writer) throw error;
    if (error instanceof Interrupted) {
      throw new Interrupted(`Interrupted: partial results in ${writer.path}`);
    }
    stdio.err(`Partial results in ${writer.path}\n`);
    throw error;
  }
  if (writer && files) {
    stdio.out(
      `Results: ${writer.path}\nLeaf statistics: ${files.csv}\n` +
        `Per-message figures: ${files.messages}\nReport: ${files.report}\n`,
    );
  }
  return unreachable === 0 ? 0 : 1;
}

/** The manager of a run: the script's deadlines unless the flags override them. */
function newManager(script: Script, opts: RunScriptOptions): Manager {
  return new Manager({
    timeoutMs: opts.timeoutMs ?? Math.round(script.timeouts.request * 1000),
    connectTimeoutMs: opts.timeoutMs ??
      Math.round(script.timeouts.connect * 1000),
    retries: opts.retries ?? script.timeouts.retries,
    ...(opts.log ? { log: opts.log } : {}),
    ...(opts.curve ? { curve: opts.curve } : {}),
    warn: (line) => stdio.err(`${line}\n`),
  });
}

/** The progress lines (a bar on a terminal) of a run of `script`. */
function progressFor(script: Script): ReturnType<typeof createProgress> {
  return createProgress({
    isTerminal: Deno.stderr.isTerminal(),
    plan: {
      evalRuns: script.evaluation.runs,
      stageMs: (script.warmup + script.duration) * 1000,
      evalMs: (script.evaluation.warmup + script.evaluation.duration) * 1000,
    },
  });
}

/** The signals that stop a run with its partial results. */
const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * Runs the experiment; SIGINT, SIGTERM or SIGHUP aborts it, and then the jobs still
 * running on the workers are stopped. Resolves to the error it ended with,
 * undefined when it completed. The manager is closed either way.
 */
async function runUntilStopped(
  experiment: Experiment,
  manager: Manager,
  stop: AbortController,
  progress: { close(): void },
): Promise<unknown> {
  const onSignal = () => stop.abort();
  for (const s of STOP_SIGNALS) Deno.addSignalListener(s, onSignal);
  try {
    await experiment.run();
    return undefined;
  } catch (e) {
    progress.close();
    if (e instanceof Interrupted) {
      const stopped = await manager.stopAll(experiment.live);
      stdio.err(
        `Stopped the jobs on ${stopped.length} of ${experiment.live.length} workers\n`,
      );
    }
    return e;
  } finally {
    progress.close();
    for (const s of STOP_SIGNALS) Deno.removeSignalListener(s, onSignal);
    manager.close();
  }
}

/**
 * Prints the CONNECT table, the probe mode and the clock warnings; names
 * the workers that did not answer. Resolves to how many did not.
 */
function printConnect(
  connected: readonly ConnectResult[],
  results: Results,
  script: Script,
): number {
  stdio.out(connectTable(connected));
  stdio.out(modeLine(results) ?? "");
  for (
    const w of clockWarnings(connected, undefined, script.clocks.maxErrorUs)
  ) {
    stdio.err(w + "\n");
  }
  const lost = connected.filter((r) => r.status !== "ok");
  if (lost.length > 0) {
    stdio.err(
      `error: ${lost.length} of ${connected.length} workers did not answer CONNECT: ` +
        lost.map((r) => `"${r.addr}"`).join(", ") + "\n",
    );
  }
  return lost.length;
}

/** The summary tables of a completed run, then its warnings. */
function printSummary(results: Results): void {
  if (results.trees.length > 0) {
    stdio.out(summaryTable(results));
    stdio.out(
      "\nAcross roots and runs (worst leaf, mean ± 95 % interval):\n" +
        kindsTable(results),
    );
    stdio.out(modeLine(results) ?? "");
  }
  for (const w of mismatchWarnings(results)) stdio.err(w + "\n");
  for (const w of offsetWarnings(results)) stdio.err(w + "\n");
}

/**
 * Writes the CSVs and the report beside results.json; their paths.
 * After a failed or interrupted run a write error is only a warning: the
 * partial results are what matters then.
 */
async function writeExports(
  results: Results,
  resultsPath: string,
  partial: boolean,
): Promise<{ csv: string; messages: string; report: string } | undefined> {
  try {
    const csv = await writeLeafCsv(results, resultsPath);
    const messages = writeMessageCsv(results, resultsPath);
    return {
      csv,
      messages,
      report: await writeReportBeside(results, resultsPath),
    };
  } catch (x) {
    if (!partial) throw x;
    stdio.err(`warning: Cannot write the report: ${(x as Error).message}\n`);
    return undefined;
  }
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
