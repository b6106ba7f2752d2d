import assert from "node:assert/strict";
import { UsageError } from "../core/cli.ts";
import * as D from "./defaults.ts";
import { loadScript, parseScript } from "./script.ts";
import { type Action, type Script, ScriptError } from "./script_types.ts";

const EXAMPLES = new URL("../examples/", import.meta.url);

/** The YAML example of the original design (`shared/seed/slides.txt`). */
const SEED_EXAMPLE = `name: DEFAULT
hyperparameter: 0.5
rate: 10
duration: 10
addrs:
  - "localhost:9091"
  - "localhost:9092"
  - "localhost:9093"
  - "localhost:9094"
  - "localhost:9095"
  - "localhost:9096"
steps:
  - action: "CONNECT"
    description: "Establish connection workers."
    data: 0
  - action: "ROOT"
    description: "Choose root among worker nodes."
    data: 0
`;

/** Three workers: enough for the default tree, which then has depth 1. */
const A3 = "addrs: [a:1, b:2, c:3]\n";
const OK = `name: x\n${A3}`;

function parse(text: string, implementedActions?: readonly Action[]): Script {
  return parseScript(
    text,
    "t.yaml",
    implementedActions ? { implementedActions } : {},
  );
}

Deno.test("the original design's example parses, with defaults applied", () => {
  const s = parse(SEED_EXAMPLE);
  assert.equal(s.name, "DEFAULT");
  assert.equal(s.file, "t.yaml");
  assert.equal(s.text, SEED_EXAMPLE);
  assert.deepEqual(s.hyperparameter, { kind: "fraction", value: 0.5 });
  assert.equal(s.rate, 10);
  assert.equal(s.duration, 10);
  assert.equal(s.addrs.length, 6);
  // Six workers cannot fill the default depth 2 (7 nodes): depth drops to 1.
  assert.equal(s.depth, 1);
  assert.equal(s.fanout, D.FANOUT);
  assert.equal(s.seed, D.SEED);
  assert.equal(s.warmup, D.WARMUP);
  assert.deepEqual(s.evaluation, {
    rate: 10,
    duration: D.EVALUATION_DURATION,
    warmup: D.WARMUP,
    runs: D.EVALUATION_RUNS,
    fairness: {
      holdsUs: [...D.FAIRNESS_HOLDS_US],
      windowMs: 10,
      percentile: 97,
      marginUs: 25,
    },
  });
  assert.equal(s.roots, 1);
  assert.equal(s.parallel, true);
  assert.deepEqual(s.timeouts, {
    connect: D.CONNECT_TIMEOUT,
    request: D.REQUEST_TIMEOUT,
    retries: D.RETRIES,
    jobGrace: D.JOB_GRACE,
  });
  assert.deepEqual(s.trees.map((t) => t.name), [
    "BEST-WEIGHTED",
    "WORST-P90",
    "RANDOM",
  ]);
  assert.deepEqual(s.trees[0]!.strategy, {
    name: "WEIGHTED",
    weights: { p90: 0.3, iqr_excess: 0.7 },
  });
  assert.deepEqual(s.steps, [
    {
      action: "CONNECT",
      description: "Establish connection workers.",
      data: 0,
    },
    {
      action: "ROOT",
      description: "Choose root among worker nodes.",
      data: 0,
    },
  ]);
  assert.ok(!("description" in s) && !("root" in s));
});

Deno.test("examples/cloud.yaml is the original cloud experiment", async () => {
  const s = await loadScript(new URL("cloud.yaml", EXAMPLES).pathname);
  assert.equal(s.addrs.length, 25);
  assert.equal(s.addrs[24], "10.0.0.25:9000");
  assert.equal(s.depth, 3);
  assert.equal(s.fanout, 2);
  assert.deepEqual(s.hyperparameter, { kind: "count", value: 4 });
  assert.equal(s.rate, 10_000);
  assert.equal(s.duration, 10);
  assert.equal(s.evaluation.duration, 30);
  assert.equal(s.evaluation.runs, 2);
  assert.equal(s.roots, 2);
  assert.deepEqual(s.trees.map((t) => [t.name, t.type]), [
    ["BEST-WEIGHTED", "BEST"],
    ["BEST-P90", "BEST"],
    ["BEST-P50", "BEST"],
    ["WORST-P90", "WORST"],
    ["RAND", "RANDOM"],
  ]);
  assert.deepEqual(s.steps.map((x) => x.action), ["CONNECT", "ROOT"]);
});

