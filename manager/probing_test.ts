/**
 * The one way every step probes (`probing.ts`) on the fake workers and
 * clock: commands in groups, every probe in the run's I/O mode, and a
 * receiver reporting the other timestamp kind refused alike by every step.
 */
import assert from "node:assert/strict";
import type { Results, StageResult } from "../core/results.ts";
import { assertResultsSchema } from "../tests/helpers/schema.ts";
import { A, setup } from "./_testing.ts";
import { commandGroups } from "./probing.ts";
import { allToAllRounds } from "./schedule.ts";

Deno.test("commands go out in groups in which nobody streams to another member", () => {
  for (const [n, limit] of [[12, 3], [25, 4], [5, 1], [4, 3]] as const) {
    for (const round of allToAllRounds(n, limit)) {
      const probes = round.map((t) => ({
        parent: `w${t.from}`,
        children: t.to.map((x) => `w${x}`),
      }));
      const groups = commandGroups(probes);
      assert.equal(groups.flat().length, n);
      for (const g of groups) {
        const parents = new Set(g.map((p) => p.parent));
        assert.ok(
          g.every((p) => p.children.every((x) => !parents.has(x))),
          JSON.stringify(g),
        );
      }
    }
  }
});

/** `root: probe`, then a LEMON, a BEST and a RANDOM tree from the root. */
const EVERY_STEP = "trees: [{ type: LEMON }, { type: BEST, strategy: P90 }, " +
  "{ type: RANDOM }]\nroot_probe: { candidates: 4, sample: 3 }\nroots: 1\n" +
  "lemon: { limit: 4, duration: 1s, warmup: 0 }";

const MODES = [
  // `treecast worker --io native` on a host whose kernel timestamps.
  {
    caps: ["io:native", "ts:kernel", "ts:user"],
    io: "NATIVE",
    timestamps: "KERNEL",
  },
  { caps: ["io:deno", "ts:user"], io: "DENO", timestamps: "USER" },
] as const;

for (const mode of MODES) {
  Deno.test(`root: probe, LEMON, BEST and RANDOM on workers with --io ${mode.io.toLowerCase()}: every probe command in that mode`, async () => {
    const { exp, workers } = setup(EVERY_STEP, { root: "probe" });
    for (const a of A) workers.caps[a] = [...mode.caps];
    const r = await exp.run();
    assert.equal(r.status, "complete", r.error ?? "");
    assert.deepEqual([r.io, r.timestamps], [mode.io, mode.timestamps]);
    // Every kind of probe was commanded, each in the run's mode.
    const kinds = new Set(workers.log.map(({ cmd }) => kindOf(cmd.instr)));
    assert.deepEqual(
      [...kinds].sort(),
      ["all-to-all", "evaluation", "root probe", "stage"],
    );
    for (const { cmd } of workers.log) {
      assert.deepEqual([cmd.io, cmd.timestamps], [mode.io, mode.timestamps]);
    }
    assert.deepEqual(r.mismatches, []);
  });
}

function kindOf(instr: string): string {
  return /^root probe/.test(instr)
    ? "root probe"
    : /all-to-all/.test(instr)
    ? "all-to-all"
    : / stage: /.test(instr)
    ? "stage"
    : / evaluation /.test(instr)
    ? "evaluation"
    : instr;
}

/** A run of every step where `liar` reports user timestamps under kernel ones. */
async function withLiar(liar: string): Promise<Results> {
  const { exp, workers } = setup(EVERY_STEP, { root: "probe" });
  for (const a of A) workers.caps[a] = [...MODES[0].caps];
  workers.reportedTs[liar] = "USER";
  const r = await exp.run();
  assert.equal(r.status, "complete", r.error ?? "");
  return r;
}

Deno.test("a receiver reporting the other timestamp kind is refused alike by the root probe, the all-to-all, a stage and an evaluation", async () => {
  // A liar that every step measures: sampled by the root probe, a
  // candidate of a BEST stage, and a receiver of the RANDOM tree (drawn,
  // so evaluated whatever it reports). The draws are seeded: search.
  let found: { liar: string; r: Results } | undefined;
  for (const liar of A) {
    const r = await withLiar(liar);
    const probed = (stages: StageResult[]) =>
      stages.some((st) => st.candidates.some((c) => c.addr === liar));
    const [best, random] = ["BEST", "RANDOM"].map((type) =>
      r.trees.find((t) => t.type === type)!
    );
    if (
      probed(r.rootProbe!.stages) && probed(best!.stages) &&
      random!.nodes.slice(1).includes(liar)
    ) {
      found = { liar, r };
      break;
    }
  }
  assert.ok(found, "some worker is both sampled and in the RANDOM tree");
  const { liar, r } = found;
  const refused =
    /^Measured with user timestamps; the experiment compares kernel/;
  // Recorded under each step, and only for the liar.
  const best = r.trees.find((t) => t.type === "BEST")!;
  const random = r.trees.find((t) => t.type === "RANDOM")!;
  const lemon = r.trees.find((t) => t.type === "LEMON")!;
  assert.ok(
    r.mismatches!.every((m) => m.addr === liar && refused.test(m.detail)),
  );
  const where = new Set(r.mismatches!.map((m) => `${m.tree}/${m.during}`));
  for (
    const w of [
      "root probe/stage",
      `${lemon.name}/stage`,
      `${best.name}/stage`,
      `${random.name}/evaluation`,
    ]
  ) assert.ok(where.has(w), `${w} in ${[...where]}`);
  // The root probe: the liar's stream has an error and no score, so its
  // sender has no mean p90.
  for (const st of r.rootProbe!.stages) {
    const c = st.candidates.find((c) => c.addr === liar);
    if (!c) continue;
    assert.match(c.error ?? "", refused);
    assert.equal(c.score, undefined);
    assert.equal(r.rootProbe!.scores[st.parent], null);
  }
  // The all-to-all: no delay towards the liar, every pair an error.
  const phase = r.allToAll![0]!, row = phase.addrs.indexOf(liar);
  assert.ok(phase.delaysUs[row]!.every((d) => d === null));
  const pairs = Object.entries(phase.errors ?? {});
  assert.equal(pairs.length, phase.addrs.length - 1);
  assert.ok(pairs.every(([k, v]) => k.endsWith(`>${liar}`) && refused.test(v)));
  // A stage: never kept, the error on the candidate.
  const cands = best.stages.flatMap((s) => s.candidates).filter((c) =>
    c.addr === liar
  );
  assert.ok(cands.length > 0 && !best.nodes.includes(liar));
  for (const c of cands) {
    assert.equal(c.kept, false);
    assert.match(c.error ?? "", refused);
  }
  // An evaluation: the node flagged.
  const node = random.evaluations[0]!.nodes.find((n) => n.addr === liar)!;
  assert.match(node.error ?? "", refused);
  assertResultsSchema(JSON.parse(JSON.stringify(r)));
});
