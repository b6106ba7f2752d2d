/**
 * Builds the C reference of the probe data path (`../shared/bench/udp_ref.c`
 * beside the repository) once per process, for the interop tests and the
 * probe benchmark.
 *
 * @module
 */

/** The C source: `../shared/bench/udp_ref.c` from the repository root. */
export const UDP_REF_SOURCE: string =
  new URL("../../../shared/bench/udp_ref.c", import.meta.url).pathname;

let built: Promise<string | null> | null = null;

/**
 * Compiles udp_ref with `cc -O2 ... -lm` into a temporary folder and resolves
 * to the binary's path, or to null when there is no C compiler (callers skip
 * with a message). A missing source or a failed build throws.
 */
export function buildUdpRef(): Promise<string | null> {
  built ??= _build();
  return built;
}

async function _build(): Promise<string | null> {
  try {
    await Deno.stat(UDP_REF_SOURCE);
  } catch {
    throw new Error(`Cannot find the C reference at "${UDP_REF_SOURCE}"`);
  }
  const dir = await Deno.makeTempDir({ prefix: "treecast_udp_ref_" });
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch { /* best effort */ }
  });
  const out = `${dir}/udp_ref`;
  let result: Deno.CommandOutput;
  try {
    result = await new Deno.Command("cc", {
      args: ["-O2", "-o", out, UDP_REF_SOURCE, "-lm"],
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  if (!result.success) {
    throw new Error(
      `Cannot build "${UDP_REF_SOURCE}" with cc: ${
        new TextDecoder().decode(result.stderr).trim()
      }`,
    );
  }
  return out;
}

/** The message a test prints when it skips for want of `cc`. */
export const NO_CC =
  "skipped: no C compiler (`cc`) on PATH to build the udp_ref reference";
