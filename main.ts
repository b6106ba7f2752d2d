/**
 * treecast: one executable, one table of subcommands. Nothing else lives here.
 *
 * @module
 */
import { type Command, stdio } from "./core/cli.ts";
import { PROGRAM_VERSION } from "./core/version.ts";
import { keygenCommand } from "./core/keygen.ts";
import { managerCommand } from "./manager/cli.ts";
import { demoCommand } from "./manager/demo.ts";
import { workerCommand } from "./worker/cli.ts";
import { childCommand, parentCommand, proxyCommand } from "./probes/cli.ts";

/** Every subcommand, in the order `treecast help` lists them. */
export const COMMANDS: readonly Command[] = [
  managerCommand,
  workerCommand,
  parentCommand,
  proxyCommand,
  childCommand,
  demoCommand,
  keygenCommand,
];

/** The top-level help text. */
export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.spec.name.length));
  return [
    `treecast ${PROGRAM_VERSION}: find the good VMs in a cloud pool and build a low-latency multicast tree`,
    "",
    "Usage: treecast <command> [options]",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.spec.name.padEnd(width)}  ${c.spec.summary}`),
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
  const cmd = COMMANDS.find((c) => c.spec.name === name);
  if (!cmd) {
    stdio.err(
      `error: Unknown command "${name}"\nRun "treecast help" for the list of commands.\n`,
    );
    return 2;
  }
  return await cmd.run(rest);
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
