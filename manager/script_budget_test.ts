import assert from "node:assert/strict";
import { DEFAULT_BUDGET } from "../core/budget.ts";
import { runTreecast } from "../tests/helpers/run.ts";
import { parseScript } from "./script.ts";
import { ScriptError } from "./script_types.ts";

const A5 = "addrs: [a:1, b:2, c:3, d:4, e:5]\n";

function refusal(text: string): ScriptError {
  try {
    parseScript(text, "t.yaml");
  } catch (e) {
    if (e instanceof ScriptError) return e;
    throw e;
  }
  throw new Error("the script was accepted");
}

Deno.test("a script within the default budget passes", () => {
  parseScript(`name: x\n${A5}rate: 50000\nhyperparameter: 4\n`, "t.yaml");
  // The same evaluation unhedged: 60000 x 2.
  parseScript(
    `name: x\n${A5}fanout: 2\nevaluation: {rate: 60000}\n` +
      `trees: [{type: RANDOM}]\n`,
    "t.yaml",
  );
});

Deno.test("a script whose jobs go beyond a worker's default budget is refused naming the field", () => {
  const cases: [string, string, string, RegExp][] = [
    [
      `name: x\n${A5}rate: 100000\nhyperparameter: 4\n`,
      "3:7",
      "rate",
      /budget: rate x destinations 400000 pps exceeds --max-pps 200000 pps$/,
    ],
    [
      `name: x\n${A5}evaluation: {rate: 150000}\nfanout: 2\n`,
      "3:20",
      "evaluation.rate",
      /budget: rate x destinations 300000 pps exceeds --max-pps/,
    ],
    [
      // A hedged proxy forwards to F x (1 + H) children: 60000 x 2 x 2.
      `name: x\n${A5}fanout: 2\nevaluation: {rate: 60000}\n` +
      `trees: [{type: RANDOM, hedge: 1}]\n`,
      "4:20",
      "evaluation.rate",
      /budget: rate x destinations 240000 pps exceeds --max-pps 200000 pps$/,
    ],
    [
      `name: x\n${A5}duration: 20m\n`,
      "3:11",
      "duration",
      /budget: warm-up \+ duration 1201 s exceeds --max-duration 600 s$/,
    ],
    [
      `name: x\n${A5}lemon: {limit: 16}\n`,
      "3:16",
      "lemon.limit",
      /budget: jobs at once 17 exceeds --max-jobs 16$/,
    ],
  ];
  for (const [text, where, field, want] of cases) {
    const e = refusal(text);
    assert.equal(`${e.line}:${e.col}`, where, e.message);
    assert.equal(e.field, field, e.message);
    assert.match(e.message, want);
  }
});

Deno.test("a script over budget makes the manager exit 2 with one error line naming the field", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/fast.yaml`;
  const rate = DEFAULT_BUDGET.pps; // to each of 4 candidates
  await Deno.writeTextFile(file, `name: X\n${A5}rate: ${rate}\n`);
  try {
    const r = await runTreecast(["manager", file]);
    assert.equal(r.code, 2);
    const errors = r.stderr.split("\n").filter((l) => l.startsWith("error:"));
    assert.equal(errors.length, 1, r.stderr);
    assert.match(
      errors[0]!,
      new RegExp(
        `^error: ${file}:3:7: field "rate": .*budget: rate x destinations ` +
          `${4 * rate} pps exceeds --max-pps ${rate} pps$`,
      ),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
