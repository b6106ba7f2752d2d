/**
 * Seeds chosen for what a RANDOM tree holds. A RANDOM tree is drawn without
 * probing, from the script's seed and the order of `addrs`, so the fake
 * workers of `manager/_testing.ts` give the same tree a real testbed will:
 * a test can pick, before it runs anything, seeds whose RANDOM tree holds
 * stragglers where it needs them.
 *
 * @module
 */
import { Experiment } from "../../manager/experiment.ts";
import { FakeClock, FakeWorkers } from "../../manager/_testing.ts";
import { parseScript } from "../../manager/script.ts";
import type { TreeResult } from "../../core/results.ts";

/**
 * The first `count` seeds (from 1) for which `accept` holds of the fake run
 * of `script(seed)`, whose first tree must be RANDOM: `accept` gets that
 * tree (its nodes root first, breadth first; after any rebuild rounds, in
 * which the workers listed in `slow` measure 3 ms and the others ~50 us).
 */
export async function randomTreeSeeds(
  script: (seed: number) => string,
  accept: (tree: TreeResult) => boolean,
  count = 1,
  slow: readonly string[] = [],
): Promise<number[]> {
  const seeds: number[] = [];
  for (let seed = 1; seed < 500 && seeds.length < count; seed++) {
    const clock = new FakeClock();
    const workers = new FakeWorkers(clock);
    for (const a of slow) workers.delay[a] = 3000;
    const r = await new Experiment(parseScript(script(seed), "seed.yaml"), {
      manager: workers,
      clock,
    }).run();
    if (accept(r.trees[0]!)) seeds.push(seed);
  }
  if (seeds.length < count) {
    throw new Error(`only ${seeds.length} of ${count} seeds below 500 fit`);
  }
  return seeds;
}
