/**
 * Reading typed values out of a YAML document, for a loader that checks a
 * schema of its own (see `script.ts`). Nothing here knows treecast's keys.
 *
 * A {@link Reader} takes a {@link Context} and an {@link Entry} (a node, the
 * key it sits under and its field path such as `trees[1].strategy`) and
 * returns the value or throws. Errors are built by the loader's own factory,
 * so they carry `file:line:col` and the field, and are of the loader's type.
 *
 * - {@link record} reads a mapping in document order against a table of
 *   readers, refusing unknown keys with a "did you mean" hint;
 *   {@link need} reports a missing key at the mapping.
 * - {@link list}, {@link str}, {@link bool}, {@link num}, {@link int},
 *   {@link secs} and {@link oneOf} read lists and scalars with type and range
 *   checks; {@link got} describes a wrong value for "got ..." in a message.
 *
 * @module
 */
import YAML from "yaml";
import type { Document, LineCounter, Scalar } from "yaml";
import { durationSeconds } from "../core/cli.ts";

/** Where a problem is. `field` is a path such as `trees[1].strategy`. */
export interface Place {
  file: string;
  line: number;
  col: number;
  field?: string | undefined;
}

/** Builds the error for a problem, of whatever type the loader throws. */
export type MakeError = (reason: string, at: Place) => Error;

/** A node with the key it sits under and its field path. */
export interface Entry {
  node: unknown;
  key?: unknown;
  field: string;
}

/** Options of {@link parseYaml}. */
export interface ParseOptions {
  /** Names the text in errors. */
  file: string;
  /** Builds every error the readers throw. */
  error: MakeError;
}

/**
 * Parses YAML text, throwing on its first syntax error. `top` is the whole
 * document, whose node is `null` when the text holds nothing.
 */
export function parseYaml(
  text: string,
  opts: ParseOptions,
): { c: Context; top: Entry } {
  const lines = new YAML.LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter: lines });
  const c = new Context(doc, { lines, ...opts });
  const bad = doc.errors[0];
  if (bad) {
    const why = bad.message.split("\n")[0]!.replace(/ at line \d+.*$/, "");
    throw c.fail(bad.pos[0], undefined, `YAML syntax error: ${why}`);
  }
  return { c, top: { node: doc.contents, field: "" } };
}

/** Options of the {@link Context} constructor. */
export interface ContextOptions extends ParseOptions {
  /** The line counter the document was parsed with. */
  lines: LineCounter;
}

/** One parsed document being read: turns nodes into values and places. */
export class Context {
  /** The file named in errors. */
  readonly file: string;
  /** The document read. */
  readonly doc: Document;
  #lines: LineCounter;
  #error: MakeError;

  constructor(doc: Document, opts: ContextOptions) {
    this.doc = doc;
    this.file = opts.file;
    this.#lines = opts.lines;
    this.#error = opts.error;
  }

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

  /** The error for a problem at an entry or offset, naming `field` if any. */
  fail(at: Entry | number, field: string | undefined, reason: string): Error {
    const offset = typeof at === "number" ? at : this.offset(at);
    const { line, col } = this.#lines.linePos(offset);
    return this.#error(reason, { file: this.file, line, col, field });
  }

  /** Throws about the value of `e`. */
  bad(e: Entry, reason: string): never {
    throw this.fail(e, e.field, reason);
  }

  /** The scalar value of `e`, or undefined when it is not a scalar. */
  value(e: Entry): unknown {
    const n = this.resolve(e.node);
    return YAML.isScalar(n) ? n.value : undefined;
  }

  /** Describes the value of `e` for "got ..." in a message. */
  got(e: Entry): string {
    return got(this.resolve(e.node));
  }
}

/** Checks the node of an entry and returns its value, or throws. */
export type Reader<T> = (c: Context, e: Entry) => T;
/** Readers by key: the keys a mapping may hold. */
export type Schema = Record<string, Reader<unknown>>;
/** The values read for the keys of a schema; absent keys are undefined. */
export type Values<S extends Schema> = {
  [K in keyof S]?: S[K] extends Reader<infer T> ? T : never;
};
/** A mapping read against a schema: values and entries of the keys given. */
export interface Read<S extends Schema> {
  v: Values<S>;
  at: { [K in keyof S]?: Entry };
  self: Entry;
}

