/**
 * Helpers for tests that start treecast processes.
 *
 * @module
 */
import { type ReadyProcess, spawnReady } from "../../demo/spawn.ts";

/** Absolute path of main.ts. */
export const MAIN = new URL("../../main.ts", import.meta.url).pathname;
/** The repository root (cwd for spawned processes). */
export const ROOT = new URL("../..", import.meta.url).pathname;

/** Output of a finished treecast run. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The argv that runs treecast with `args` (the way the worker spawns probes). */
export function treecastArgs(args: string[]): string[] {
  return ["run", "-A", MAIN, ...args];
}

/** Runs `treecast ARGS` to completion. */
export async function runTreecast(
  args: string[],
  opts: { timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<RunResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: treecastArgs(args),
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...opts.env },
    signal: AbortSignal.timeout(opts.timeoutMs ?? 60_000),
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

/** A running treecast process whose first stdout line was a ready event. */
export type Running = ReadyProcess;

/** Starts `treecast ARGS` and waits for its `{"event":"ready"}` line. */
export function startReady(args: string[]): Promise<Running> {
  return spawnReady(args);
}
