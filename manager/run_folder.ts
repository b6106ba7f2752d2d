/**
 * A run's own folder, `OUT/<name>-<UTC time>`: made with a `mkdir` that
 * fails when it exists, so two runs of one script started in the same
 * second never share one (the second gets `-2`, the third `-3`, ...).
 *
 * @module
 */
import { runFolderName } from "./results.ts";

/** How many suffixes are tried before giving up. */
const MAX_SUFFIX = 1000;

/**
 * Creates `out` (with its parents) and, in it, a folder no other run holds:
 * `<name>-<time>`, else `<name>-<time>-2`, `-3`, ... Returns its path.
 */
export function makeRunFolder(out: string, name: string, at: Date): string {
  Deno.mkdirSync(out, { recursive: true });
  const base = `${out}/${runFolderName(name, at)}`;
  for (let n = 1; n <= MAX_SUFFIX; n++) {
    const dir = n === 1 ? base : `${base}-${n}`;
    try {
      Deno.mkdirSync(dir); // atomic: fails when another run made it first
      return dir;
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
  }
  throw new Error(`${MAX_SUFFIX} runs of "${name}" in ${out} in one second`);
}
