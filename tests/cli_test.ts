import assert from "node:assert/strict";
import { runTreecast } from "./helpers/run.ts";

const SUBCOMMANDS = [
  "manager",
  "worker",
  "parent",
  "proxy",
  "child",
  "demo",
  "keygen",
  "report",
];
const SNAP = new URL("./snapshots/", import.meta.url);
const UPDATE = Deno.env.get("UPDATE_SNAPSHOTS") === "1";

/** Compares `text` with a snapshot file; UPDATE_SNAPSHOTS=1 rewrites it. */
async function assertSnapshot(name: string, text: string): Promise<void> {
  const file = new URL(name, SNAP);
  if (UPDATE) {
    await Deno.writeTextFile(file, text);
    return;
  }
  let want: string;
  try {
    want = await Deno.readTextFile(file);
  } catch {
    throw new Error(
      `No snapshot ${name}: run with UPDATE_SNAPSHOTS=1 to create it`,
    );
  }
  assert.equal(
    text,
    want,
    `Snapshot ${name} differs (UPDATE_SNAPSHOTS=1 rewrites it)`,
  );
}

Deno.test("treecast help lists every subcommand", async () => {
  const r = await runTreecast(["help"]);
  assert.equal(r.code, 0);
  for (const c of SUBCOMMANDS) {
    assert.match(r.stdout, new RegExp(`^  ${c} `, "m"));
  }
  await assertSnapshot("help.txt", r.stdout);
});

for (const cmd of SUBCOMMANDS) {
  Deno.test(`treecast ${cmd} --help matches its snapshot`, async () => {
    const r = await runTreecast([cmd, "--help"]);
    assert.equal(r.code, 0);
    assert.equal(r.stderr, "");
    await assertSnapshot(`help_${cmd}.txt`, r.stdout);
    const viaHelp = await runTreecast(["help", cmd]);
    assert.equal(viaHelp.stdout, r.stdout);
  });

  Deno.test(`treecast ${cmd} with an unknown flag exits 2 with one error line`, async () => {
    const r = await runTreecast([cmd, "--no-such-flag"]);
    assert.equal(r.code, 2);
    const errors = r.stderr.split("\n").filter((l) => l.startsWith("error:"));
    assert.deepEqual(errors, ['error: Unknown flag "--no-such-flag"']);
    assert.equal(r.stdout, "");
    await assertSnapshot(`usage_error_${cmd}.txt`, r.stderr);
  });
}

Deno.test("an unknown command exits 2 with one error line", async () => {
  const r = await runTreecast(["frobnicate"]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.split("\n")[0], 'error: Unknown command "frobnicate"');
  assert.equal(
    r.stderr.split("\n").filter((l) => l.startsWith("error:")).length,
    1,
  );
});

Deno.test("no command prints the help and exits 2", async () => {
  const r = await runTreecast([]);
  assert.equal(r.code, 2);
  assert.match(r.stdout, /Usage: treecast <command>/);
});

Deno.test("a bad script exits 2 with one error line naming file, line, column and field", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/bad.yaml`;
  await Deno.writeTextFile(
    file,
    'name: X\naddrs: ["127.0.0.1:9101"]\nfanot: 2\n',
  );
  const r = await runTreecast(["manager", file]);
  assert.equal(r.code, 2);
  const errors = r.stderr.split("\n").filter((l) => l.startsWith("error:"));
  assert.deepEqual(errors, [
    `error: ${file}:3:1: field "fanot": unknown key "fanot", did you mean "fanout"? ` +
    "(allowed: name, description, seed, addrs, addrs_file, depth, fanout, hyperparameter, rate, " +
    "duration, warmup, evaluation, roots, root, root_probe, trees, parallel, " +
    "clocks, clock_error, rebuild, lemon, timeouts, steps)",
  ]);
});
