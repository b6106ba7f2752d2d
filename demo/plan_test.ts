import assert from "node:assert/strict";
import { parseCommand, UsageError } from "../core/cli.ts";
import { chooseStraggle, type Host, planDemo, spec } from "./plan.ts";

/** The plan of `treecast demo ARGS` on `host`, through the real flag parser. */
const plan = (args: string[], host: Host) =>
  planDemo(parseCommand(spec, args).values, host);

const ROOT: Host = { os: "linux", uid: 0, cgroups: true };
const USER: Host = { os: "linux", uid: 1000, cgroups: true };
const NO_CGROUPS: Host = { os: "linux", uid: 0, cgroups: false };
const MAC: Host = { os: "darwin", uid: 0, cgroups: false };

Deno.test("demo --thesis as root with cgroups: CPU-quota stragglers in namespaces, no note", () => {
  const p = plan(["--thesis"], ROOT);
  assert.equal(p.straggle, "cpu");
  assert.equal(p.netns, true);
  assert.equal(p.slow.size, 3);
  assert.equal(p.note, undefined);
});

Deno.test("demo --thesis without root, cgroups or Linux: in-band stragglers on 127.0.0.1, with one note naming why", () => {
  for (
    const [host, why] of [
      [USER, /: not root \(uid 1000\)$/],
      [NO_CGROUPS, /: no cgroup cpu or cpuset controller is mounted$/],
      [MAC, /: not Linux \(darwin\)$/],
    ] as const
  ) {
    const p = plan(["--thesis"], host);
    assert.equal(p.straggle, "emulate", host.os);
    assert.equal(p.netns, false);
    assert.equal(p.slow.size, 3);
    assert.match(p.note ?? "", /^demo: in-band stragglers \(/);
    assert.match(p.note!, why);
    assert.ok(!p.note!.includes("\n"), "one line");
  }
});

Deno.test("demo --thesis --no-stragglers (or --stragglers 0) as root: no stragglers, no namespaces", () => {
  for (
    const args of [
      ["--thesis", "--no-stragglers"],
      ["--thesis", "--stragglers", "0"],
    ]
  ) {
    const p = plan(args, ROOT);
    assert.equal(p.straggle, "none");
    assert.equal(p.slow.size, 0);
    assert.equal(p.netns, false);
    assert.equal(p.note, undefined);
  }
});

Deno.test("--straggle as given wins over the thesis's default; the plain demo stays in-band as root", () => {
  const emulate = plan(["--thesis", "--straggle", "emulate"], ROOT);
  assert.deepEqual([emulate.straggle, emulate.netns], ["emulate", false]);
  const plain = plan([], ROOT);
  assert.deepEqual([plain.straggle, plain.netns], ["emulate", false]);
  const cpu = plan(["--straggle", "cpu"], ROOT);
  assert.deepEqual([cpu.straggle, cpu.netns], ["cpu", false]);
  const both = plan(["--straggle", "cpu", "--netns"], ROOT);
  assert.deepEqual([both.straggle, both.netns], ["cpu", true]);
});

Deno.test("--straggle cpu without root, or an unknown --straggle, is a usage error", () => {
  assert.throws(
    () =>
      chooseStraggle({
        thesis: true,
        stragglers: 3,
        straggle: "cpu",
        netns: false,
      }, USER),
    (e) => e instanceof UsageError && /needs root/.test(e.message),
  );
  assert.throws(
    () =>
      chooseStraggle({
        thesis: false,
        stragglers: 3,
        straggle: "slow",
        netns: false,
      }, ROOT),
    (e) =>
      e instanceof UsageError &&
      /must be emulate or cpu, got "slow"/.test(e.message),
  );
});
