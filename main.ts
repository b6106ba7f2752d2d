/**
 * treecast: one executable, one table of subcommands. Nothing else lives here.
 *
 * Each subcommand's module is loaded only when it runs: a probe or a worker
 * starts without loading the manager's YAML, charting or drawing libraries
 * (workers spawn a probe process per job, so start-up time is measured
 * delay before a stage can begin).
 *
 * @module
 */
import type { Command } from "./core/cli.ts";
import { stdio } from "./core/cli.ts";
import { PROGRAM_VERSION } from "./core/version.ts";
import { type StandbyRole, withStandby } from "./probes/standby.ts";

/** A probe subcommand, also runnable as a warm standby (probes/standby.ts). */
async function _probe(role: StandbyRole): Promise<Command> {
  const p = await import("./probes/cli.ts");
  return withStandby(role, {
    parent: p.createParentCommand,
    child: p.createChildCommand,
    proxy: p.createProxyCommand,
  });
}

/** One row of the table: what `treecast help` shows, and how to load it. */
export interface Entry {
  name: string;
  /** Must equal the command's `spec.summary` (a test checks it). */
  summary: string;
  load(): Promise<Command>;
}

/** Every subcommand, in the order `treecast help` lists them. */
export const COMMANDS: readonly Entry[] = [
  {
    name: "manager",
    summary:
      "Run an experiment script: connect to workers, build and evaluate trees",
    load: async () => (await import("./manager/cli.ts")).managerCommand,
  },
  {
    name: "worker",
    summary: "Serve a manager: run the probe jobs it commands on this VM",
    load: async () => (await import("./worker/cli.ts")).workerCommand,
  },
  {
    name: "parent",
    summary: "Send a paced probe stream to children",
    load: () => _probe("parent"),
  },
  {
    name: "proxy",
    summary:
      "Forward a probe stream to children (hops + 1), optionally measuring it",
    load: () => _probe("proxy"),
  },
  {
    name: "child",
    summary: "Receive a probe stream and measure its one-way delays",
    load: () => _probe("child"),
  },
  {
    name: "demo",
    summary:
      "Run a local testbed: workers on 127.0.0.1, some emulated slow, one experiment",
    load: async () => (await import("./demo/cli.ts")).demoCommand,
  },
  {
    name: "keygen",
    summary: "Write a CURVE key pair (NAME.key, secret; NAME.pub, public)",
    load: async () => (await import("./core/keygen.ts")).keygenCommand,
  },
  {
    name: "report",
    summary:
      "Write an HTML report of a results file: tables, tree drawings, delay charts",
    load: async () => (await import("./report/cli.ts")).reportCommand,
  },
];

/** The top-level help text. */
export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    `treecast ${PROGRAM_VERSION}: find the good VMs in a cloud pool and build a low-latency multicast tree`,
    "",
    "Usage: treecast <command> [options]",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    `  ${
      "help".padEnd(width)
    }  Show this help, or a command's: treecast help <command>`,
    "",
    'Run "treecast <command> --help" for a command\'s options.',
    "",
  ].join("\n");
}

/** Dispatches `args` to a subcommand; resolves to the exit code. */
export async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (
    name === undefined || name === "help" || name === "--help" || name === "-h"
  ) {
    if (name === "help" && rest[0] !== undefined) {
      return main([rest[0], "--help"]);
    }
    stdio.out(mainHelp());
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "version") {
    stdio.out(`treecast ${PROGRAM_VERSION}\n`);
    return 0;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    stdio.err(
      `error: Unknown command "${name}"\nRun "treecast help" for the list of commands.\n`,
    );
    return 2;
  }
  return await (await entry.load()).run(rest);
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
