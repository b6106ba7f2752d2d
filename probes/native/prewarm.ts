/**
 * The native probes' Worker (`worker.ts`), created on demand or ahead of
 * time: a process that waits for its job (`--standby`) starts it at once,
 * so that its modules (0.1-0.3 s to load, mostly the histogram library)
 * are loaded when the job comes, and keeps it after each job for the next
 * one. Light on purpose: `main.ts` imports it.
 *
 * @module
 */
import { ioSupport } from "../io.ts";

let spare: Worker | null = null;

function _newWorker(): Worker {
  return new Worker(new URL("./worker.ts", import.meta.url).href, {
    type: "module",
  });
}

/** Starts a Worker for the next native probe of this process; nothing where native I/O cannot run. */
export function prewarmNative(): void {
  if (spare === null && ioSupport().io.includes("native")) {
    spare = _newWorker();
  }
}

/** Whether a prewarmed Worker waits to be taken. */
export function prewarmedNative(): boolean {
  return spare !== null;
}

/** The prewarmed Worker, or a new one. */
export function takeWorker(): Worker {
  const w = spare ?? _newWorker();
  spare = null;
  return w;
}

let reuse = false;

/**
 * Keep each Worker once its probe reported, for the next native probe of
 * this process (a warm standby serving job after job: a new Worker would
 * load its modules again, 0.1-0.3 s of CPU, while the next job may come).
 */
export function reuseNativeWorkers(on = true): void {
  reuse = on;
}

/** A Worker whose probe reported: kept for the next one (with reuse), else ended. */
export function giveBack(w: Worker): void {
  if (reuse && spare === null) spare = w;
  else w.terminate();
}

/** Ends the prewarmed Worker if no probe took it. */
export function dropPrewarmed(): void {
  spare?.terminate();
  spare = null;
}
