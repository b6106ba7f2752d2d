/**
 * The experiment script: YAML in, a typed {@link Script} with every default
 * applied out. Any problem is a {@link ScriptError} naming the file, line,
 * column and field, so the CLI can print one `error:` line and exit 2.
 *
 * The schema is the table `_TOP`: each key has a reader that checks its
 * node and returns its value, walking the document in order and stopping at
 * the first problem. Checks that involve several keys (tree size, `hyperparameter`
 * against `fanout`, `root` against `addrs`, ...) run after the walk and
 * report the earliest of their problems in document order.
 *
 * Rules worth knowing:
 * - Keys and values are case-sensitive (`BEST`, not `best`); near misses get
 *   a "did you mean" hint. List indexes in field paths count from 0.
 * - `hyperparameter`: a number written with a decimal point, or not whole,
 *   is a share of the pool in (0, 1] (so `1.0` is the whole pool); a whole
 *   number is a count of candidates, at least the fanout.
 * - `depth` left out is the default, or less when `addrs` cannot fill a tree
 *   that deep (see `DEPTH` in `defaults.ts`); a depth given is never lowered.
 * - Durations are seconds: a number, or a string such as "10s", "500ms" or
 *   "2m".
 *
 * @module
 */
import YAML from "yaml";
import type { Document, LineCounter, Scalar } from "yaml";
import { splitHostPort, UsageError } from "../core/cli.ts";
import * as D from "./defaults.ts";

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
const _MANAGER_ACTIONS = ["PARENT", "REPORT", "MCAST"];
/** Kinds of tree. */
export const TREE_TYPES = ["BEST", "WORST", "RANDOM"] as const;
/** BEST keeps the lowest scores, WORST the highest, RANDOM draws. */
export type TreeType = typeof TREE_TYPES[number];
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
  /** Present for BEST and WORST, absent for RANDOM. */
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
  trees: TreeSpec[];
  parallel: boolean;
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
export interface ScriptPlace {
  file: string;
  line: number;
  col: number;
  field?: string | undefined;
}

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
  const lines = new YAML.LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter: lines });
  const c = new _Ctx(file, doc, lines, opts.implementedActions ?? ACTIONS);
  const bad = doc.errors[0];
  if (bad) {
    const why = bad.message.split("\n")[0]!.replace(/ at line \d+.*$/, "");
    throw c.fail(bad.pos[0], undefined, `YAML syntax error: ${why}`);
  }
  if (doc.contents === null) {
    throw c.fail(0, undefined, 'Script is empty: it needs "name" and "addrs"');
  }
  const top: Entry = { node: doc.contents, field: "" };
  const root = c.resolve(doc.contents);
  if (!YAML.isMap(root)) {
    const got = _got(root);
    throw c.fail(top, undefined, `Script must be a mapping, got ${got}`);
  }
  return _build(c, _record(_TOP)(c, top), text);
}

// ---------------------------------------------------------------- reading

/** A node with the key it sits under and its field path. */
interface Entry {
  node: unknown;
  key?: unknown;
  field: string;
}

class _Ctx {
  constructor(
    readonly file: string,
    readonly doc: Document,
    readonly lines: LineCounter,
    readonly implemented: readonly Action[],
  ) {}

  /** The node itself, with aliases followed. */
  resolve(node: unknown): unknown {
    return YAML.isAlias(node) ? node.resolve(this.doc) ?? node : node;
  }

  /** Offset of an entry: its value's, or its key's when the value is empty. */
  offset(e: Entry): number {
    const n = e.node as { range?: number[] } | null;
    const empty = n === null || (YAML.isScalar(n) && n.source === "");
    const at = empty ? (e.key as typeof n)?.range?.[0] : n.range?.[0];
    return at ?? 0;
  }

  fail(at: Entry | number, field: string | undefined, reason: string) {
    const offset = typeof at === "number" ? at : this.offset(at);
    const { line, col } = this.lines.linePos(offset);
    return new ScriptError(reason, { file: this.file, line, col, field });
  }

  /** Throws about the value of `e`. */
  bad(e: Entry, reason: string): never {
    throw this.fail(e, e.field, reason);
  }

