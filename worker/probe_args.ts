/**
 * The flags of a job's probe (`treecast parent|child|proxy ...`), built by
 * the worker from a validated COMMAND's typed numbers and addresses, never
 * from a string the message carried.
 *
 * @module
 */
import { joinHostPort } from "../core/cli.ts";
import type { Command } from "../proto/codec.ts";
import type { ProbeKind } from "./warm.ts";

/** Options of {@link probeArgs}. */
export interface ProbeArgOptions {
  /** The host every probe binds (a parent sends from it). */
  bindHost: string;
  /** Data addresses of the probes below (parent and proxy). */
  to: string[];
  emulate: string;
  timeoutMs: number;
  /** The probe's I/O backend (resolved: never auto). */
  io: "native" | "deno";
  /** A receiver's timestamps (resolved: never auto). */
  timestamps: "kernel" | "user";
  /**
   * Where a leaf of an evaluation writes its per-message log (see
   * {@link logsMessages}): a path in the worker's own private directory.
   */
  messagesPath?: string | undefined;
  /**
   * The hosts a receiver's stream comes from (the command's `senders`):
   * its only sources (`--from`); empty or none: any.
   */
  from?: readonly string[];
}

/**
 * The host this worker's probes send from, as the probes below see it
 * (a relayed command's `senders`): the probe host, or, when the probes
 * bind a wildcard, the host the worker is advertised at (where the
 * streams leave from unless the VM has several addresses: then give the
 * worker `--probe-host`).
 */
export function streamSource(bindHost: string, advertise: string): string {
  return _wildcard(bindHost) ? advertise : bindHost;
}

/**
 * Whether the job of `kind` for `cmd` keeps a per-message log: a leaf of
 * an MCAST evaluation (a CHILD whose command records; a CHILD never has a
 * subtree below).
 */
export function logsMessages(kind: ProbeKind, cmd: Command): boolean {
  return kind === "child" && cmd.record;
}

/**
 * The probe's flags for a validated command: built from typed numbers and
 * addresses only, never from a string the message carried.
 */
export function probeArgs(
  kind: ProbeKind,
  cmd: Command,
  o: ProbeArgOptions,
): string[] {
  const s = (ms: number) => String(ms / 1000);
  const emulate = o.emulate ? ["--emulate", o.emulate] : [];
  const io = ["--io", o.io];
  const rx = [
    ...io,
    "--timestamps",
    o.timestamps,
    ...(o.from?.length ? ["--from", o.from.join(",")] : []),
  ];
  const bind = joinHostPort({ hostname: o.bindHost, port: 0 });
  switch (kind) {
    case "parent":
      return [
        // A wildcard is the parent's own default (of its children's family).
        ...(_wildcard(o.bindHost) ? [] : ["--bind", bind]),
        "--to",
        o.to.join(","),
        "--rate",
        String(cmd.rate),
        "--duration",
        s(cmd.dur),
        "--warmup",
        s(cmd.warmup),
        ...(cmd.size > 0 ? ["--size", String(cmd.size)] : []),
        ...io,
      ];
    case "child":
      return [
        "--bind",
        bind,
        "--duration",
        s(cmd.warmup + cmd.dur),
        "--timeout",
        s(o.timeoutMs),
        ...emulate,
        ...rx,
        ...(o.messagesPath !== undefined
          ? [
            "--messages",
            o.messagesPath,
            // The stream's shape: the log then covers the range the parent sends.
            "--rate",
            String(cmd.rate),
            "--warmup",
            s(cmd.warmup),
          ]
          : []),
      ];
    case "proxy":
      return [
        "--bind",
        bind,
        "--to",
        o.to.join(","),
        "--duration",
        s(cmd.warmup + cmd.dur),
        "--timeout",
        s(o.timeoutMs),
        ...(cmd.record ? ["--record"] : []),
        ...emulate,
        ...rx,
      ];
  }
}

function _wildcard(host: string): boolean {
  return host === "0.0.0.0" || host === "::" || host === "";
}
