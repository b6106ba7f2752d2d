/**
 * The one way every subcommand reads its flags and reports usage errors.
 *
 * A subcommand declares a {@link CommandSpec}; {@link runCommand} turns
 * `--help` into the help text, a bad flag or value into one `error:` line
 * plus the usage (exit 2), and any other failure into one `error:` line
 * (exit 1). Role cores never print or exit: they return or throw.
 *
 * This module has no ZeroMQ and no protobuf, so the probes may use it.
 *
 * @module
 */
import { parseArgs } from "node:util";

/** A bad flag, value or script: the user's to fix. Exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Thrown by a role core when the run was stopped by the user (Ctrl-C). */
export class Interrupted extends Error {
  override name = "Interrupted";
  constructor(message = "Interrupted") {
    super(message);
  }
}

/** One flag of a subcommand. */
export interface FlagSpec {
  type: "string" | "boolean";
  /** Placeholder shown in the help text, e.g. `HOST:PORT`. */
  arg?: string;
  /** One line for the help text. */
  help: string;
  /** Default value as shown in the help text (parsing applies defaults itself). */
  defaultText?: string;
  /** The flag may be repeated. */
  multiple?: boolean;
}

/** A subcommand's declaration: what `--help` shows and what parsing accepts. */
export interface CommandSpec {
  name: string;
  /** One line for `treecast help`. */
  summary: string;
  /** Synopsis after `treecast`, e.g. `child --bind HOST:PORT [options]`. */
  synopsis: string;
  /** A few lines of explanation below the synopsis. */
  description?: string;
  flags: Record<string, FlagSpec>;
  /** How many positional arguments are allowed: [min, max]. Default [0, 0]. */
  positionals?: [number, number];
}

/** A runnable subcommand, as listed in `main.ts`. */
export interface Command {
  spec: CommandSpec;
  /** Runs with the arguments after the subcommand name; resolves to the exit code. */
  run(args: string[]): Promise<number>;
}

type Values<F extends Record<string, FlagSpec>> = {
  [K in keyof F]: F[K]["type"] extends "boolean" ? boolean
    : F[K]["multiple"] extends true ? string[]
    : string | undefined;
};

/** Parsed flags and positionals. */
export interface Parsed<F extends Record<string, FlagSpec>> {
  values: Values<F>;
  positionals: string[];
}

/** Formats the help text of a subcommand. */
export function helpText(spec: CommandSpec): string {
  const lines = [`Usage: treecast ${spec.synopsis}`, "", spec.summary];
  if (spec.description) lines.push("", spec.description.trimEnd());
  const rows: [string, string][] = Object.entries(spec.flags).map((
    [name, f],
  ) => [
    `--${name}${f.arg ? ` ${f.arg}` : ""}`,
    f.help +
    (f.defaultText !== undefined ? ` (default: ${f.defaultText})` : ""),
  ]);
  rows.push(["-h, --help", "Show this help"]);
  const width = Math.max(...rows.map(([l]) => l.length));
  lines.push("", "Options:");
  for (const [l, r] of rows) lines.push(`  ${l.padEnd(width)}  ${r}`);
  return lines.join("\n") + "\n";
}

/** Parses `args` against `spec`; throws {@link UsageError} on anything unknown or missing. */
export function parseCommand<F extends Record<string, FlagSpec>>(
  spec: CommandSpec & { flags: F },
  args: string[],
): Parsed<F> {
  const options: Record<
    string,
    { type: "string" | "boolean"; multiple?: boolean }
  > = {};
  for (const [name, f] of Object.entries(spec.flags)) {
    options[name] = f.multiple
      ? { type: f.type, multiple: true }
      : { type: f.type };
  }
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options,
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new UsageError(_parseArgsMessage(e));
  }
  const [min, max] = spec.positionals ?? [0, 0];
  if (parsed.positionals.length < min) {
    throw new UsageError(`Missing argument: ${spec.synopsis}`);
  }
  if (parsed.positionals.length > max) {
    throw new UsageError(
      `Unexpected argument "${parsed.positionals[max]}"`,
    );
  }
  const values: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(spec.flags)) {
    const v = (parsed.values as Record<string, unknown>)[name];
    values[name] = f.type === "boolean"
      ? v === true
      : f.multiple
      ? (v as string[] | undefined) ?? []
      : v;
  }
  return { values: values as Values<F>, positionals: parsed.positionals };
}

function _parseArgsMessage(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const unknown = msg.match(/Unknown option '([^']+)'/);
  if (unknown) return `Unknown flag "${unknown[1]}"`;
  const missing = msg.match(
    /Option '(?:-\w, )?(--[\w-]+)[^']*' argument missing/,
  );
  if (missing) return `Flag "${missing[1]}" needs a value`;
  const noValue = msg.match(/Option '(--[\w-]+)' does not take an argument/);
  if (noValue) return `Flag "${noValue[1]}" takes no value`;
  return msg.split("\n")[0] ?? msg;
}

/** Where a command writes; tests substitute their own. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

const enc = new TextEncoder();
/** The process's stdout and stderr. */
export const stdio: Io = {
  out: (t) => void Deno.stdout.writeSync(enc.encode(t)),
  err: (t) => void Deno.stderr.writeSync(enc.encode(t)),
};

/**
 * Runs a subcommand body with the uniform handling of `--help`, usage errors
 * (exit 2) and runtime failures (exit 1). {@link Interrupted} exits 130.
 */
