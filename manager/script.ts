/**
 * The experiment script: YAML in, a typed {@link Script} with every default
 * applied out. Any problem is a {@link ScriptError} naming the file, line,
 * column and field, so the CLI can print one `error:` line and exit 2.
 *
 * The schema is the table `_top()`: each key has a reader (see
 * `yaml_read.ts`) that checks its node and returns its value, walking the
 * document in order and stopping at the first problem. Checks that involve
 * several keys (tree size, `hyperparameter` against `fanout`, `root` against
 * `addrs`, ...) run after the walk and report the earliest of their problems
 * in document order.
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
import type { TreeType } from "../core/results.ts";
import { addrProblem, normAddr, readAddrsFile } from "./addrs_file.ts";
import type { FaqStart } from "./faq.ts";
import * as D from "./defaults.ts";
import {
  bool,
  type Context,
  type Entry,
  got,
  int,
  list,
  need,
  num,
  oneOf,
  parseYaml,
  type Place,
  type Read,
  type Reader,
  record,
  secs,
  str,
  suggest,
} from "./yaml_read.ts";

/** Statistics a strategy can weigh, as the probes report them per candidate. */
export const STATS = [
  "min",
  "p25",
  "p50",
  "p75",
  "p90",
  "p99",
  "p999",
  "max",
  "mean",
  "stddev",
  "lost",
] as const;
/** One statistic of a candidate's probe results. */
export type Stat = typeof STATS[number];
/** Actions a script may list. PARENT, REPORT and MCAST are the manager's own. */
export const ACTIONS = ["CONNECT", "ROOT"] as const;
/** A step action a script may list. */
export type Action = typeof ACTIONS[number];
const _MANAGER_ACTIONS = ["PARENT", "REPORT", "MCAST", "ALLTOALL", "REBUILD"];
/** What to do with a worker whose kernel clock is not to be trusted. */
export const CLOCK_POLICIES = ["trust", "require-sync"] as const;
/** `trust`: warn; `require-sync`: refuse it at CONNECT. */
export type ClockPolicy = typeof CLOCK_POLICIES[number];
/** What scores do with each parent-child pair's measured clock offset. */
export const OFFSET_POLICIES = ["trust", "correct"] as const;
/** `trust`: score the delays as measured; `correct`: minus the pair's offset. */
export type OffsetPolicy = typeof OFFSET_POLICIES[number];
/** The one-word forms of `clocks:` (a mapping sets both policies). */
const _CLOCKS_WORDS = ["trust", "require-sync", "correct"] as const;
/** Kinds of tree a script may ask for. */
export const TREE_TYPES = [
  "BEST",
  "WORST",
  "RANDOM",
  "LEMON",
] as const satisfies readonly TreeType[];
export type { TreeType };
type Preset = keyof typeof D.STRATEGY_WEIGHTS;
const _PRESETS = Object.keys(D.STRATEGY_WEIGHTS) as Preset[];

/** How candidates are scored: the weighted sum of their statistics. */
export interface Strategy {
  name: Preset | "CUSTOM";
  weights: Partial<Record<Stat, number>>;
}
/** One tree to build from each root. */
export interface TreeSpec {
  /** Unique label, e.g. `BEST-P90` or `RANDOM`. */
  name: string;
  type: TreeType;
  /** Present for BEST and WORST, absent for RANDOM and LEMON. */
  strategy?: Strategy;
}
/** One step of the script's queue. */
export interface Step {
  action: Action;
  description?: string;
  data?: string | number | boolean | null;
}
/** Candidates per parent stage: a count, or a share of the remaining pool in (0, 1]. */
export type Hyperparameter =
  | { kind: "count"; value: number }
  | { kind: "fraction"; value: number };