/** Reads a mapping in document order against `schema`, refusing unknown keys. */
export function record<S extends Schema>(schema: S): Reader<Read<S>> {
  return (c: Context, e: Entry) => {
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
          `${why}, got ${got(key)}`,
        );
      }
      const name = String(key.value);
      const field = e.field ? `${e.field}.${name}` : name;
      const reader = schema[name];
      if (reader === undefined) {
        const also = `${suggest(name, allowed)} (allowed: ${
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
export function need(
  c: Context,
  map: Entry,
  key: string,
  ok: boolean,
  hint: string,
) {
  if (ok) return;
  const field = map.field ? `${map.field}.${key}` : key;
  throw c.fail(map, field, `is missing: ${hint}`);
}

/** A non-empty list, each item read by `item`; `what` names the items. */
export function list<T>(what: string, item: Reader<T>): Reader<T[]> {
  return (c: Context, e: Entry) => {
    const n = c.resolve(e.node);
    if (!YAML.isSeq(n)) c.bad(e, `must be a list of ${what}, got ${c.got(e)}`);
    if (n.items.length === 0) c.bad(e, `must list at least one of ${what}`);
    return n.items.map((node, i) =>
      item(c, { node, field: `${e.field}[${i}]` })
    );
  };
}

/** A string. */
export const str: Reader<string> = (c: Context, e: Entry) => {
  const v = c.value(e);
  if (typeof v !== "string") c.bad(e, `must be a string, got ${c.got(e)}`);
  return v;
};

/** `true` or `false`. */
export const bool: Reader<boolean> = (c: Context, e: Entry) => {
  const v = c.value(e);
  if (typeof v !== "boolean") {
    c.bad(e, `must be true or false, got ${c.got(e)}`);
  }
  return v;
};

/** A finite number. */
export const num: Reader<number> = (c: Context, e: Entry) => {
  const v = c.value(e);
  if (typeof v !== "number" || !Number.isFinite(v)) {
    c.bad(e, `must be a number, got ${c.got(e)}`);
  }
  return v;
};

/** A whole number in [min, max], or at least `min` when `max` is left out. */
export function int(min: number, max?: number): Reader<number> {
  const rule = max === undefined
    ? `must be a whole number of at least ${min}`
    : `must be a whole number from ${min} to ${max}`;
  return (c: Context, e: Entry) => {
    const v = c.value(e);
    if (
      typeof v !== "number" || !Number.isSafeInteger(v) || v < min ||
      (max !== undefined && v > max)
    ) c.bad(e, `${rule}, got ${c.got(e)}`);
    return v;
  };
}

/**
 * Seconds in [min, max] (or (min, max]): a number, or a duration string in
 * the one syntax of `core/cli.ts` `durationSeconds` (`"10s"`, `"500ms"`,
 * `"250us"`, `"2m"`). `limit` is appended to a range message (why the
 * range is what it is).
 */
export function secs(
  min: number,
  max: number,
  above = false,
  limit = "",
): Reader<number> {
  return (c: Context, e: Entry) => {
    const v = c.value(e);
    const parsed = typeof v === "string" ? durationSeconds(v) : undefined;
    const s = typeof v === "number" ? v : parsed ?? NaN;
    const got = c.got(e) + (parsed !== undefined ? ` (${s} seconds)` : "");
    if (!Number.isFinite(s)) {
      c.bad(e, `must be seconds such as 10, "10s" or "500ms", got ${got}`);
    }
    if (above ? s <= min : s < min) {
      c.bad(
        e,
        `must be ${
          above ? "more than" : "at least"
        } ${min} seconds${limit}, got ${got}`,
      );
    }
    if (s > max) {
      c.bad(e, `must be at most ${max} seconds${limit}, got ${got}`);
    }
    return s;
  };
}

/** One of `allowed` (or an alias of one); `what` names it in errors. */
export function oneOf<T extends string>(
  what: string,
  allowed: readonly T[],
  aliases: Record<string, T> = {},
): Reader<T> {
  return (c: Context, e: Entry) => {
    const v = str(c, e);
    const found = allowed.find((a) => a === v) ?? aliases[v];
    if (found === undefined) {
      const also = `${suggest(v, allowed)} (allowed: ${allowed.join(", ")})`;
      c.bad(e, `unknown ${what} "${v}"${also}`);
    }
    return found;
  };
}

/** Describes a node for "got ..." in a message. */
export function got(n: unknown): string {
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
export function suggest(word: string, options: readonly string[]): string {
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