  value(e: Entry): unknown {
    const n = this.resolve(e.node);
    return YAML.isScalar(n) ? n.value : undefined;
  }

  got(e: Entry): string {
    return _got(this.resolve(e.node));
  }
}

type Reader<T> = (c: _Ctx, e: Entry) => T;
type Schema = Record<string, Reader<unknown>>;
type Values<S extends Schema> = {
  [K in keyof S]?: S[K] extends Reader<infer T> ? T : never;
};
/** A mapping read against a schema: values and entries of the keys given. */
interface Read<S extends Schema> {
  v: Values<S>;
  at: { [K in keyof S]?: Entry };
  self: Entry;
}

/** Reads a mapping in document order against `schema`, refusing unknown keys. */
function _record<S extends Schema>(schema: S): Reader<Read<S>> {
  return (c: _Ctx, e: Entry) => {
    const map = c.resolve(e.node);
    if (!YAML.isMap(map)) c.bad(e, `must be a mapping, got ${c.got(e)}`);
    const allowed = Object.keys(schema);
    const out: Read<Schema> = { v: {}, at: {}, self: e };
    for (const pair of map.items) {
      const key = c.resolve(pair.key);
      if (!YAML.isScalar(key)) {
        const why = `keys must be words such as "${allowed[0]}"`;
        throw c.fail(
          { node: key, field: "" },
          e.field || undefined,
          `${why}, got ${_got(key)}`,
        );
      }
      const name = String(key.value);
      const field = e.field ? `${e.field}.${name}` : name;
      const reader = schema[name];
      if (reader === undefined) {
        const also = `${_suggest(name, allowed)} (allowed: ${
          allowed.join(", ")
        })`;
        c.bad({ node: key, field }, `unknown key "${name}"${also}`);
      }
      const entry = { node: pair.value, key, field };
      out.at[name] = entry;
      out.v[name] = reader(c, entry);
    }
    return out as Read<S>;
  };
}

/** Throws when a mapping lacks a required key: the error points at the mapping. */
function _need(c: _Ctx, map: Entry, key: string, ok: boolean, hint: string) {
  if (ok) return;
  const field = map.field ? `${map.field}.${key}` : key;
  throw c.fail(map, field, `is missing: ${hint}`);
}

function _list<T>(what: string, item: Reader<T>): Reader<T[]> {
  return (c: _Ctx, e: Entry) => {
    const n = c.resolve(e.node);
    if (!YAML.isSeq(n)) c.bad(e, `must be a list of ${what}, got ${c.got(e)}`);
    if (n.items.length === 0) c.bad(e, `must list at least one of ${what}`);
    return n.items.map((node, i) =>
      item(c, { node, field: `${e.field}[${i}]` })
    );
  };
}

const _str: Reader<string> = (c: _Ctx, e: Entry) => {
  const v = c.value(e);
  if (typeof v !== "string") c.bad(e, `must be a string, got ${c.got(e)}`);
  return v;
};

const _name: Reader<string> = (c: _Ctx, e: Entry) => {
  const v = _str(c, e);
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(v)) {
    const rule = "must start with a letter or digit, then only letters, " +
      "digits and _ . -";
    c.bad(e, `${rule}, got "${v}"`);
  }
  return v;
};

const _bool: Reader<boolean> = (c: _Ctx, e: Entry) => {
  const v = c.value(e);
  if (typeof v !== "boolean") {
    c.bad(e, `must be true or false, got ${c.got(e)}`);
  }
  return v;
};

const _num: Reader<number> = (c: _Ctx, e: Entry) => {
  const v = c.value(e);
  if (typeof v !== "number" || !Number.isFinite(v)) {
    c.bad(e, `must be a number, got ${c.got(e)}`);
  }
  return v;
};

function _int(min: number, max?: number): Reader<number> {
  const rule = max === undefined
    ? `must be a whole number of at least ${min}`
    : `must be a whole number from ${min} to ${max}`;
  return (c: _Ctx, e: Entry) => {
    const v = c.value(e);
    if (
      typeof v !== "number" || !Number.isSafeInteger(v) || v < min ||
      (max !== undefined && v > max)
    ) c.bad(e, `${rule}, got ${c.got(e)}`);
    return v;
  };
}

