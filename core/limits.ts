/**
 * The one table of ranges of a job's parameters, as a COMMAND carries them
 * (durations in ms). The worker refuses a COMMAND outside them
 * (`worker/validate.ts`); the script check refuses a script that would
 * produce one (`manager/script.ts`), so a script the manager accepts never
 * fails at run time for a range.
 *
 * @module
 */

/** Ranges of COMMAND fields, [min, max] (durations in ms). */
export const LIMITS = {
  rate: [1, 1_000_000],
  dur: [1, 3_600_000],
  warmup: [0, 600_000],
  timeout: [0, 7_200_000],
  layer: [0, 16],
  select: [0, 1024],
  size: [0, 65_507],
  addrs: [0, 1024],
  instr: [0, 200],
  subtreeNodes: [0, 100_000],
} as const;

/** A field of {@link LIMITS}. */
export type LimitField = keyof typeof LIMITS;
