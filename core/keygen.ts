/**
 * `treecast keygen NAME`: write a CURVE key pair for the control plane.
 *
 * @module
 */
import {
  type Command,
  type CommandSpec,
  runCommand,
  stdio,
  UsageError,
} from "./cli.ts";
import { generateKeyPair, writeKeyPair } from "./curve.ts";

const spec = {
  name: "keygen",
  summary: "Write a CURVE key pair (NAME.key, secret; NAME.pub, public)",
  synopsis: "keygen NAME [--force]",
  description:
    "Make one pair for the workers (copy workers.key to every VM) and one for\n" +
    "the manager. Start workers with --curve-key workers.key --curve-allow manager.pub,\n" +
    "and the manager with --curve-key manager.key --curve-server workers.pub.",
  flags: {
    force: { type: "boolean", help: "Overwrite existing files" },
  },
  positionals: [1, 1],
} as const satisfies CommandSpec;

/** The `keygen` subcommand. */
export const keygenCommand: Command = {
  spec,
  run: (args) =>
    runCommand(spec, args, async ({ values, positionals }) => {
      const base = positionals[0]!;
      for (const f of [`${base}.key`, `${base}.pub`]) {
        const exists = await Deno.stat(f).then(() => true, () => false);
        if (exists && !values.force) {
          throw new UsageError(
            `"${f}" exists: choose another NAME or pass --force`,
          );
        }
      }
      const kp = generateKeyPair();
      await writeKeyPair(base, kp);
      stdio.out(
        `${
          JSON.stringify({
            event: "keygen",
            secret: `${base}.key`,
            public: `${base}.pub`,
            publicKey: kp.publicKey,
          })
        }\n`,
      );
      return 0;
    }),
};