Deno.test("examples/thesis.yaml is the thesis's comparison", async () => {
  const s = await loadScript(new URL("thesis.yaml", EXAMPLES).pathname);
  assert.equal(s.addrs.length, 25);
  assert.equal(s.depth, 3);
  assert.equal(s.fanout, 2);
  assert.deepEqual(s.hyperparameter, { kind: "count", value: 4 });
  assert.equal(s.evaluation.runs, 2);
  assert.equal(s.roots, 2);
  assert.equal(s.rebuild, 1);
  assert.equal(s.lemon.limit, 4);
  assert.deepEqual(s.trees.map((t) => [t.name, t.type]), [
    ["BEST-WEIGHTED", "BEST"],
    ["BEST-WEIGHTED-THESIS", "BEST"],
    ["BEST-P90", "BEST"],
    ["BEST-P50", "BEST"],
    ["WORST-P90", "WORST"],
    ["RAND", "RANDOM"],
    ["LEMON", "LEMON"],
  ]);
});

Deno.test("root: probe takes the candidates and sample sizes, bounded by the workers", () => {
  const s = parse(
    `${OK}root: probe\nroots: 2\nroot_probe: { candidates: 50 }\n`,
  );
  assert.equal(s.root, undefined);
  assert.equal(s.roots, 2);
  assert.deepEqual(s.rootProbe, { candidates: 3, sample: 2 });
});

Deno.test("examples/demo.yaml is the local demo", async () => {
  const s = await loadScript(new URL("demo.yaml", EXAMPLES).pathname);
  assert.deepEqual(
    s.addrs,
    [...Array(12)].map((_, i) => `127.0.0.1:${9101 + i}`),
  );
  assert.equal(s.depth, 2);
  assert.equal(s.fanout, 2);
  assert.deepEqual(s.hyperparameter, { kind: "count", value: 6 });
  assert.equal(s.rate, 2000);
  assert.equal(s.duration, 2);
  assert.equal(s.evaluation.duration, 3);
  assert.equal(s.evaluation.rate, 2000);
  assert.deepEqual(s.evaluation.fairness, {
    holdsUs: [20, 50, 100, 200, 500, 1000],
    windowMs: 10,
    percentile: 97,
    marginUs: 25,
  });
  assert.deepEqual(s.trees.map((t) => t.name), [
    "BEST-WEIGHTED",
    "WORST-P90",
    "RANDOM",
  ]);
});

Deno.test("an unreadable file is a usage error naming it", async () => {
  await assert.rejects(
    () => loadScript("/nonexistent/treecast.yaml"),
    (e: unknown) => {
      assert.ok(e instanceof UsageError && !(e instanceof ScriptError));
      assert.equal(
        e.message,
        'Cannot read script "/nonexistent/treecast.yaml": no such file',
      );
      return true;
    },
  );
});

Deno.test("hyperparameter: a decimal point means a share of the pool", () => {
  const k = (v: string, extra = "") =>
    parse(`${OK}hyperparameter: ${v}\n${extra}`).hyperparameter;
  assert.deepEqual(k("0.5"), { kind: "fraction", value: 0.5 });
  assert.deepEqual(k(".25"), { kind: "fraction", value: 0.25 });
  assert.deepEqual(k("1.0"), { kind: "fraction", value: 1 });
  assert.deepEqual(k("2"), { kind: "count", value: 2 });
  assert.deepEqual(k("1", "fanout: 1\n"), { kind: "count", value: 1 });
  assert.deepEqual(parse(OK).hyperparameter, { kind: "count", value: 4 });
  assert.deepEqual(parse(`${OK}fanout: 1\n`).hyperparameter, {
    kind: "count",
    value: 2,
  });
});