/** A validated script with defaults applied. Durations are in seconds. */
export interface Script {
  file: string;
  /** The raw YAML, kept for the results file. */
  text: string;
  name: string;
  description?: string;
  seed: number;
  /** Worker control addresses, `HOST:PORT`, unique. */
  addrs: string[];
  depth: number;
  fanout: number;
  hyperparameter: Hyperparameter;
  /** Packets per second of a parent job. */
  rate: number;
  duration: number;
  warmup: number;
  evaluation: { rate: number; duration: number; warmup: number; runs: number };
  /** Distinct roots; 1 when `root` is given. */
  roots: number;
  /** The one root the script chose, as spelled in `addrs`. */
  root?: string;
  /**
   * `root: probe`: R candidate roots, each streaming to a sample of S
   * others; the `roots` with the lowest mean p90 become the roots.
   */
  rootProbe?: { candidates: number; sample: number };
  trees: TreeSpec[];
  parallel: boolean;
  /**
   * The workers' kernel clocks: warn about bad ones, or refuse them
   * (`policy`); and whether scores correct delays by the pair's measured
   * offset (`offsets`).
   */
  clocks: { policy: ClockPolicy; maxErrorUs: number; offsets: OffsetPolicy };
  /** Rebuild rounds after each tree's evaluations. */
  rebuild: number;
  /** LEMON trees: the all-to-all probing and the FAQ solver. */
  lemon: {
    limit: number;
    rate: number;
    duration: number;
    warmup: number;
    start: FaqStart;
    iterations: number;
    tolerance: number;
    restarts: number;
  };
  timeouts: {
    connect: number;
    request: number;
    retries: number;
    jobGrace: number;
  };
  steps: Step[];
}

/** Options of {@link parseScript} and {@link loadScript}. */
export interface ScriptOptions {
  /** Actions this build can run (default: all of {@link ACTIONS}). */
  implementedActions?: readonly Action[];
}

/** Where a script problem is. `field` is a path such as `trees[1].strategy`. */
export type ScriptPlace = Place;

/** A problem in a script, at `file:line:col`. A {@link UsageError}: exit 2. */
export class ScriptError extends UsageError {
  override name = "ScriptError";
  readonly file: string;
  readonly line: number;
  readonly col: number;
  /** The field path, or undefined for a problem with the whole file. */
  readonly field: string | undefined;
  /** The message without the place. */
  readonly reason: string;

  constructor(reason: string, at: ScriptPlace) {
    const field = at.field === undefined ? "" : `field "${at.field}": `;
    super(`${at.file}:${at.line}:${at.col}: ${field}${reason}`);
    this.file = at.file;
    this.line = at.line;
    this.col = at.col;
    this.field = at.field;
    this.reason = reason;
  }
}

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
  return _build(c, record(_top(implemented))(c, top), { text, implemented });
}

// ---------------------------------------------------------------- schema

const _name: Reader<string> = (c: Context, e: Entry) => {
  const v = str(c, e);
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(v)) {
    const rule = "must start with a letter or digit, then only letters, " +
      "digits and _ . -";
    c.bad(e, `${rule}, got "${v}"`);
  }
  return v;
};

const _addr: Reader<string> = (c: Context, e: Entry) => {
  const a = c.value(e);
  const example = 'a HOST:PORT string such as "10.0.0.1:9000"';
  if (typeof a !== "string") c.bad(e, `must be ${example}, got ${c.got(e)}`);
  const why = addrProblem(a);
  if (why) c.bad(e, why);
  return a;
};

/** `root`: one of the workers, or "probe" (chosen by measurement). */
const _root: Reader<string> = (c: Context, e: Entry) =>
  c.value(e) === "probe" ? "probe" : _addr(c, e);

/** The workers: unique HOST:PORT addresses. */
const _addrs: Reader<string[]> = (c: Context, e: Entry) => {
  const seen = new Map<string, string>();
  const item = (c: Context, e: Entry): string => {
    const a = _addr(c, e), first = seen.get(normAddr(a));
    if (first) c.bad(e, `"${a}" is listed twice (first as ${first})`);
    seen.set(normAddr(a), e.field);
    return a;
  };
  return list("HOST:PORT workers", item)(c, e);
};

