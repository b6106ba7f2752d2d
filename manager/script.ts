/**
 * The experiment script: YAML in, a typed {@link Script} with every default
 * applied out. Any problem is a {@link ScriptError} naming the file, line,
 * column and field, so the CLI can print one `error:` line and exit 2.
 *
 * The schema is the table `scriptKeys` (`script_keys.ts`): each key has a
 * reader (see `yaml_read.ts`) that checks its node and returns its value,
 * walking the document in order and stopping at the first problem. Checks that involve
 * several keys (tree size, `hyperparameter` against `fanout`, `root` against
 * `addrs`, ...) run after the walk, one named step each (`_build` reads
 * them in order), and report the earliest of their problems in document
 * order; then the defaults fill every key left out (`_withDefaults`).
 *
 * Rules worth knowing:
 * - Keys and values are case-sensitive (`BEST`, not `best`); near misses get
 *   a "did you mean" hint. List indexes in field paths count from 0.
 * - `hyperparameter`: a number written with a decimal point, or not whole,
 *   is a share of the pool in (0, 1] (so `1.0` is the whole pool); a whole
 *   number is a count of candidates, at least the fanout.
 * - `depth` left out is the default, or less when `addrs` cannot fill a tree
 *   that deep (see `DEPTH` in `defaults.ts`); a depth given is never lowered.
 * - Durations are seconds: a number, or a string in the CLI's one duration
 *   syntax (`core/cli.ts` `durationSeconds`: "10s", "500ms", "250us", "2m").
 * - A job's parameters must fit the workers' ranges (`core/limits.ts`, the
 *   table `worker/validate.ts` checks a COMMAND against): rate, duration and
 *   warm-up (in whole ms), candidates per stage, and warm-up + duration +
 *   job_grace (the job's timeout). A script the manager accepts is never
 *   refused by a worker for a range.
 *
 * @module
 */
import YAML from "yaml";
import type { Scalar } from "yaml";
import { UsageError } from "../core/cli.ts";
import { LIMITS } from "../core/limits.ts";
import { normAddr } from "./addrs_file.ts";
import { checkBudget } from "./script_budget.ts";
import { fairnessOf, scriptKeys, treeSpec } from "./script_keys.ts";
import {
  type Action,
  ACTIONS,
  type Hyperparameter,
  type Script,
  ScriptError,
  type ScriptOptions,
} from "./script_types.ts";
import * as D from "./defaults.ts";
import {
  type Context,
  type Entry,
  got,
  need,
  parseYaml,
  type Place,
  type Read,
  record,
} from "./yaml_read.ts";

/*
 * What parsing returns, for the callers of parseScript and loadScript; every
 * other type and word of a script is imported from `script_types.ts`.
 */
export type { Script } from "./script_types.ts";

/**
 * Reads and validates a script file. An unreadable file is a
 * {@link UsageError}; a bad script a {@link ScriptError}.
 */
export async function loadScript(
  path: string,
  opts: ScriptOptions = {},
): Promise<Script> {
  let text;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound
      ? "no such file"
      : (e as Error).message;
    throw new UsageError(`Cannot read script "${path}": ${why}`);
  }
  return parseScript(text, path, opts);
}

/** Validates script text (pure); `file` only names it in errors. */
export function parseScript(
  text: string,
  file: string,
  opts: ScriptOptions = {},
): Script {
  const error = (reason: string, at: Place) => new ScriptError(reason, at);
  const { c, top } = parseYaml(text, { file, error });
  if (top.node === null) {
    throw c.fail(0, undefined, 'Script is empty: it needs "name" and "addrs"');
  }
  const root = c.resolve(top.node);
  if (!YAML.isMap(root)) {
    const what = got(root);
    throw c.fail(top, undefined, `Script must be a mapping, got ${what}`);
  }
  const implemented = opts.implementedActions ?? ACTIONS;
  return _build(c, record(scriptKeys(implemented))(c, top), {
    text,
    implemented,
  });
}

// ---------------------------------------------------------------- checks

/** Nodes in a tree of depth `d` and fanout `f`. */
function _nodes(d: number, f: number): bigint {
  const F = BigInt(f);
  return f === 1 ? BigInt(d + 1) : (F ** BigInt(d + 1) - 1n) / (F - 1n);
}

/** The script's keys as read, with where each one is. */
type Top = Read<ReturnType<typeof scriptKeys>>;

/** What the cross-key checks settled, for the defaults to complete. */
interface Settled {
  text: string;
  addrs: string[];
  depth: number;
  hyperparameter: Hyperparameter;
  /** The root `root` names, as written in `addrs`. */
  root: string | undefined;
}

/**
 * Checks across keys, then applies the defaults: the workers must be
 * listed once; then every other check runs, and the earliest of their
 * problems in the document is thrown.
 */
