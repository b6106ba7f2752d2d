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

/**
 * The first `count` seeds (from 1) for which `accept` holds of the RANDOM
 * tree's nodes (root first, breadth first); `script(seed)` must hold one
 * RANDOM tree.
 */
export async function randomTreeSeeds(
  script: (seed: number) => string,
  accept: (nodes: (string | null)[]) => boolean,
  count = 1,
): Promise<number[]> {
  const seeds: number[] = [];
  for (let seed = 1; seed < 500 && seeds.length < count; seed++) {
    const clock = new FakeClock();
    const r = await new Experiment(parseScript(script(seed), "seed.yaml"), {
      manager: new FakeWorkers(clock),
      clock,
    }).run();
    if (accept(r.trees[0]!.nodes)) seeds.push(seed);
  }
  if (seeds.length < count) {
    throw new Error(`only ${seeds.length} of ${count} seeds below 500 fit`);
  }
  return seeds;
}