export async function runCommand<F extends Record<string, FlagSpec>>(
  spec: CommandSpec & { flags: F },
  args: string[],
  body: (parsed: Parsed<F>) => Promise<number>,
  io: Io = stdio,
): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    io.out(helpText(spec));
    return 0;
  }
  try {
    return await body(parseCommand(spec, args));
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(
        `error: ${e.message}\nUsage: treecast ${spec.synopsis}\n` +
          `Run "treecast ${spec.name} --help" for the options.\n`,
      );
      return 2;
    }
    if (e instanceof Interrupted) {
      io.err(`error: ${e.message}\n`);
      return 130;
    }
    io.err(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

// ---------------------------------------------------------------- values

/** Options for {@link parseNumber}. */
export interface NumberRange {
  min?: number;
  max?: number;
  integer?: boolean;
}

/** Parses a number given to `--flag`, within an optional range. */
export function parseNumber(
  flag: string,
  text: string,
  range: NumberRange = {},
): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n)) {
    throw new UsageError(`Flag "--${flag}" needs a number, got "${text}"`);
  }
  _checkRange(`Flag "--${flag}"`, n, range);
  return n;
}

function _checkRange(what: string, n: number, r: NumberRange): void {
  if (r.integer && !Number.isInteger(n)) {
    throw new UsageError(`${what} needs a whole number, got ${n}`);
  }
  if (r.min !== undefined && n < r.min) {
    throw new UsageError(`${what} must be at least ${r.min}, got ${n}`);
  }
  if (r.max !== undefined && n > r.max) {
    throw new UsageError(`${what} must be at most ${r.max}, got ${n}`);
  }
}

const UNITS: Record<string, number> = {
  "": 1,
  s: 1,
  ms: 1e-3,
  us: 1e-6,
  "µs": 1e-6,
  ns: 1e-9,
  m: 60,
};

/**
 * The one duration syntax (flags, scripts, emulation specs): a number of
 * seconds, or a number with a unit s, ms, us (or µs), ns or m, such as
 * `10`, `10s`, `500ms`, `250us`, `2m`. Seconds, or undefined for text of
 * another shape.
 */
export function durationSeconds(text: string): number | undefined {
  const m = text.trim().match(/^(\d+(?:\.\d+)?|\.\d+)\s*(s|ms|us|µs|ns|m)?$/);
  const unit = UNITS[m?.[2] ?? ""];
  return m && unit !== undefined ? Number(m[1]) * unit : undefined;
}

/** Parses a duration given to `--flag` ({@link durationSeconds}) into seconds. */
export function parseSeconds(
  flag: string,
  text: string,
  range: NumberRange = {},
): number {
  const s = durationSeconds(text);
  if (s === undefined) {
    throw new UsageError(
      `Flag "--${flag}" needs a duration such as 10s or 500ms, got "${text}"`,
    );
  }
  _checkRange(`Flag "--${flag}"`, s, range);
  return s;
}

/** A host and port, as the probes and the control plane address them. */
export interface HostPort {
  hostname: string;
  port: number;
}

/** Whether `host` (a name or an IP) is this host's loopback. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host.startsWith("127.") || host === "::1";
}

/**
 * Parses `HOST:PORT` (or `[IPv6]:PORT`). Throws a plain Error (the caller
 * wraps it as a usage error or an ERR reply, naming its own field).
 */
export function splitHostPort(text: string): HostPort {
  const m = text.match(/^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/) ??
    text.match(/^([A-Za-z0-9._-]+):(\d{1,5})$/);
  if (!m) throw new Error(`"${text}" is not HOST:PORT`);
  const port = Number(m[2]);
  if (port > 65535) throw new Error(`"${text}" has a port above 65535`);
  return { hostname: m[1]!, port };
}

/** Formats a {@link HostPort} back to text (brackets for IPv6). */
export function joinHostPort(a: HostPort): string {
  return a.hostname.includes(":")
    ? `[${a.hostname}]:${a.port}`
    : `${a.hostname}:${a.port}`;
}

/** Parses `--flag HOST:PORT` into a {@link HostPort}. */
export function parseHostPort(flag: string, text: string): HostPort {
  try {
    return splitHostPort(text);
  } catch (e) {
    throw new UsageError(`Flag "--${flag}": ${(e as Error).message}`);
  }
}

/** Parses `--flag HOST`: a name, or an IPv4 or IPv6 address (brackets optional). */
export function parseHost(flag: string, text: string): string {
  const hostname = text.replace(/^\[(.*)\]$/, "$1");
  try {
    return splitHostPort(joinHostPort({ hostname, port: 0 })).hostname;
  } catch {
    throw new UsageError(`Flag "--${flag}": "${text}" is not a host`);
  }
}

/** Parses a comma-separated list of `HOST:PORT`. */
export function parseHostPortList(flag: string, text: string): HostPort[] {
  const parts = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (parts.length === 0) {
    throw new UsageError(`Flag "--${flag}" needs at least one HOST:PORT`);
  }
  return parts.map((p) => parseHostPort(flag, p));
}

/** Throws a usage error when a required flag is missing; returns its value. */
export function required(flag: string, value: string | undefined): string {
  if (value === undefined) throw new UsageError(`Missing flag "--${flag}"`);
  return value;
}