function _build(
  c: Context,
  top: Top,
  { text, implemented }: { text: string; implemented: readonly Action[] },
): Script {
  const addrs = _addrs(c, top);
  const problems = new _Problems(c);
  const depth = _depth(top, addrs.length, problems);
  const hyperparameter = _hyperparameter(c, top, problems);
  const root = _root(c, top, addrs, problems);
  _stepsImplemented(top, implemented, problems);
  checkBudget(top, hyperparameter, addrs.length, problems);
  _hedges(c, top, problems);
  problems.throwFirst();
  return _withDefaults(c, top, { text, addrs, depth, hyperparameter, root });
}

/** The cross-key checks' problems; the earliest in the document is thrown. */
class _Problems {
  #c: Context;
  #found: { at: number; error: Error }[] = [];

  constructor(c: Context) {
    this.#c = c;
  }

  /** A problem at `e` (named as `field`). */
  add(e: Entry, why: string, field = e.field): void {
    this.#found.push({
      at: this.#c.offset(e),
      error: this.#c.fail(e, field, why),
    });
  }

  /** Throws the earliest problem, if any. */
  throwFirst(): void {
    const first = this.#found.sort((a, b) => a.at - b.at)[0];
    if (first) throw first.error;
  }
}

/** "1 worker", "3 workers". */
function _workers(n: number): string {
  return `${n} worker${n === 1 ? "" : "s"}`;
}

/** The workers: `name` and one of `addrs` and `addrs_file` must be given. */
function _addrs(c: Context, { v, at, self }: Top): string[] {
  need(c, self, "name", v.name !== undefined, "every script needs a name");
  const listed = v.addrs ?? v.addrs_file;
  need(c, self, "addrs", listed !== undefined, "list the workers");
  if (at.addrs && at.addrs_file) {
    const later = c.offset(at.addrs) > c.offset(at.addrs_file)
      ? at.addrs
      : at.addrs_file;
    throw c.fail(
      later,
      later.field,
      'give either "addrs" or "addrs_file", not both',
    );
  }
  return listed!;
}

/**
 * The tree depth: as given, else the default lowered until `n` workers fill
 * the tree. A tree the workers cannot fill is a problem unless the script
 * builds none (it only connects).
 */
function _depth({ v, at }: Top, n: number, problems: _Problems): number {
  const fanout = v.fanout ?? D.FANOUT;
  let depth = v.depth ?? D.DEPTH;
  while (v.depth === undefined && depth > 1 && _nodes(depth, fanout) > n) {
    depth--;
  }
  const needs = _nodes(depth, fanout);
  const builds = v.steps === undefined ||
    v.steps.some((s) => s.action === "ROOT");
  if (needs > n && builds) {
    const tree = `a tree of depth ${depth} and fanout ${fanout}`;
    problems.add(
      (at.addrs ?? at.addrs_file)!,
      `${_workers(n)} cannot fill ${tree}, which needs ${needs}`,
    );
  }
  return depth;
}

/**
 * The candidates per stage: a share of the pool when written with a decimal
 * point (or not whole), else a count of at least the fanout and at most a
 * job's addresses.
 */
function _hyperparameter(
  c: Context,
  { v, at }: Top,
  problems: _Problems,
): Hyperparameter {
  const fanout = v.fanout ?? D.FANOUT;
  const byDefault: Hyperparameter = {
    kind: "count",
    value: D.HYPERPARAMETER_PER_FANOUT * fanout,
  };
  const k = v.hyperparameter;
  if (k === undefined) return byDefault;
  const src = (c.resolve(at.hyperparameter!.node) as Scalar).source ?? `${k}`;
  const fraction = !Number.isInteger(k) || src.includes(".");
  const most = LIMITS.addrs[1];
  if (!fraction && k > most) {
    problems.add(
      at.hyperparameter!,
      `must be at most ${most} candidates (a worker's limit on the ` +
        `addresses of one job), got ${src}`,
    );
  } else if (fraction ? k > 0 && k <= 1 : k >= fanout) {
    return { kind: fraction ? "fraction" : "count", value: k };
  } else {
    problems.add(
      at.hyperparameter!,
      `must be a whole number of candidates of at least ${fanout} (the ` +
        `fanout) or a share of the remaining pool in (0, 1], got ${src}` +
        (k === 1 ? " (write 1.0 for the whole pool)" : ""),
    );
  }
  return byDefault;
}

/**
 * The root `root` names (as written in `addrs`), checking `roots`, `root`
 * and `root_probe` against each other and the workers.
 */
function _root(
  c: Context,
  { v, at }: Top,
  addrs: readonly string[],
  problems: _Problems,
): string | undefined {
  const n = addrs.length;
  const probe = v.root === "probe";
  if (at.roots && at.root && !probe) {
    const later = c.offset(at.roots) > c.offset(at.root) ? at.roots : at.root;
    problems.add(
      later,
      'give either "roots" (how many) or "root" (which), not both',
    );
  }
  if (at.root_probe && !probe) {
    problems.add(at.root_probe, 'needs "root: probe"');
  }
  if (v.roots !== undefined && v.roots > n) {
    problems.add(
      at.roots!,
      `${_workers(n)} cannot provide ${v.roots} distinct roots`,
    );
  }
  const root = v.root && !probe
    ? addrs.find((a) => normAddr(a) === normAddr(v.root!))
    : undefined;
  if (v.root !== undefined && !probe && root === undefined) {
    problems.add(at.root!, `"${v.root}" is not one of the workers in "addrs"`);
  }
  return root;
}
/** Without `steps`, every default step must be implemented. */
function _stepsImplemented(
  { v, self }: Top,
  implemented: readonly Action[],
  problems: _Problems,
): void {
  const missing = D.STEPS.find((a) => !implemented.includes(a));
  if (v.steps === undefined && missing) {
    const why = `is missing, and the default steps (${D.STEPS.join(", ")}) ` +
      `include "${missing}", which is not implemented yet: list the steps`;
    problems.add(self, why, "steps");
  }
}