/** The workers, from a file of HOST:PORT lines. */
const _addrsFile: Reader<string[]> = (c: Context, e: Entry) =>
  readAddrsFile(c, e, (reason, at) => new ScriptError(reason, at));

const _weight: Reader<number> = (c: Context, e: Entry) => {
  const w = num(c, e);
  if (w < 0) c.bad(e, `must be a weight of at least 0, got ${w}`);
  return w;
};
const _WEIGHTS = Object.fromEntries(STATS.map((s) => [s, _weight])) as Record<
  Stat,
  Reader<number>
>;

const _strategy: Reader<Strategy> = (c: Context, e: Entry) => {
  if (!YAML.isMap(c.resolve(e.node))) {
    const s = str(c, e);
    const preset = _PRESETS.find((p) => p === s);
    if (preset === undefined) {
      const also = `${suggest(s, _PRESETS)} (allowed: ${_PRESETS.join(", ")}` +
        ", or { weights: { <stat>: <number>, ... } })";
      c.bad(e, `unknown strategy "${s}"${also}`);
    }
    return { name: preset, weights: { ...D.STRATEGY_WEIGHTS[preset] } };
  }
  const { v, at } = record({ weights: record(_WEIGHTS) })(c, e);
  need(c, e, "weights", v.weights !== undefined, "e.g. { p90: 1 }");
  const weights = v.weights!.v;
  if (!Object.values(weights).some((w) => w > 0)) {
    c.bad(at.weights!, "must give at least one statistic a weight above 0");
  }
  return { name: "CUSTOM", weights };
};

const _tree = record({
  type: oneOf<TreeType>("tree type", TREE_TYPES, { RAND: "RANDOM" }),
  strategy: _strategy,
  name: _name,
});

/** A tree spec, named by default after its type and strategy. */
function _spec(type: TreeType, s?: Strategy, name?: string): TreeSpec {
  const label = name ?? (s ? `${type}-${s.name}` : type);
  return s ? { name: label, type, strategy: s } : { name: label, type };
}

const _trees: Reader<TreeSpec[]> = (c: Context, e: Entry) => {
  const seen = new Map<string, string>();
  return list("trees", _tree)(c, e).map(({ v, at, self }) => {
    need(c, self, "type", v.type !== undefined, TREE_TYPES.join(", "));
    const unscored = v.type === "RANDOM" || v.type === "LEMON";
    if (unscored && at.strategy) {
      const how = v.type === "RANDOM"
        ? "a RANDOM tree is drawn at random"
        : "a LEMON tree is placed by the all-to-all delays";
      c.bad(at.strategy, `${how}: drop its strategy`);
    }
    const needs = `a ${v.type} tree needs ${_PRESETS.join(", ")} or weights`;
    need(c, self, "strategy", unscored || !!v.strategy, needs);
    const spec = _spec(v.type!, v.strategy, v.name);
    const first = seen.get(spec.name);
    if (first !== undefined) {
      const why = `tree name "${spec.name}" is already used by ${first}: ` +
        'give one of them another "name"';
      throw c.fail(at.name ?? self, `${self.field}.name`, why);
    }
    seen.set(spec.name, self.field);
    return spec;
  });
};

/** A step's action, which this build must implement. */
function _action(implemented: readonly Action[]): Reader<Action> {
  return (c: Context, e: Entry) => {
    const a = str(c, e);
    if (_MANAGER_ACTIONS.includes(a)) {
      c.bad(
        e,
        `action "${a}" is pushed by the manager itself and cannot be listed ` +
          `in a script (allowed: ${ACTIONS.join(", ")})`,
      );
    }
    const action = oneOf("action", ACTIONS)(c, e);
    if (!implemented.includes(action)) {
      c.bad(e, `action "${a}" is not implemented yet`);
    }
    return action;
  };
}

