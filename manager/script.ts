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
import { budgetExcess, DEFAULT_BUDGET } from "../core/budget.ts";
import { LIMITS } from "../core/limits.ts";
import { normAddr } from "./addrs_file.ts";
import { scriptKeys, treeSpec } from "./script_keys.ts";
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

export * from "./script_types.ts";

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

/** The key a default that goes beyond a budget limit is named by. */
const _BUDGET_KEY = {
  pps: "rate",
  dests: "hyperparameter",
  size: "size",
  durationMs: "duration",
  jobs: "lemon.limit",
} as const;

/**
 * Each kind of job the script makes a worker run, checked against a
 * worker's default budget (`core/budget.ts`): a stage's parent (rate x
 * candidates), an evaluation's root and proxies (rate x fanout), a root
 * probe's candidates (rate x sample), LEMON's all-to-all (rate x limit,
 * beside its `limit` children). Each problem names the key that sets what
 * goes beyond (the script's top when it is a default).
 */
function _overBudget(
  { v, at, self }: Read<ReturnType<typeof scriptKeys>>,
  hp: Hyperparameter,
  n: number,
  fanout: number,
): { at: Entry; why: string; field: string }[] {
  const pool = Math.max(1, n - 1);
  const k = hp.kind === "count"
    ? Math.min(hp.value, pool)
    : Math.min(pool, Math.max(fanout, Math.ceil(hp.value * pool)));
  const rate = v.rate ?? D.RATE, warmup = v.warmup ?? D.WARMUP;
  const ev = v.evaluation, l = v.lemon, rp = v.root_probe?.v;
  const ms = (w: number, d: number) => Math.round((w + d) * 1000);
  const jobs = [
    {
      load: {
        rate,
        dests: k,
        durationMs: ms(warmup, v.duration ?? D.DURATION),
      },
      at: { dests: at.hyperparameter, pps: at.rate ?? at.hyperparameter },
      dur: at.duration ?? at.warmup,
    },
    {
      load: {
        rate: ev?.v.rate ?? rate,
        dests: fanout,
        durationMs: ms(
          ev?.v.warmup ?? warmup,
          ev?.v.duration ?? D.EVALUATION_DURATION,
        ),
      },
      at: { dests: at.fanout, pps: ev?.at.rate ?? at.rate ?? at.fanout },
      dur: ev?.at.duration ?? ev?.at.warmup ?? at.warmup,
    },
    ...(v.root === "probe"
      ? [{
        load: {
          rate,
          dests: Math.min(pool, rp?.sample ?? D.ROOT_PROBE_SAMPLE),
          durationMs: ms(warmup, v.duration ?? D.DURATION),
        },
        at: { pps: at.rate ?? v.root_probe?.at.sample ?? at.root_probe },
        dur: at.duration ?? at.warmup,
      }]
      : []),
    ...(l || v.trees?.some((t) => t.type === "LEMON")
      ? [{
        load: {
          rate: l?.v.rate ?? rate,
          dests: l?.v.limit ?? D.LEMON_LIMIT,
          durationMs: ms(
            l?.v.warmup ?? warmup,
            l?.v.duration ?? v.duration ?? D.DURATION,
          ),
        },
        children: l?.v.limit ?? D.LEMON_LIMIT,
        at: {
          dests: l?.at.limit,
          jobs: l?.at.limit,
          pps: l?.at.rate ?? at.rate ?? l?.at.limit,
        },
        dur: l?.at.duration ?? l?.at.warmup,
      }]
      : []),
  ];
  const out = [];
  for (const j of jobs) {
    const e = budgetExcess({ ...j.load, size: 0 }, DEFAULT_BUDGET, {
      pps: 0,
      jobs: "children" in j ? j.children : 0,
    });
    if (!e) continue;
    const where = e.limit === "durationMs"
      ? j.dur
      : (j.at as Partial<Record<string, Entry>>)[e.limit];
    out.push({
      at: where ?? self,
      why: `makes a job over a worker's default ${e.message}`,
      field: where?.field ?? _BUDGET_KEY[e.limit],
    });
  }
  return out;
}

/** Checks across keys, then applies the defaults. */
function _build(
  c: Context,
  top: Read<ReturnType<typeof scriptKeys>>,
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

  for (const b of _overBudget(top, hyperparameter, n, fanout)) {
    problem(b.at, b.why, b.field);
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
      treeSpec(
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
