/**
 * One probe I/O mode per experiment. Each worker's CONNECT hello lists the
 * backends and timestamp kinds it supports (`io:native`, `io:deno`,
 * `ts:kernel`, `ts:user`); the manager runs every probe of the experiment
 * in the best mode that all admitted workers share, so kernel and user
 * receive timestamps are never compared with each other.
 *
 * Ranked best first: native I/O with kernel timestamps, native with user
 * timestamps (every native receiver told `--timestamps user`, when one
 * worker's kernel gives none), the Deno datagram backend (user timestamps). When the workers share no mode the run refuses
 * with {@link IoModeError}, naming what each worker offers; a worker that
 * returns later (re-admission) without the chosen mode stays out.
 *
 * @module
 */
import type { Hello, Io, ProbeStats, Timestamps } from "../proto/codec.ts";
import type { ConnectResult } from "../core/results.ts";

/** A probe I/O backend and the receive timestamps it gives. */
export interface IoMode {
  io: Exclude<Io, "AUTO">;
  timestamps: Exclude<Timestamps, "TIMESTAMPS_UNSPECIFIED">;
}

/** Every mode, best first. */
export const MODES: readonly IoMode[] = [
  { io: "NATIVE", timestamps: "KERNEL" },
  { io: "NATIVE", timestamps: "USER" },
  { io: "DENO", timestamps: "USER" },
];

/** The mode as people read it, e.g. "native I/O, kernel timestamps". */
export function describeMode(m: IoMode): string {
  return `${m.io.toLowerCase()} I/O, ${m.timestamps.toLowerCase()} timestamps`;
}

/**
 * The modes a worker's hello offers, best first. Native I/O gives kernel
 * timestamps where the worker says its kernel does (`ts:kernel`), and user
 * ones always (a receiver can be told `--timestamps user`).
 */
export function modesOf(hello: Hello | undefined): IoMode[] {
  const caps = new Set(hello?.capabilities ?? []);
  const modes: IoMode[] = [];
  if (caps.has("io:native")) {
    if (caps.has("ts:kernel")) {
      modes.push({ io: "NATIVE", timestamps: "KERNEL" });
    }
    modes.push({ io: "NATIVE", timestamps: "USER" });
  }
  if (caps.has("io:deno")) modes.push({ io: "DENO", timestamps: "USER" });
  return modes;
}

/** Whether the worker's hello offers mode `m`. */
export function offers(hello: Hello | undefined, m: IoMode): boolean {
  return modesOf(hello).some((o) =>
    o.io === m.io && o.timestamps === m.timestamps
  );
}

/** The workers share no I/O mode: the experiment cannot compare them. */
export class IoModeError extends Error {
  override name = "IoModeError";
}

/**
 * The best mode every admitted (`status: "ok"`) worker offers. Throws
 * {@link IoModeError} when there is none, listing each worker's modes.
 */
export function chooseMode(workers: readonly ConnectResult[]): IoMode {
  const ok = workers.filter((w) => w.status === "ok");
  const best = MODES.find((m) => ok.every((w) => offers(w.hello, m)));
  if (best) return best;
  const what = ok.map((w) => {
    const modes = modesOf(w.hello);
    return `"${w.addr}" ${
      modes.length > 0
        ? modes.map(describeMode).join(" or ")
        : "none (no io: capability; an older treecast?)"
    }`;
  });
  throw new IoModeError(
    `The workers share no probe I/O mode, and kernel and user timestamps ` +
      `must not be compared: ${what.join("; ")}. Start every worker with the ` +
      `same --io (e.g. --io deno)`,
  );
}

/**
 * Why a receiver's statistics do not belong to the experiment's mode, or
 * undefined when they do: delays measured with another timestamp kind are
 * not comparable with the rest.
 */
export function statsMismatch(
  stats: ProbeStats | undefined,
  mode: IoMode,
): string | undefined {
  if (!stats || stats.timestamps === mode.timestamps) return undefined;
  const got = stats.timestamps === "TIMESTAMPS_UNSPECIFIED"
    ? "unstated"
    : stats.timestamps.toLowerCase();
  return `Measured with ${got} timestamps; the experiment compares ` +
    `${mode.timestamps.toLowerCase()} timestamps`;
}
