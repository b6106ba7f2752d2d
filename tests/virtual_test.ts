/**
 * The real manager against virtual pools (`treecast demo --virtual`): the
 * demo's command line, its reproducibility from the seed, and the scale
 * the suite must reach (1,111 workers: a tree of depth 3 and fanout 10).
 */
import assert from "node:assert/strict";
import type { Results } from "../core/results.ts";
import { runVirtual } from "../demo/virtual/run.ts";
import { runTreecast } from "./helpers/run.ts";

/** Each tree's nodes as indexes into the script's addresses. */
function treesByIndex(results: Results, addrs: string[]): (number | null)[][] {
  return results.trees.map((t) =>
    t.nodes.map((n) => (n === null ? null : addrs.indexOf(n)))
  );
}

Deno.test("treecast demo --virtual 40 --seed 3: the manager builds and evaluates every tree, names the stragglers and how many each tree kept; the same seed gives the same trees", async () => {
  const out = await Deno.makeTempDir();
  const again = await Deno.makeTempDir();
  try {
    // The CLI's run and, in this process on other ports, the same seed's:
    // the same network. The pools share nothing, so they run at once.
    const [cli, second] = await Promise.all([
      runTreecast(
        ["demo", "--virtual", "40", "--seed", "3", "--out", out],
        { timeoutMs: 120_000 },
      ),
      runVirtual({ workers: 40, seed: 3, stragglers: 0.05, out: again }),
    ]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /demo: 2 stragglers: 127\.0\.0\.1:\d+ \(virtual/);
    for (const tree of ["BEST-P90", "WORST-P90", "RANDOM"]) {
      assert.match(
        cli.stdout,
        new RegExp(
          `demo: ${tree} \\(\\w+\\) kept \\d stragglers? among 15 nodes\\n`,
        ),
      );
    }
    const folder = [...Deno.readDirSync(out)].find((e) => e.isDirectory)!.name;
    const first: Results = JSON.parse(
      await Deno.readTextFile(`${out}/${folder}/results.json`),
    );
    assert.equal(first.status, "complete");
    assert.equal(first.testbed?.kind, "virtual");
    assert.equal(first.workers.length, 40);
    for (const t of first.trees) {
      assert.equal(t.status, "complete", t.name);
      assert.deepEqual(t.evaluations[0]?.missing, [], t.name);
    }
    const firstAddrs = [...first.script.text.matchAll(/^ {2}- "(.+)"$/gm)]
      .map((m) => m[1]!);
    assert.equal(second.code, 0);
    assert.deepEqual(
      second.results.testbed!.stragglers.map((s) =>
        second.addrs.indexOf(s.addr)
      ),
      first.testbed!.stragglers.map((s) => firstAddrs.indexOf(s.addr)),
    );
    assert.deepEqual(
      treesByIndex(second.results, second.addrs),
      treesByIndex(first, firstAddrs),
    );
  } finally {
    await Deno.remove(out, { recursive: true });
    await Deno.remove(again, { recursive: true });
  }
});

Deno.test("treecast demo --virtual with a flag of the process testbed, or more workers than the sockets allow, exits 2 with one error line", async () => {
  for (
    const [args, why] of [
      [
        ["--virtual", "40", "--netns"],
        /"--netns" does not go with "--virtual"/,
      ],
      [["--virtual", "40", "--stragglers", "150%"], /"--stragglers"/],
      [["--virtual", "100000"], /"--virtual" must be at most \d+/],
    ] as const
  ) {
    const r = await runTreecast(["demo", ...args]);
    assert.equal(r.code, 2, r.stderr);
    const errors = r.stderr.split("\n").filter((l) => l.startsWith("error:"));
    assert.equal(errors.length, 1, r.stderr);
    assert.match(errors[0]!, why);
  }
});

Deno.test({
  name:
    "the manager against 1,111 virtual workers: CONNECT, a BEST tree of depth 3 and fanout 10, one evaluation of its 1,000 leaves",
  fn: async () => {
    const out = await Deno.makeTempDir();
    try {
      const { code, results } = await runVirtual({
        workers: 1111,
        seed: 1,
        stragglers: 0.05,
        out,
        trees: ["{ type: BEST, strategy: P90 }"],
        shape: { depth: 3, fanout: 10, hyperparameter: 10 },
      });
      assert.equal(code, 0);
      assert.equal(
        results.workers.filter((w) => w.status === "ok").length,
        1111,
      );
      const tree = results.trees[0]!;
      assert.equal(tree.status, "complete");
      assert.equal(tree.nodes.filter((n) => n !== null).length, 1111);
      const evaluation = tree.evaluations[0]!;
      assert.deepEqual(evaluation.missing, []);
      assert.deepEqual(evaluation.silent ?? [], []);
      // The per-message figures over the 1,000 leaves: 1 s at 1,000/s.
      const m = evaluation.messages!;
      assert.deepEqual(
        [m.receivers, m.messages, m.failedParts, m.missing],
        [1000, 1000, [], []],
      );
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});