const _data: Reader<Step["data"]> = (c: Context, e: Entry) => {
  const n = c.resolve(e.node);
  if (n !== null && !YAML.isScalar(n)) {
    c.bad(e, `must be a single value, got ${got(n)}`);
  }
  return (c.value(e) ?? null) as Step["data"];
};

function _step(implemented: readonly Action[]): Reader<Step> {
  const action = _action(implemented);
  return (c: Context, e: Entry) => {
    const { v } = record({ action, description: str, data: _data })(c, e);
    need(c, e, "action", v.action !== undefined, ACTIONS.join(", "));
    const step: Step = { action: v.action! };
    if (v.description !== undefined) step.description = v.description;
    if (v.data !== undefined) step.data = v.data;
    return step;
  };
}

/**
 * `clocks:` one word (`trust`, `require-sync`: the kernel clocks' policy;
 * `correct`: offsets corrected, kernel clocks trusted) or a mapping
 * `{kernel: trust|require-sync, offsets: trust|correct}`.
 */
function _clocks(
  c: Context,
  e: Entry,
): { kernel?: ClockPolicy; offsets?: OffsetPolicy } {
  if (YAML.isMap(c.resolve(e.node))) {
    return record({
      kernel: oneOf<ClockPolicy>("kernel clocks policy", CLOCK_POLICIES),
      offsets: oneOf<OffsetPolicy>("offsets policy", OFFSET_POLICIES),
    })(c, e).v;
  }
  const word = oneOf("clocks policy", _CLOCKS_WORDS)(c, e);
  return word === "correct" ? { offsets: "correct" } : { kernel: word };
}

/** Why a job parameter's range is what it is, appended to a range message. */
const _LIMIT = " (a worker's limit)";
const _RATE = int(LIMITS.rate[0], LIMITS.rate[1]);
/** Job durations go to the workers in whole ms (`dur`, `warmup`). */
const _DURATION = secs(
  LIMITS.dur[0] / 1000,
  LIMITS.dur[1] / 1000,
  false,
  _LIMIT,
);
const _WARMUP = secs(0, LIMITS.warmup[1] / 1000, false, _LIMIT);
/** Control-plane deadlines. */
const _DEADLINE = secs(0, 3600, true);

/** The top-level keys, in the order the docs list them. */
const _top = (implemented: readonly Action[]) => ({
  name: _name,
  description: str,
  seed: int(0),
  addrs: _addrs,
  addrs_file: _addrsFile,
  depth: int(1, 8),
  fanout: int(1, 64),
  hyperparameter: num,
  rate: _RATE,
  duration: _DURATION,
  warmup: _WARMUP,
  evaluation: record({
    rate: _RATE,
    duration: _DURATION,
    warmup: _WARMUP,
    runs: int(1, 100),
  }),
  roots: int(1),
  root: _root,
  root_probe: record({ candidates: int(1, 64), sample: int(1, 64) }),
  trees: _trees,
  parallel: bool,
  clocks: _clocks,
  clock_error: secs(0, 3600),
  rebuild: int(0, 10),
  lemon: record({
    limit: int(1, 64),
    rate: _RATE,
    duration: _DURATION,
    warmup: _WARMUP,
    start: oneOf<FaqStart>("FAQ start", ["barycenter", "random"]),
    iterations: int(1, 1000),
    tolerance: num,
    restarts: int(0, 100),
  }),
  timeouts: record({
    connect: _DEADLINE,
    request: _DEADLINE,
    retries: int(0, 10),
    job_grace: secs(0, LIMITS.timeout[1] / 1000),
  }),
  steps: list("steps", _step(implemented)),
});

// ---------------------------------------------------------------- checks

