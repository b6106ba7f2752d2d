/**
 * Builds the project's C reference of the probe data path
 * (`tests/reference/udp_ref.c`) once per process, for the interop and
 * reference tests and the probe benchmark.
 *
 * @module
 */

/** The C source, in this repository. */
export const UDP_REF_SOURCE: string =
  new URL("../reference/udp_ref.c", import.meta.url).pathname;

/** What to install when there is no C compiler. */
export const NO_CC =
  "no C compiler (`cc`) on PATH to build tests/reference/udp_ref.c: " +
  "install one (Debian/Ubuntu: `apt-get install gcc libc6-dev`)";

let built: Promise<string> | null = null;

/**
 * Compiles udp_ref with `cc -O2 ... -lm` into a temporary folder (removed
 * when the process unloads) and resolves to the binary's path. Rejects,
 * naming what to install, when there is no `cc`; a failed build rejects
 * with the compiler's message.
 */
export function buildUdpRef(): Promise<string> {
  built ??= _build();
  return built;
}

async function _build(): Promise<string> {
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
      args: ["-O2", "-Wall", "-o", out, UDP_REF_SOURCE, "-lm"],
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new Error(NO_CC);
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