Deno.test("durations take seconds or a unit", () => {
  const s = parse(
    `${OK}duration: 500ms\nwarmup: 0\nevaluation: {duration: 2m}\n` +
      `timeouts: {connect: "1.5s", job_grace: 0.25}\n`,
  );
  assert.equal(s.duration, 0.5);
  assert.equal(s.warmup, 0);
  assert.equal(s.evaluation.duration, 120);
  assert.equal(s.evaluation.warmup, 0);
  assert.equal(s.timeouts.connect, 1.5);
  assert.equal(s.timeouts.jobGrace, 0.25);
});

Deno.test("clocks: trust by default, require-sync and clock_error when given", () => {
  assert.deepEqual(parse(OK).clocks, {
    policy: "trust",
    offsets: "trust",
    maxErrorUs: 1000,
  });
  assert.deepEqual(
    parse(`${OK}clocks: require-sync\nclock_error: 500us\n`).clocks,
    { policy: "require-sync", offsets: "trust", maxErrorUs: 500 },
  );
  assert.throws(
    () => parse(`${OK}clocks: sync\n`),
    /field "clocks": unknown clocks policy "sync".*\(allowed: trust, require-sync, correct\)/,
  );
});

Deno.test("clocks: correct, or a mapping of both policies", () => {
  assert.deepEqual(parse(`${OK}clocks: correct\n`).clocks, {
    policy: "trust",
    offsets: "correct",
    maxErrorUs: 1000,
  });
  assert.deepEqual(
    parse(`${OK}clocks: {kernel: require-sync, offsets: correct}\n`).clocks,
    { policy: "require-sync", offsets: "correct", maxErrorUs: 1000 },
  );
  assert.throws(
    () => parse(`${OK}clocks: {offsets: fix}\n`),
    /:\d+:\d+: .*field "clocks.offsets": unknown offsets policy "fix".*\(allowed: trust, correct\)/,
  );
  assert.throws(
    () => parse(`${OK}clocks: {kernel: correct}\n`),
    /field "clocks.kernel": unknown kernel clocks policy "correct"/,
  );
});

Deno.test("durations in a script take the CLI's units too: us, µs and ns", () => {
  const s = parse(
    `${OK}warmup: 500us\nduration: 2000000ns\nevaluation: {warmup: 250µs}\n`,
  );
  assert.equal(s.warmup, 0.0005);
  assert.equal(s.duration, 0.002);
  assert.equal(s.evaluation.warmup, 0.00025);
});

Deno.test("trees: aliases, default names and custom weights", () => {
  const s = parse(
    `${OK}trees:\n  - type: RAND\n  - type: BEST\n` +
      `    strategy: {weights: {p99: 2, lost: 1}}\n` +
      `  - {type: WORST, strategy: P50, name: slow}\n`,
  );
  assert.deepEqual(s.trees, [
    { name: "RANDOM", type: "RANDOM" },
    {
      name: "BEST-CUSTOM",
      type: "BEST",
      strategy: { name: "CUSTOM", weights: { p99: 2, lost: 1 } },
    },
    {
      name: "slow",
      type: "WORST",
      strategy: { name: "P50", weights: { p50: 1 } },
    },
  ]);
});

Deno.test("trees: hedge (absent: none; 0 is none)", () => {
  const s = parse(
    `name: x\naddrs: [a:1, b:2, c:3, d:4, e:5, f:6, g:7]\nfanout: 2\n` +
      `trees:\n  - {type: RANDOM, hedge: 1}\n  - {type: LEMON, hedge: 0}\n` +
      `  - {type: BEST, strategy: P90}\n`,
  );
  assert.deepEqual(s.trees.map((t) => t.hedge), [1, undefined, undefined]);
});

Deno.test("root picks one worker, as spelled in addrs", () => {
  const s = parse("name: x\naddrs: [Host-A:1, b:2, c:3]\nroot: host-a:1\n");
  assert.equal(s.root, "Host-A:1");
  assert.equal(s.roots, 1);
});

Deno.test("a depth the script gives is never lowered to fit", () => {
  assert.equal(parse(`${OK}depth: 1\n`).depth, 1);
  assert.equal(
    parse("name: x\naddrs: [a:1, b:2, c:3, d:4, e:5, f:6, g:7]\n").depth,
    2,
  );
});

