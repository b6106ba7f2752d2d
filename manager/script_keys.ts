/**
 * The experiment script's keys: one reader per key (see `yaml_read.ts`),
 * each checking its node and returning its value, and the table of the
 * top-level keys ({@link scriptKeys}) that `script.ts` walks. Checks that
 * involve several keys live in `script.ts`.
 *
 * @module
 */
import YAML from "yaml";
import { LIMITS } from "../core/limits.ts";
import { addrProblem, normAddr, readAddrsFile } from "./addrs_file.ts";
import * as D from "./defaults.ts";
import {
  type Action,
  ACTIONS,
  CLOCK_POLICIES,
  type ClockPolicy,
  type Fairness,
  FAQ_STARTS,
  OFFSET_POLICIES,
  type OffsetPolicy,
  type Preset,
  ScriptError,
  type Stat,
  STATS,
  type Step,
  type Strategy,
  TREE_TYPES,
  type TreeSpec,
  type TreeType,
} from "./script_types.ts";
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
  type Reader,
  record,
  secs,
  str,
  suggest,
} from "./yaml_read.ts";

const _MANAGER_ACTIONS = ["PARENT", "REPORT", "MCAST", "ALLTOALL", "REBUILD"];
/** The one-word forms of `clocks:` (a mapping sets both policies). */
const _CLOCKS_WORDS = ["trust", "require-sync", "correct"] as const;
const _PRESETS = Object.keys(D.STRATEGY_WEIGHTS) as Preset[];

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
  hedge: int(0, 63),
});

/** A tree spec, named by default after its type and strategy. */
export function treeSpec(
  type: TreeType,
  s?: Strategy,
  name?: string,
): TreeSpec {
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
    const spec = treeSpec(v.type!, v.strategy, v.name);
    if (v.hedge) spec.hedge = v.hedge;
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

/** A number in [min, max] (or (min, max] when `above`), `unit` in messages. */
function _range(min: number, max: number, unit: string, above = false) {
  const rule = `must be a number ${
    above ? "above" : "of at least"
  } ${min} and at most ${max}${unit}`;
  return (c: Context, e: Entry): number => {
    const v = num(c, e);
    if (above ? v <= min : v < min) c.bad(e, `${rule}, got ${v}`);
    if (v > max) c.bad(e, `${rule}, got ${v}`);
    return v;
  };
}

/** The per-message figures' histograms hold delays up to ~4.29 s. */
const _MAX_HOLD_US = 4_294_967;

/** `evaluation.fairness.holds_us`: holds in µs, each above 0, ascending. */
const _holds: Reader<number[]> = (c: Context, e: Entry) => {
  const item = _range(0, _MAX_HOLD_US, " µs", true);
  const holds = list("holds in µs", item)(c, e);
  if (holds.length > 64) {
    c.bad(e, `must list at most 64 holds, got ${holds.length}`);
  }
  holds.forEach((h, i) => {
    if (i > 0 && h <= holds[i - 1]!) {
      c.bad(e, `must be ascending, got ${h} after ${holds[i - 1]}`);
    }
  });
  return holds;
};

/** `evaluation.fairness`: how hold-and-release fairness is judged. */
const _fairness = record({
  holds_us: _holds,
  window_ms: _range(0, 10_000, " ms", true),
  percentile: _range(0, 100, "", true),
  margin_us: _range(0, _MAX_HOLD_US, " µs"),
});

/** `evaluation.fairness` as read, every key left out defaulted. */
export function fairnessOf(
  read: ReturnType<typeof _fairness> | undefined,
): Fairness {
  const f = read?.v ?? {};
  return {
    holdsUs: f.holds_us ?? [...D.FAIRNESS_HOLDS_US],
    windowMs: f.window_ms ?? D.FAIRNESS_WINDOW_MS,
    percentile: f.percentile ?? D.FAIRNESS_PERCENTILE,
    marginUs: f.margin_us ?? D.FAIRNESS_MARGIN_US,
  };
}

/** The top-level keys, in the order the docs list them. */
export const scriptKeys = (implemented: readonly Action[]) => ({
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
    fairness: _fairness,
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
    start: oneOf("FAQ start", FAQ_STARTS),
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