/** Nodes in a tree of depth `d` and fanout `f`. */
function _nodes(d: number, f: number): bigint {
  const F = BigInt(f);
  return f === 1 ? BigInt(d + 1) : (F ** BigInt(d + 1) - 1n) / (F - 1n);
}

/** Checks across keys, then applies the defaults. */
function _build(
  c: Context,
  top: Read<ReturnType<typeof _top>>,
  { text, implemented }: { text: string; implemented: readonly Action[] },
): Script {
  const { v, at, self } = top;
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
  const addrs = listed!, n = addrs.length, fanout = v.fanout ?? D.FANOUT;
  const workers = `${n} worker${n === 1 ? "" : "s"}`;
  const problems: { at: number; error: Error }[] = [];
  const problem = (e: Entry, why: string, field = e.field) =>
    problems.push({ at: c.offset(e), error: c.fail(e, field, why) });

  let depth = v.depth ?? D.DEPTH;
  while (v.depth === undefined && depth > 1 && _nodes(depth, fanout) > n) {
    depth--;
  }
  const needs = _nodes(depth, fanout);
  // A script that only connects builds no tree: any number of workers will do.
  const builds = v.steps === undefined ||
    v.steps.some((s) => s.action === "ROOT");
  if (needs > n && builds) {
    const tree = `a tree of depth ${depth} and fanout ${fanout}`;
    problem(
      (at.addrs ?? at.addrs_file)!,
      `${workers} cannot fill ${tree}, which needs ${needs}`,
    );
  }

  let hyperparameter: Hyperparameter = {
    kind: "count",
    value: D.HYPERPARAMETER_PER_FANOUT * fanout,
  };
  const k = v.hyperparameter;
  if (k !== undefined) {
    const src = (c.resolve(at.hyperparameter!.node) as Scalar).source ?? `${k}`;
    const fraction = !Number.isInteger(k) || src.includes(".");
    const most = LIMITS.addrs[1];
    if (!fraction && k > most) {
      problem(
        at.hyperparameter!,
        `must be at most ${most} candidates (a worker's limit on the ` +
          `addresses of one job), got ${src}`,
      );
    } else if (fraction ? k > 0 && k <= 1 : k >= fanout) {
      hyperparameter = { kind: fraction ? "fraction" : "count", value: k };
    } else {
      problem(
        at.hyperparameter!,
        `must be a whole number of candidates of at least ${fanout} (the ` +
          `fanout) or a share of the remaining pool in (0, 1], got ${src}` +
          (k === 1 ? " (write 1.0 for the whole pool)" : ""),
      );
    }
  }

  const probe = v.root === "probe";
  if (at.roots && at.root && !probe) {
    const later = c.offset(at.roots) > c.offset(at.root) ? at.roots : at.root;
    problem(
      later,
      'give either "roots" (how many) or "root" (which), not both',
    );
  }
  if (at.root_probe && !probe) {
    problem(at.root_probe, 'needs "root: probe"');
  }
  if (v.roots !== undefined && v.roots > n) {
    problem(at.roots!, `${workers} cannot provide ${v.roots} distinct roots`);
  }
  const root = v.root && !probe
    ? addrs.find((a) => normAddr(a) === normAddr(v.root!))
    : undefined;
  if (v.root !== undefined && !probe && root === undefined) {
    problem(at.root!, `"${v.root}" is not one of the workers in "addrs"`);
  }

  const missing = D.STEPS.find((a) => !implemented.includes(a));
  if (v.steps === undefined && missing) {
    const why = `is missing, and the default steps (${D.STEPS.join(", ")}) ` +
      `include "${missing}", which is not implemented yet: list the steps`;
    problem(self, why, "steps");
  }

  const warmup = v.warmup ?? D.WARMUP, rate = v.rate ?? D.RATE;
  const ev = v.evaluation?.v ?? {}, t = v.timeouts?.v ?? {};
  // A job may run warm-up + duration + job_grace: the COMMAND's timeout.
  const grace = t.job_grace ?? D.JOB_GRACE;
  const jobs = [
    { w: warmup, d: v.duration ?? D.DURATION, at: at.duration ?? at.warmup },
    {
      w: ev.warmup ?? warmup,
      d: ev.duration ?? D.EVALUATION_DURATION,
      at: v.evaluation?.at.duration ?? v.evaluation?.at.warmup ?? at.warmup,
    },
    {
      w: v.lemon?.v.warmup ?? warmup,
      d: v.lemon?.v.duration ?? v.duration ?? D.DURATION,
      at: v.lemon?.at.duration ?? v.lemon?.at.warmup,
    },
  ];
  for (const j of jobs) {
    const ms = Math.round((j.w + j.d + grace) * 1000), max = LIMITS.timeout[1];
    if (ms <= max) continue;
    const where = v.timeouts?.at.job_grace ?? j.at ?? self;
    const field = where === self ? "timeouts.job_grace" : where.field;
    problem(
      where,
      `makes a job's timeout (warm-up ${j.w} s + duration ${j.d} s + ` +
        `job_grace ${grace} s = ${ms / 1000} s) longer than a worker's ` +
        `limit of ${max / 1000} s`,
      field,
    );
  }

  const first = problems.sort((a, b) => a.at - b.at)[0];
  if (first) throw first.error;
  const l = v.lemon?.v ?? {};
  const script: Script = {
    file: c.file,
    text,
    name: v.name!,
    seed: v.seed ?? D.SEED,
    addrs,
    depth,
    fanout,
    hyperparameter,
    rate,
    duration: v.duration ?? D.DURATION,
    warmup,
    evaluation: {
      rate: ev.rate ?? rate,
      duration: ev.duration ?? D.EVALUATION_DURATION,
      warmup: ev.warmup ?? warmup,
      runs: ev.runs ?? D.EVALUATION_RUNS,
    },
    roots: root === undefined ? v.roots ?? D.ROOTS : 1,
    trees: v.trees ?? D.TREES.map((d) =>
      _spec(
        d.type,
        "strategy" in d
          ? {
            name: d.strategy,
            weights: { ...D.STRATEGY_WEIGHTS[d.strategy] },
          }
          : undefined,
      )
    ),
    parallel: v.parallel ?? D.PARALLEL,
    clocks: {
      policy: v.clocks?.kernel ?? D.CLOCKS,
      offsets: v.clocks?.offsets ?? D.OFFSETS,
      maxErrorUs: Math.round((v.clock_error ?? D.CLOCK_ERROR) * 1e6),
    },
    rebuild: v.rebuild ?? D.REBUILD,
    lemon: {
      limit: l.limit ?? D.LEMON_LIMIT,
      rate: l.rate ?? rate,
      duration: l.duration ?? v.duration ?? D.DURATION,
      warmup: l.warmup ?? warmup,
      start: l.start ?? "barycenter",
      iterations: l.iterations ?? D.FAQ_ITERATIONS,
      tolerance: l.tolerance ?? D.FAQ_TOLERANCE,
      restarts: l.restarts ?? D.FAQ_RESTARTS,
    },
    timeouts: {
      connect: t.connect ?? D.CONNECT_TIMEOUT,
      request: t.request ?? D.REQUEST_TIMEOUT,
      retries: t.retries ?? D.RETRIES,
      jobGrace: t.job_grace ?? D.JOB_GRACE,
    },
    steps: v.steps ?? D.STEPS.map((action) => ({ action })),
  };
  if (v.description !== undefined) script.description = v.description;
  if (probe) {
    const rp = v.root_probe?.v ?? {};
    script.rootProbe = {
      candidates: Math.min(n, rp.candidates ?? D.ROOT_PROBE_CANDIDATES),
      sample: Math.min(n - 1, rp.sample ?? D.ROOT_PROBE_SAMPLE),
    };
  }
  if (root !== undefined) script.root = root;
  return script;
}