Deno.test("anchors and aliases are followed", () => {
  const s = parse(`name: &n x\ndescription: *n\n${A3}`);
  assert.equal(s.description, "x");
  const t = parse(
    "name: x\nrate: &r 500\naddrs: [a:1, b:2, c:3]\nevaluation: {rate: *r}\n",
  );
  assert.equal(t.evaluation.rate, 500);
});

Deno.test("evaluation.fairness: holds, window, percentile and margin of the per-message figures", () => {
  const s = parse(
    `${OK}evaluation:\n  fairness: { holds_us: [20, 50.5], window_ms: 5, ` +
      `percentile: 99.5, margin_us: 0 }\n`,
  );
  assert.deepEqual(s.evaluation.fairness, {
    holdsUs: [20, 50.5],
    windowMs: 5,
    percentile: 99.5,
    marginUs: 0,
  });
  assert.equal(
    parse(`${OK}evaluation: { fairness: { window_ms: 2 } }\n`).evaluation
      .fairness.percentile,
    D.FAIRNESS_PERCENTILE,
  );
});

/** [what, script, "line:col", field (or null), part of the message, implementedActions?] */
type Row = [string, string, string, string | null, string, Action[]?];

const ROWS: Row[] = [
  [
    "YAML syntax error",
    "name: x\naddrs: [a:1, b:2\n",
    "3:1",
    null,
    "YAML syntax error: Flow sequence",
  ],
  [
    "tab indentation",
    "name: x\nevaluation:\n\truns: 2\n",
    "3:1",
    null,
    "YAML syntax error",
  ],
  [
    "duplicate key",
    "name: x\nname: y\n",
    "2:1",
    null,
    "YAML syntax error: Map keys must be unique",
  ],
  ["empty file", "", "1:1", null, "Script is empty"],
  ["only a comment", "# nothing\n", "1:1", null, "Script is empty"],
  [
    "not a mapping",
    "- name: x\n",
    "1:1",
    null,
    "Script must be a mapping, got a list",
  ],
  ["a scalar", "hello\n", "1:1", null, 'Script must be a mapping, got "hello"'],
  ["missing name", "# demo\naddrs: [a:1]\n", "2:1", "name", "is missing"],
  ["missing addrs", "name: x\n", "1:1", "addrs", "is missing"],
  [
    "bad name",
    `name: my run\n${A3}`,
    "1:7",
    "name",
    'must start with a letter or digit, then only letters, digits and _ . -, got "my run"',
  ],
  [
    "name not a string",
    `name: [a]\n${A3}`,
    "1:7",
    "name",
    "must be a string, got a list",
  ],
  [
    "unknown key",
    `${OK}fanot: 2\n`,
    "3:1",
    "fanot",
    'unknown key "fanot", did you mean "fanout"? (allowed: name, description,',
  ],
  [
    "unknown key, no near miss",
    `${OK}colour: red\n`,
    "3:1",
    "colour",
    'unknown key "colour" (allowed: name,',
  ],
  [
    "unknown nested key",
    `${OK}timeouts:\n  connect: 2\n  retry: 3\n`,
    "5:3",
    "timeouts.retry",
    'unknown key "retry", did you mean "retries"? (allowed: connect, request, retries, job_grace)',
  ],
  [
    "wrong type for rate",
    `${OK}rate: fast\n`,
    "3:7",
    "rate",
    'must be a whole number from 1 to 1000000, got "fast"',
  ],
  [
    "rate as a quoted number",
    `${OK}rate: "10"\n`,
    "3:7",
    "rate",
    'got "10" (a string: drop the quotes)',
  ],
  [
    "rate out of range",
    `${OK}rate: 2000000\n`,
    "3:7",
    "rate",
    "must be a whole number from 1 to 1000000, got 2000000",
  ],
  ["rate not whole", `${OK}rate: 2.5\n`, "3:7", "rate", "got 2.5"],
  [
    "empty value points at the key",
    `${OK}depth:\n`,
    "3:1",
    "depth",
    "must be a whole number from 1 to 8, got nothing",
  ],
  [
    "duration 10x",
    `${OK}duration: 10x\n`,
    "3:11",
    "duration",
    'must be seconds such as 10, "10s" or "500ms", got "10x"',
  ],
  [
    "duration 0",
    `${OK}duration: 0s\n`,
    "3:11",
    "duration",
    'must be at least 0.001 seconds (a worker\'s limit), got "0s" (0 seconds)',
  ],
  ["duration too long", `${OK}duration: 2h\n`, "3:11", "duration", 'got "2h"'],
  [
    "duration over an hour",
    `${OK}duration: 61m\n`,
    "3:11",
    "duration",
    'must be at most 3600 seconds (a worker\'s limit), got "61m" (3660 seconds)',
  ],
  [
    "warmup over the worker's limit",
    `${OK}warmup: 700\n`,
    "3:9",
    "warmup",
    "must be at most 600 seconds (a worker's limit), got 700",
  ],
  [
    "duration that rounds to 0 ms",
    `${OK}duration: 0.0004\n`,
    "3:11",
    "duration",
    "must be at least 0.001 seconds (a worker's limit), got 0.0004",
  ],
  [
    "evaluation warmup over the worker's limit",
    `${OK}evaluation: {warmup: 11m}\n`,
    "3:22",
    "evaluation.warmup",
    'must be at most 600 seconds (a worker\'s limit), got "11m"',
  ],
  [
    "lemon duration over the worker's limit",
    `${OK}lemon: {duration: 3601}\n`,
    "3:19",
    "lemon.duration",
    "must be at most 3600 seconds (a worker's limit), got 3601",
  ],
  [
    "a job's timeout past the worker's limit",
    `${OK}duration: 5m\nwarmup: 5m\ntimeouts: {job_grace: 61}\n`,
    "5:23",
    "timeouts.job_grace",
    "makes a job's timeout (warm-up 300 s + duration 300 s + job_grace " +
    "61 s = 661 s) longer than a default worker allows (--max-duration 600 s " +
    "+ a grace of 60 s)",
  ],
  [
    "a LEMON job's timeout past the worker's limit",
    `${OK}lemon: {duration: 5m, warmup: 300}\n` +
    `timeouts: {job_grace: 61}\n`,
    "4:23",
    "timeouts.job_grace",
    "job_grace 61 s = 661 s) longer than a default worker allows",
  ],
  [
    "job_grace over the worker's timeout limit",
    `${OK}timeouts: {job_grace: 7201}\n`,
    "3:23",
    "timeouts.job_grace",
    "must be at most 7200 seconds, got 7201",
  ],
  [
    "hyperparameter over a worker's address limit",
    `${OK}hyperparameter: 2000\n`,
    "3:17",
    "hyperparameter",
    "must be at most 1024 candidates (a worker's limit on the addresses of one job), got 2000",
  ],
  [
    "negative warmup",
    `${OK}warmup: -1\n`,
    "3:9",
    "warmup",
    "must be at least 0 seconds (a worker's limit), got -1",
  ],
  [
    "empty addrs",
    "name: x\naddrs: []\n",
    "2:8",
    "addrs",
    "must list at least one of HOST:PORT workers",
  ],
  [
    "addrs not a list",
    'name: x\naddrs: "a:1"\n',
    "2:8",
    "addrs",
    'must be a list of HOST:PORT workers, got "a:1"',
  ],
  [
    "bad host:port item",
    'name: x\naddrs:\n  - "a:1"\n  - "b:2"\n  - "localhost"\n',
    "5:5",
    "addrs[2]",
    '"localhost" is not HOST:PORT: expected a HOST:PORT string such as "10.0.0.1:9000"',
  ],
  [
    "port out of range",
    "name: x\naddrs: [a:1, b:70000]\n",
    "2:14",
    "addrs[1]",
    '"b:70000" has a port above 65535',
  ],
  [
    "port 0",
    "name: x\naddrs: [a:1, b:0]\n",
    "2:14",
    "addrs[1]",
    '"b:0" has port 0',
  ],
  [
    "addr not a string",
    "name: x\naddrs:\n  - a:1\n  - 9000\n",
    "4:5",
    "addrs[1]",
    "got 9000",
  ],
  [
    "duplicate addr",
    "name: x\naddrs:\n  - a:1\n  - b:2\n  - A:1\n",
    "5:5",
    "addrs[2]",
    '"A:1" is listed twice (first as addrs[0])',
  ],
  [
    "too few workers",
    `${OK}depth: 2\n`,
    "2:8",
    "addrs",
    "3 workers cannot fill a tree of depth 2 and fanout 2, which needs 7",
  ],
  [
    "too few for the shallowest tree",
    `${OK}fanout: 3\n`,
    "2:8",
    "addrs",
    "3 workers cannot fill a tree of depth 1 and fanout 3, which needs 4",
  ],
  [
    "depth out of range",
    `${OK}depth: 9\n`,
    "3:8",
    "depth",
    "must be a whole number from 1 to 8, got 9",
  ],
  [
    "hyperparameter 0",
    `${OK}hyperparameter: 0\n`,
    "3:17",
    "hyperparameter",
    "must be a whole number of candidates of at least 2 (the fanout) or a share of the remaining pool in (0, 1], got 0",
  ],
  [
    "hyperparameter count below fanout",
    "name: x\naddrs: [a:1, b:2, c:3, d:4]\nfanout: 3\nhyperparameter: 2\n",
    "4:17",
    "hyperparameter",
    "at least 3 (the fanout)",
  ],
  [
    "hyperparameter 1 with fanout 2",
    `${OK}hyperparameter: 1\n`,
    "3:17",
    "hyperparameter",
    "got 1 (write 1.0 for the whole pool)",
  ],
  [
    "hyperparameter 1.5",
    `${OK}hyperparameter: 1.5\n`,
    "3:17",
    "hyperparameter",
    "got 1.5",
  ],
  [
    "hyperparameter a string",
    `${OK}hyperparameter: half\n`,
    "3:17",
    "hyperparameter",
    'must be a number, got "half"',
  ],
  [
    "hedge at the fanout",
    `${OK}fanout: 2\ntrees:\n  - { type: RANDOM, hedge: 2 }\n`,
    "5:28",
    "trees[0].hedge",
    "must be below the fanout (2): a node's hedge parents are its parent's siblings, got 2",
  ],
  [
    "negative hedge",
    `${OK}trees:\n  - { type: RANDOM, hedge: -1 }\n`,
    "4:28",
    "trees[0].hedge",
    "must be a whole number from 0 to 63, got -1",
  ],
  [
    "roots 0",
    `${OK}roots: 0\n`,
    "3:8",
    "roots",
    "must be a whole number of at least 1, got 0",
  ],
  [
    "more roots than workers",
    `${OK}roots: 4\n`,
    "3:8",
    "roots",
    "3 workers cannot provide 4 distinct roots",
  ],
  [
    "roots and root",
    `${OK}root: a:1\nroots: 2\n`,
    "4:8",
    "roots",
    'give either "roots" (how many) or "root" (which), not both',
  ],
  [
    "root not in addrs",
    `${OK}root: d:4\n`,
    "3:7",
    "root",
    '"d:4" is not one of the workers in "addrs"',
  ],
  [
    "trees empty",
    `${OK}trees: []\n`,
    "3:8",
    "trees",
    "must list at least one of trees",
  ],
  [
    "unknown tree type",
    `${OK}trees:\n  - type: BETS\n    strategy: P90\n`,
    "4:11",
    "trees[0].type",
    'unknown tree type "BETS", did you mean "BEST"? (allowed: BEST, WORST, RANDOM, LEMON)',
  ],
  [
    "tree type missing",
    `${OK}trees:\n  - strategy: P90\n`,
    "4:5",
    "trees[0].type",
    "is missing: BEST, WORST, RANDOM, LEMON",
  ],
  [
    "strategy on LEMON",
    `${OK}trees:\n  - type: LEMON\n    strategy: P90\n`,
    "5:15",
    "trees[0].strategy",
    "a LEMON tree is placed by the all-to-all delays: drop its strategy",
  ],
  [
    "lemon limit 0",
    `${OK}lemon: { limit: 0 }\n`,
    "3:17",
    "lemon.limit",
    "must be a whole number from 1 to 64",
  ],
  [
    "lemon start unknown",
    `${OK}lemon: { start: identity }\n`,
    "3:17",
    "lemon.start",
    'unknown FAQ start "identity"',
  ],
  [
    "root_probe without root: probe",
    `${OK}root_probe: { candidates: 2 }\n`,
    "3:13",
    "root_probe",
    'needs "root: probe"',
  ],
  [
    "rebuild too many",
    `${OK}rebuild: 11\n`,
    "3:10",
    "rebuild",
    "must be a whole number from 0 to 10",
  ],
  [
    "strategy missing for BEST",
    `${OK}trees:\n  - type: RANDOM\n  - type: BEST\n`,
    "5:5",
    "trees[1].strategy",
    "is missing: a BEST tree needs P90, P50, WEIGHTED, WEIGHTED-THESIS or weights",
  ],
  [
    "strategy on RANDOM",
    `${OK}trees:\n  - type: RANDOM\n    strategy: P90\n`,
    "5:15",
    "trees[0].strategy",
    "a RANDOM tree is drawn at random: drop its strategy",
  ],
  [
    "unknown strategy name",
    `${OK}trees:\n  - {type: WORST, strategy: P95}\n`,
    "4:29",
    "trees[0].strategy",
    'unknown strategy "P95", did you mean "P90"? (allowed: P90, P50, WEIGHTED, WEIGHTED-THESIS, or { weights:',
  ],
  [
    "weights with an unknown stat",
    `${OK}trees:\n  - type: BEST\n    strategy:\n      weights: {p90: 1, jitter: 2}\n`,
    "6:25",
    "trees[0].strategy.weights.jitter",
    'unknown key "jitter" (allowed: min, p25, p50, p75, p90, p99, p999, max, mean, stddev, iqr, iqr_excess, lost)',
  ],
  [
    "negative weight",
    `${OK}trees:\n  - {type: BEST, strategy: {weights: {p90: -1}}}\n`,
    "4:44",
    "trees[0].strategy.weights.p90",
    "must be a weight of at least 0, got -1",
  ],
  [
    "all weights zero",
    `${OK}trees:\n  - {type: BEST, strategy: {weights: {p90: 0}}}\n`,
    "4:38",
    "trees[0].strategy.weights",
    "must give at least one statistic a weight above 0",
  ],
  [
    "duplicate tree names",
    `${OK}trees:\n  - {type: BEST, strategy: P90}\n  - {type: WORST, strategy: P50, name: BEST-P90}\n`,
    "5:40",
    "trees[1].name",
    'tree name "BEST-P90" is already used by trees[0]',
  ],
  [
    "duplicate default tree names",
    `${OK}trees:\n  - type: RANDOM\n  - type: RAND\n`,
    "5:5",
    "trees[1].name",
    'tree name "RANDOM" is already used by trees[0]: give one of them another "name"',
  ],
  [
    "unknown step action",
    `${OK}steps:\n  - action: CONECT\n`,
    "4:13",
    "steps[0].action",
    'unknown action "CONECT", did you mean "CONNECT"? (allowed: CONNECT, ROOT)',
  ],
  [
    "manager-only action",
    `${OK}steps:\n  - action: CONNECT\n  - action: MCAST\n`,
    "5:13",
    "steps[1].action",
    'action "MCAST" is pushed by the manager itself and cannot be listed in a script (allowed: CONNECT, ROOT)',
  ],
  [
    "unimplemented action",
    `${OK}steps:\n  - action: CONNECT\n  - action: ROOT\n`,
    "5:13",
    "steps[1].action",
    'action "ROOT" is not implemented yet',
    ["CONNECT"],
  ],
  [
    "default steps unimplemented",
    OK,
    "1:1",
    "steps",
    'the default steps (CONNECT, ROOT) include "ROOT", which is not implemented yet',
    ["CONNECT"],
  ],
  [
    "step action missing",
    `${OK}steps:\n  - description: hi\n`,
    "4:5",
    "steps[0].action",
    "is missing: CONNECT, ROOT",
  ],
  [
    "step data a list",
    `${OK}steps:\n  - {action: CONNECT, data: [1]}\n`,
    "4:29",
    "steps[0].data",
    "must be a single value, got a list",
  ],
  [
    "parallel not boolean",
    `${OK}parallel: yes\n`,
    "3:11",
    "parallel",
    'must be true or false, got "yes"',
  ],
  [
    "timeouts.retries 11",
    `${OK}timeouts:\n  retries: 11\n`,
    "4:12",
    "timeouts.retries",
    "must be a whole number from 0 to 10, got 11",
  ],
  [
    "evaluation.runs 0",
    `${OK}evaluation:\n  runs: 0\n`,
    "4:9",
    "evaluation.runs",
    "must be a whole number from 1 to 100, got 0",
  ],
  [
    "alias with no anchor",
    `${OK}rate: *fast\n`,
    "3:7",
    "rate",
    "got *fast, an alias with no anchor before it",
  ],
  [
    "a key that is not a word",
    `${OK}timeouts:\n  ? [connect]\n  : 3\n`,
    "4:5",
    "timeouts",
    'keys must be words such as "connect", got a list',
  ],
  [
    "values are case-sensitive, with a hint",
    `${OK}trees: [{type: best, strategy: P90}]\n`,
    "3:16",
    "trees[0].type",
    'unknown tree type "best", did you mean "BEST"?',
  ],
  [
    "a fairness hold of 0",
    `${OK}evaluation:\n  fairness: { holds_us: [10, 0] }\n`,
    "4:30",
    "evaluation.fairness.holds_us[1]",
    "must be a number above 0 and at most 4294967 µs, got 0",
  ],
  [
    "fairness holds out of order",
    `${OK}evaluation:\n  fairness: { holds_us: [10, 5] }\n`,
    "4:25",
    "evaluation.fairness.holds_us",
    "must be ascending, got 5 after 10",
  ],
  [
    "a fairness percentile above 100",
    `${OK}evaluation: { fairness: { percentile: 101 } }\n`,
    "3:39",
    "evaluation.fairness.percentile",
    "must be a number above 0 and at most 100, got 101",
  ],
  [
    "an unknown fairness key",
    `${OK}evaluation: { fairness: { window: 10 } }\n`,
    "3:27",
    "evaluation.fairness.window",
    'unknown key "window", did you mean "window_ms"?',
  ],
  [
    "evaluation not a mapping",
    `${OK}evaluation: 30\n`,
    "3:13",
    "evaluation",
    "must be a mapping, got 30",
  ],
];

