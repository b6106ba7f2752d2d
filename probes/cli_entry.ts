/**
 * Runs a probe with no control plane: `deno run -A probes/cli_entry.ts
 * parent|child|proxy [options]`. The same commands as `treecast parent|child|proxy`.
 *
 * @module
 */
import { stdio } from "../core/cli.ts";
import { childCommand, parentCommand, proxyCommand } from "./cli.ts";

const COMMANDS = [parentCommand, childCommand, proxyCommand];

/** Dispatches `args` to a probe command; resolves to the exit code. */
export async function probeMain(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  const cmd = COMMANDS.find((c) => c.spec.name === name);
  if (!cmd) {
    stdio.err(
      `error: Unknown probe ${name === undefined ? "(none)" : `"${name}"`}\n` +
        `Usage: cli_entry.ts parent|child|proxy [options] (--help for each)\n`,
    );
    return 2;
  }
  return await cmd.run(rest);
}

if (import.meta.main) {
  Deno.exit(await probeMain(Deno.args));
}
