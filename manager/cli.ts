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
import { LOG_LEVELS, MessageLog } from "../core/node.ts";
import { parseLogLevel } from "../worker/cli.ts";
import { Experiment, type ExperimentEvent } from "./experiment.ts";
import { clockWarnings, connectTable, summaryTable } from "./format.ts";
import { Manager } from "./manager.ts";
import { ResultsWriter, runFolderName } from "./results.ts";
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
      help: "Deadline of each request to a worker (overrides timeouts.request)",
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
    log: {
      type: "string",
      arg: "FILE",
      help: "Append a JSON line per message to FILE",
    },
    "log-level": {
      type: "string",
      arg: "LEVEL",
      help: `Log detail: ${LOG_LEVELS.join(", ")}`,
      defaultText: "info",
    },
  },
  positionals: [1, 1],
} as const satisfies CommandSpec;

/** One plain line per experiment event (stderr). */
export function eventLine(e: ExperimentEvent): string | undefined {
  switch (e.kind) {
    case "connect":
      return undefined;
    case "tree-start":
      return `tree ${
        e.index + 1
      }/${e.total}: ${e.tree.name} from root ${e.tree.root}`;
    case "stage-start":
      return `  stage: ${e.parents.length} parent(s) at depth ${e.depth} probe ${e.candidates} ` +
        `candidates each for ${(e.expectedMs / 1000).toFixed(1)} s`;
    case "stage-done":
      return e.stages.map((s) =>
        `  stage done: ${s.parent} keeps ${
          s.candidates.filter((c) => c.kept).map((c) => c.addr).join(", ")
        }`
      ).join("\n");
    case "eval-start":
      return `  evaluation ${e.run}: multicast for ${
        (e.expectedMs / 1000).toFixed(1)
      } s`;
    case "eval-done": {
      const w = e.evaluation.worstLeaf;
      return `  evaluation ${e.evaluation.run} done: worst leaf ${
        w ? `${w.addr} p90 ${w.p90Us.toFixed(1)} us` : "none reported"
      }`;
    }
    case "lost":
      return `  lost worker ${e.lost.addr} during ${e.lost.during}: ${e.lost.detail}`;
    case "readmitted":
      return `  worker ${e.addr} answered CONNECT again: admitted`;
    case "tree-done":
      return `tree ${e.index + 1}/${e.total}: ${e.tree.name} complete`;
  }
}

/** Options of {@link runScript}. */
export interface RunScriptOptions {
  /** Folder for the results folders. */
  out: string;
  timeoutMs?: number;
  retries?: number;
  log?: MessageLog;
  curve?: CurveClientKeys;
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
  const experiment = new Experiment(script, {
    manager,
    ...(writer ? { writer } : {}),
    signal: stop.signal,
    onEvent: (e) => {
      if (e.kind === "connect") {
        stdio.out(connectTable(e.results));
        for (const w of clockWarnings(e.results)) stdio.err(w + "\n");
        const lost = e.results.filter((r) => r.status !== "ok");
        unreachable = lost.length;
        if (lost.length > 0) {
          stdio.err(
            `error: ${lost.length} of ${e.results.length} workers did not answer CONNECT: ` +
              lost.map((r) => `"${r.addr}"`).join(", ") + "\n",
          );
        }
        return;
      }
      const line = eventLine(e);
      if (line) stdio.err(line + "\n");
    },
  });
  try {
    await experiment.run();
  } catch (e) {
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
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
    manager.close();
  }
  if (experiment.results.trees.length > 0) {
    stdio.out(summaryTable(experiment.results));
  }
  if (writer) stdio.out(`Results: ${writer.path}\n`);
  return unreachable === 0 ? 0 : 1;
}

/** The `manager` subcommand. */
export const managerCommand: Command = {
  spec,
  run: (args) =>
    runCommand(spec, args, async ({ values, positionals }) => {
      const level = parseLogLevel(values["log-level"]);
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
        log: new MessageLog({
          level,
          ...(values.log !== undefined ? { path: values.log } : {}),
        }),
      });
    }),
};