Deno.test("invalid scripts: each error names file:line:col and the field", async (t) => {
  assert.ok(ROWS.length >= 25);
  for (const [what, text, where, field, part, actions] of ROWS) {
    await t.step(what, () => {
      let error: unknown;
      try {
        parse(text, actions);
      } catch (e) {
        error = e;
      }
      assert.ok(error instanceof ScriptError, `${what}: no ScriptError`);
      assert.ok(error instanceof UsageError);
      const [line, col] = where.split(":").map(Number);
      assert.deepEqual([error.file, error.line, error.col], [
        "t.yaml",
        line,
        col,
      ]);
      assert.equal(error.field, field ?? undefined);
      const prefix = `t.yaml:${where}: ` + (field ? `field "${field}": ` : "");
      assert.equal(error.message, prefix + error.reason);
      assert.ok(error.message.includes(part), `${what}: ${error.message}`);
    });
  }
});

Deno.test("errors come in document order", () => {
  const first = (text: string) => {
    try {
      parse(text);
    } catch (e) {
      return (e as ScriptError).message;
    }
    assert.fail("no error");
  };
  assert.match(
    first("name: x\nrate: 0\naddrs: []\n"),
    /^t\.yaml:2:7: field "rate"/,
  );
  // Both are wrong in ways that involve other keys: the earlier one wins.
  assert.match(
    first("name: x\nroot: z:9\ndepth: 3\naddrs: [a:1]\n"),
    /^t\.yaml:2:7: field "root"/,
  );
});
