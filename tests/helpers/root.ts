/**
 * Tests that need root (network namespaces, cgroups): CI runs as root; a
 * run without it reports them as ignored and prints why, never passes them.
 *
 * @module
 */

/** Why root-only tests (that need root for `need`) cannot run here, or undefined when they can. */
export function rootMissing(
  file: string,
  need = "network namespaces and cgroups",
): string | undefined {
  const why = Deno.build.os !== "linux"
    ? `not Linux (${Deno.build.os})`
    : Deno.uid() !== 0
    ? `not root (uid ${Deno.uid()})`
    : undefined;
  if (why) {
    console.error(
      `${file}: ignored: needs root on Linux for ${need}, and this is ${why}`,
    );
  }
  return why;
}

/** The unshare(1) prefix that runs a command as an unprivileged uid (65534). */
export const UNPRIVILEGED = ["unshare", "--user"];
