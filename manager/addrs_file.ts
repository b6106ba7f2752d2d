/**
 * `addrs_file:` in a script: the workers' addresses from a text file of
 * `HOST:PORT` lines, as a cloud's CLI prints them (one per line; blank
 * lines and `#` comments are skipped). A relative path is relative to the
 * script's folder. A bad line is an error naming the file and its line.
 *
 * @module
 */
import { dirname, isAbsolute, join } from "node:path";
import { splitHostPort } from "../core/cli.ts";
import { type Context, type Entry, type MakeError, str } from "./yaml_read.ts";

/** What is wrong with a worker address, or undefined when it is fine. */
export function addrProblem(a: string): string | undefined {
  let port;
  try {
    port = splitHostPort(a).port;
  } catch (err) {
    return `${
      (err as Error).message
    }: expected a HOST:PORT string such as "10.0.0.1:9000"`;
  }
  return port === 0 ? `"${a}" has port 0` : undefined;
}

/** `host:port` with the host in lower case, for comparing addresses. */
export function normAddr(addr: string): string {
  const { hostname, port } = splitHostPort(addr);
  return `${hostname.toLowerCase()}:${port}`;
}

/** The addresses of a file's text; `error` builds the error for a bad line. */
export function parseAddrsLines(
  text: string,
  file: string,
  error: MakeError,
): string[] {
  const addrs: string[] = [];
  const seen = new Map<string, number>();
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/#.*$/, "");
    const a = line.trim();
    if (a === "") return;
    const at = {
      file,
      line: i + 1,
      col: line.length - line.trimStart().length + 1,
      field: "addrs_file",
    };
    const why = addrProblem(a);
    if (why) throw error(why, at);
    const first = seen.get(normAddr(a));
    if (first) {
      throw error(`"${a}" is listed twice (first on line ${first})`, at);
    }
    seen.set(normAddr(a), i + 1);
    addrs.push(a);
  });
  if (addrs.length === 0) {
    throw error("lists no HOST:PORT worker", {
      file,
      line: 1,
      col: 1,
      field: "addrs_file",
    });
  }
  return addrs;
}

/** Reads the file an `addrs_file` entry names (relative to the script). */
export function readAddrsFile(
  c: Context,
  e: Entry,
  error: MakeError,
): string[] {
  const name = str(c, e);
  const path = isAbsolute(name) ? name : join(dirname(c.file), name);
  let text;
  try {
    text = Deno.readTextFileSync(path);
  } catch (err) {
    const why = err instanceof Deno.errors.NotFound
      ? "no such file"
      : (err as Error).message;
    c.bad(e, `cannot read "${path}": ${why}`);
  }
  return parseAddrsLines(text, path, error);
}