/** The script: what the checks settled, and every key left out defaulted. */
function _withDefaults(c: Context, { v }: Top, settled: Settled): Script {
  const { text, addrs, depth, hyperparameter, root } = settled;
  const warmup = v.warmup ?? D.WARMUP, rate = v.rate ?? D.RATE;
  const ev = v.evaluation?.v ?? {}, t = v.timeouts?.v ?? {};
  const script: Script = {
    file: c.file,
    text,
    name: v.name!,
    seed: v.seed ?? D.SEED,
    addrs,
    depth,
    fanout: v.fanout ?? D.FANOUT,
    hyperparameter,
    rate,
    duration: v.duration ?? D.DURATION,
    warmup,
    evaluation: {
      rate: ev.rate ?? rate,
      duration: ev.duration ?? D.EVALUATION_DURATION,
      warmup: ev.warmup ?? warmup,
      runs: ev.runs ?? D.EVALUATION_RUNS,
      fairness: fairnessOf(ev.fairness),
    },
    roots: root === undefined ? v.roots ?? D.ROOTS : 1,
    trees: v.trees ?? _defaultTrees(),
    parallel: v.parallel ?? D.PARALLEL,
    clocks: {
      policy: v.clocks?.kernel ?? D.CLOCKS,
      offsets: v.clocks?.offsets ?? D.OFFSETS,
      maxErrorUs: Math.round((v.clock_error ?? D.CLOCK_ERROR) * 1e6),
    },
    rebuild: v.rebuild ?? D.REBUILD,
    lemon: _lemon(v, rate, warmup),
    timeouts: {
      connect: t.connect ?? D.CONNECT_TIMEOUT,
      request: t.request ?? D.REQUEST_TIMEOUT,
      retries: t.retries ?? D.RETRIES,
      jobGrace: t.job_grace ?? D.JOB_GRACE,
    },
    steps: v.steps ?? D.STEPS.map((action) => ({ action })),
  };
  if (v.description !== undefined) script.description = v.description;
  if (v.root === "probe") {
    const n = addrs.length, rp = v.root_probe?.v ?? {};
    script.rootProbe = {
      candidates: Math.min(n, rp.candidates ?? D.ROOT_PROBE_CANDIDATES),
      sample: Math.min(n - 1, rp.sample ?? D.ROOT_PROBE_SAMPLE),
    };
  }
  if (root !== undefined) script.root = root;
  return script;
}

/** The trees of a script without `trees` (`defaults.ts` `TREES`). */
function _defaultTrees(): Script["trees"] {
  return D.TREES.map((d) =>
    treeSpec(
      d.type,
      "strategy" in d
        ? { name: d.strategy, weights: { ...D.STRATEGY_WEIGHTS[d.strategy] } }
        : undefined,
    )
  );
}

/** LEMON's all-to-all and FAQ solver: the stream's keys default to the script's. */
function _lemon(v: Top["v"], rate: number, warmup: number): Script["lemon"] {
  const l = v.lemon?.v ?? {};
  return {
    limit: l.limit ?? D.LEMON_LIMIT,
    rate: l.rate ?? rate,
    duration: l.duration ?? v.duration ?? D.DURATION,
    warmup: l.warmup ?? warmup,
    start: l.start ?? "barycenter",
    iterations: l.iterations ?? D.FAQ_ITERATIONS,
    tolerance: l.tolerance ?? D.FAQ_TOLERANCE,
    restarts: l.restarts ?? D.FAQ_RESTARTS,
  };
}

/** Each kind of job the script makes, within a worker's default budget. */
/** Each tree's `hedge` is below the fanout (hedge parents are siblings of the parent). */
function _hedges(c: Context, { v, at }: Top, problems: _Problems): void {
  const fanout = v.fanout ?? D.FANOUT;
  (v.trees ?? []).forEach((t, i) => {
    if ((t.hedge ?? 0) < fanout) return;
    const why = `must be below the fanout (${fanout}): a node's hedge ` +
      `parents are its parent's siblings, got ${t.hedge}`;
    const item = YAML.isSeq(c.resolve(at.trees!.node))
      ? (c.resolve(at.trees!.node) as YAML.YAMLSeq).items[i]
      : undefined;
    const node = YAML.isMap(item) ? item.get("hedge", true) : undefined;
    const field = `trees[${i}].hedge`;
    problems.add(node ? { node, field } : at.trees!, why, field);
  });
}