const _UNITS: Record<string, number> = { s: 1, ms: 1e-3, m: 60 };

/** Seconds in [min, max] (or (min, max]): a number or `"10s"`, `"500ms"`, `"2m"`. */
function _secs(min: number, max: number, above = false): Reader<number> {
  return (c: _Ctx, e: Entry) => {
    const v = c.value(e);
    const m = typeof v === "string"
      ? v.trim().match(/^(\d+(?:\.\d+)?|\.\d+)\s*(s|ms|m)?$/)
      : null;
    const s = typeof v === "number"
      ? v
      : m
      ? Number(m[1]) * _UNITS[m[2] ?? "s"]!
      : NaN;
    const got = c.got(e) + (m ? ` (${s} seconds)` : "");
    if (!Number.isFinite(s)) {
      c.bad(e, `must be seconds such as 10, "10s" or "500ms", got ${got}`);
    }
    if (above ? s <= min : s < min) {
      c.bad(
        e,
        `must be ${
          above ? "more than" : "at least"
        } ${min} seconds, got ${got}`,
      );
    }
    if (s > max) c.bad(e, `must be at most ${max} seconds, got ${got}`);
    return s;
  };
}

/** One of `allowed` (or an alias of one). */
function _oneOf<T extends string>(
  what: string,
  allowed: readonly T[],
  aliases: Record<string, T> = {},
): Reader<T> {
  return (c: _Ctx, e: Entry) => {
    const v = _str(c, e);
    const found = allowed.find((a) => a === v) ?? aliases[v];
    if (found === undefined) {
      const also = `${_suggest(v, allowed)} (allowed: ${allowed.join(", ")})`;
      c.bad(e, `unknown ${what} "${v}"${also}`);
    }
    return found;
  };
}

const _addr: Reader<string> = (c: _Ctx, e: Entry) => {
  const a = c.value(e);
  const example = 'a HOST:PORT string such as "10.0.0.1:9000"';
  if (typeof a !== "string") c.bad(e, `must be ${example}, got ${c.got(e)}`);
  let port;
  try {
    port = splitHostPort(a).port;
  } catch (err) {
    c.bad(e, `${(err as Error).message}: expected ${example}`);
  }
  if (port === 0) c.bad(e, `"${a}" has port 0`);
  return a;
};

/** The workers: unique HOST:PORT addresses. */
const _addrs: Reader<string[]> = (c: _Ctx, e: Entry) => {
  const seen = new Map<string, string>();
  const item = (c: _Ctx, e: Entry): string => {
    const a = _addr(c, e), first = seen.get(_norm(a));
    if (first) c.bad(e, `"${a}" is listed twice (first as ${first})`);
    seen.set(_norm(a), e.field);
    return a;
  };
  return _list("HOST:PORT workers", item)(c, e);
};

/** `host:port` with the host in lower case, for comparing addresses. */
function _norm(addr: string): string {
  const { hostname, port } = splitHostPort(addr);
  return `${hostname.toLowerCase()}:${port}`;
}

/** Describes a node for "got ..." in a message. */
function _got(n: unknown): string {
  if (YAML.isMap(n)) return "a mapping";
  if (YAML.isSeq(n)) return "a list";
  if (YAML.isAlias(n)) return `*${n.source}, an alias with no anchor before it`;
  const v = YAML.isScalar(n) ? n.value : null;
  if (v === null || v === undefined) return "nothing";
  if (typeof v !== "string") return String(v);
  const quoted = (n as Scalar).type?.startsWith("QUOTE");
  const numeric = quoted && v.trim() !== "" && Number.isFinite(Number(v));
  return JSON.stringify(v) + (numeric ? " (a string: drop the quotes)" : "");
}

/** `, did you mean "x"?` for one clear near miss, else "". */
function _suggest(word: string, options: readonly string[]): string {
  const scored = options.map((o) => ({
    o,
    d: _distance(word.toLowerCase(), o.toLowerCase()),
  })).sort((a, b) => a.d - b.d);
  const [best, next] = scored;
  const clear = best && best.d <= 3 && best.d < best.o.length / 2 &&
    (!next || next.d > best.d);
  return clear ? `, did you mean "${best.o}"?` : "";
}

