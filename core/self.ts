/**
 * How treecast starts itself as a subprocess (a worker's probe jobs, the
 * demo's workers): the compiled executable runs its subcommand directly;
 * from source, the same Deno runs `main.ts`. Never a shell, never a
 * command string.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

/** The command and arguments that run `treecast ARGS`. */
export function selfCommand(
  args: readonly string[],
): { cmd: string; args: string[] } {
  if (Deno.build.standalone) return { cmd: Deno.execPath(), args: [...args] };
  const main = fileURLToPath(new URL("../main.ts", import.meta.url));
  return { cmd: Deno.execPath(), args: ["run", "-A", main, ...args] };
}