/** Edit distance, a swap of neighbours counting as one edit. */
function _distance(a: string, b: string): number {
  const d = [...Array(a.length + 1)].map((_, i) =>
    [...Array(b.length + 1)].map((_, j) => i === 0 ? j : j === 0 ? i : 0)
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const at = (x: number, y: number) => d[x]![y]!;
      let v = Math.min(
        at(i - 1, j) + 1,
        at(i, j - 1) + 1,
        at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, at(i - 2, j - 2) + 1);
      }
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

// ---------------------------------------------------------------- schema

const _weight: Reader<number> = (c: _Ctx, e: Entry) => {
  const w = _num(c, e);
  if (w < 0) c.bad(e, `must be a weight of at least 0, got ${w}`);
  return w;
};
const _WEIGHTS = Object.fromEntries(STATS.map((s) => [s, _weight])) as Record<
  Stat,
  Reader<number>
>;

const _strategy: Reader<Strategy> = (c: _Ctx, e: Entry) => {
  if (!YAML.isMap(c.resolve(e.node))) {
    const s = _str(c, e);
    const preset = _PRESETS.find((p) => p === s);
    if (preset === undefined) {
      const also = `${_suggest(s, _PRESETS)} (allowed: ${_PRESETS.join(", ")}` +
        ", or { weights: { <stat>: <number>, ... } })";
      c.bad(e, `unknown strategy "${s}"${also}`);
    }
    return { name: preset, weights: { ...D.STRATEGY_WEIGHTS[preset] } };
  }
  const { v, at } = _record({ weights: _record(_WEIGHTS) })(c, e);
  _need(c, e, "weights", v.weights !== undefined, "e.g. { p90: 1 }");
  const weights = v.weights!.v;
  if (!Object.values(weights).some((w) => w > 0)) {
    c.bad(at.weights!, "must give at least one statistic a weight above 0");
  }
  return { name: "CUSTOM", weights };
};

const _tree = _record({
  type: _oneOf<TreeType>("tree type", TREE_TYPES, { RAND: "RANDOM" }),
  strategy: _strategy,
  name: _name,
});

/** A tree spec, named by default after its type and strategy. */
function _spec(type: TreeType, s?: Strategy, name?: string): TreeSpec {
  const label = name ?? (s ? `${type}-${s.name}` : type);
  return s ? { name: label, type, strategy: s } : { name: label, type };
}

const _trees: Reader<TreeSpec[]> = (c: _Ctx, e: Entry) => {
  const seen = new Map<string, string>();
  return _list("trees", _tree)(c, e).map(({ v, at, self }) => {
    _need(c, self, "type", v.type !== undefined, TREE_TYPES.join(", "));
    if (v.type === "RANDOM" && at.strategy) {
      c.bad(at.strategy, "a RANDOM tree is drawn at random: drop its strategy");
    }
    const needs = `a ${v.type} tree needs ${_PRESETS.join(", ")} or weights`;
    _need(c, self, "strategy", v.type === "RANDOM" || !!v.strategy, needs);
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

const _action: Reader<Action> = (c: _Ctx, e: Entry) => {
  const a = _str(c, e);
  if (_MANAGER_ACTIONS.includes(a)) {
    c.bad(
      e,
      `action "${a}" is pushed by the manager itself and cannot be listed ` +
        `in a script (allowed: ${ACTIONS.join(", ")})`,
    );
  }
  const action = _oneOf("action", ACTIONS)(c, e);
  if (!c.implemented.includes(action)) {
    c.bad(e, `action "${a}" is not implemented yet`);
  }
  return action;
};

const _data: Reader<Step["data"]> = (c: _Ctx, e: Entry) => {
  const n = c.resolve(e.node);
  if (n !== null && !YAML.isScalar(n)) {
    c.bad(e, `must be a single value, got ${_got(n)}`);
  }
  return (c.value(e) ?? null) as Step["data"];
};

const _step: Reader<Step> = (c: _Ctx, e: Entry) => {
  const { v } = _record({ action: _action, description: _str, data: _data })(
    c,
    e,
  );
  _need(c, e, "action", v.action !== undefined, ACTIONS.join(", "));
  const step: Step = { action: v.action! };
  if (v.description !== undefined) step.description = v.description;
  if (v.data !== undefined) step.data = v.data;
  return step;
};

const _RATE = _int(1, 1_000_000);
const _DURATION = _secs(0, 3600, true);
const _WARMUP = _secs(0, 3600);

/** The top-level keys, in the order the docs list them. */
const _TOP = {
  name: _name,
  description: _str,
  seed: _int(0),
  addrs: _addrs,
  depth: _int(1, 8),
  fanout: _int(1, 64),
  hyperparameter: _num,
  rate: _RATE,
  duration: _DURATION,
  warmup: _WARMUP,
  evaluation: _record({
    rate: _RATE,
    duration: _DURATION,
    warmup: _WARMUP,
    runs: _int(1, 100),
  }),
  roots: _int(1),
  root: _addr,
  trees: _trees,
  parallel: _bool,
  timeouts: _record({
    connect: _DURATION,
    request: _DURATION,
    retries: _int(0, 10),
    job_grace: _WARMUP,
  }),
  steps: _list("steps", _step),
};

// ---------------------------------------------------------------- checks

/** Nodes in a tree of depth `d` and fanout `f`. */
function _nodes(d: number, f: number): bigint {
  const F = BigInt(f);
  return f === 1 ? BigInt(d + 1) : (F ** BigInt(d + 1) - 1n) / (F - 1n);
}

/** Checks across keys, then applies the defaults. */
function _build(c: _Ctx, top: Read<typeof _TOP>, text: string): Script {
  const { v, at, self } = top;
  _need(c, self, "name", v.name !== undefined, "every script needs a name");
  _need(c, self, "addrs", v.addrs !== undefined, "list the workers");
  const addrs = v.addrs!, n = addrs.length, fanout = v.fanout ?? D.FANOUT;
  const workers = `${n} worker${n === 1 ? "" : "s"}`;
  const problems: { at: number; error: ScriptError }[] = [];
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
    problem(at.addrs!, `${workers} cannot fill ${tree}, which needs ${needs}`);
  }

  let hyperparameter: Hyperparameter = {
    kind: "count",
    value: D.HYPERPARAMETER_PER_FANOUT * fanout,
  };
  const k = v.hyperparameter;
  if (k !== undefined) {
    const src = (c.resolve(at.hyperparameter!.node) as Scalar).source ?? `${k}`;
    const fraction = !Number.isInteger(k) || src.includes(".");
    if (fraction ? k > 0 && k <= 1 : k >= fanout) {
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

  if (at.roots && at.root) {
    const later = c.offset(at.roots) > c.offset(at.root) ? at.roots : at.root;
    problem(
      later,
      'give either "roots" (how many) or "root" (which), not both',
    );
  }
  if (v.roots !== undefined && v.roots > n) {
    problem(at.roots!, `${workers} cannot provide ${v.roots} distinct roots`);
  }
  const root = v.root && addrs.find((a) => _norm(a) === _norm(v.root!));
  if (v.root !== undefined && root === undefined) {
    problem(at.root!, `"${v.root}" is not one of the workers in "addrs"`);
  }

  const missing = D.STEPS.find((a) => !c.implemented.includes(a));
  if (v.steps === undefined && missing) {
    const why = `is missing, and the default steps (${D.STEPS.join(", ")}) ` +
      `include "${missing}", which is not implemented yet: list the steps`;
    problem(self, why, "steps");
  }

  const first = problems.sort((a, b) => a.at - b.at)[0];
  if (first) throw first.error;

  const warmup = v.warmup ?? D.WARMUP, rate = v.rate ?? D.RATE;
  const ev = v.evaluation?.v ?? {}, t = v.timeouts?.v ?? {};
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
    timeouts: {
      connect: t.connect ?? D.CONNECT_TIMEOUT,
      request: t.request ?? D.REQUEST_TIMEOUT,
      retries: t.retries ?? D.RETRIES,
      jobGrace: t.job_grace ?? D.JOB_GRACE,
    },
    steps: v.steps ?? D.STEPS.map((action) => ({ action })),
  };
  if (v.description !== undefined) script.description = v.description;
  if (root !== undefined) script.root = root;
  return script;
}
