/**
 * The manager's progress display. On a terminal: a live bar (cli-progress,
 * on stderr) reading tree j of J, stage i of I, the running job and its
 * time left, and an ETA, with one line per event kept above it. Elsewhere
 * (CI, a pipe): one plain line per event, with no cursor or colour codes.
 *
 * The ETA is derived from the events alone: a tree of depth D and fanout F
 * takes D stages when built in parallel, (F^D - 1) / (F - 1) otherwise
 * (RANDOM none), each lasting its `expectedMs`; jobs are scaled by how
 * much longer than expected the finished ones took.
 *
 * @module
 */
// @ts-types="@types/cli-progress"
import cliProgress from "cli-progress";
import process from "node:process";
import type { ExperimentEvent } from "./experiment.ts";
import type { TreeResult } from "./results.ts";

/** How long finished jobs took relative to their expectation, before any did. */
const DEFAULT_RATIO = 1.15;

/** Parents whose kept children a stage's progress line names; more are counted. */
export const STAGES_SHOWN = 4;

/** What the script says about job lengths, when the caller knows it. */
export interface Plan {
  /** Evaluation runs per tree (`evaluation.runs`). */
  evalRuns?: number;
  /** Expected length of a PARENT stage, ms (warmup + duration). */
  stageMs?: number;
  /** Expected length of an evaluation, ms (its warmup + duration). */
  evalMs?: number;
}

/** Where the plan of the experiment stands; pure, time given by the caller. */
export class Tracker {
  /** Trees in the experiment (J). */
  trees = 0;
  /** 0-based index of the current tree. */
  tree = -1;
  name = "";
  /** Stages started in the current tree, and how many it should take. */
  stage = 0;
  stages = 0;
  /** Evaluation runs started in the current tree, and how many per tree. */
  evalRun = 0;
  evalRuns: number;
  /** The running job: what it is, when it started, how long it should take. */
  job: { what: string; startMs: number; expectedMs: number } | undefined;
  #actualMs = 0;
  #expectedMs = 0;
  #stageMs: number;
  #evalMs: number;
  #treeStartMs = 0;
  #doneTreesMs: number[] = [];
  #runsFixed: boolean;
  #current: TreeResult | undefined;
  /** Parents probed so far in the current tree, by depth. */
  #covered: number[] = [];

  constructor(plan: Plan = {}) {
    this.evalRuns = plan.evalRuns ?? 1;
    this.#runsFixed = plan.evalRuns !== undefined;
    this.#stageMs = plan.stageMs ?? 0;
    this.#evalMs = plan.evalMs ?? 0;
  }

  /** Takes an event in, at `nowMs`. */
  update(e: ExperimentEvent, nowMs: number): void {
    switch (e.kind) {
      case "connect":
      case "lost":
      case "readmitted":
      case "alltoall-done":
        return;
      case "alltoall-start":
        this.job = {
          what: `all-to-all ${e.round}/${e.rounds}`,
          startMs: nowMs,
          expectedMs: e.expectedMs,
        };
        return;
      case "tree-start":
        this.trees = e.total;
        this.tree = e.index;
        this.name = e.tree.name;
        this.stage = 0;
        this.stages = plannedStages(e.tree);
        this.#current = e.tree;
        this.#covered = [];
        this.evalRun = 0;
        this.#treeStartMs = nowMs;
        return;
      case "stage-start":
        this.stage++;
        this.#covered[e.depth] = (this.#covered[e.depth] ?? 0) +
          e.parents.length;
        this.stages = this.#current
          ? this.stage + stagesLeft(this.#current, this.#covered, {
            depth: e.depth,
            batch: e.parents.length,
          })
          : Math.max(this.stages, this.stage);
        this.#stageMs = e.expectedMs;
        this.job = {
          what: "probing",
          startMs: nowMs,
          expectedMs: e.expectedMs,
        };
        return;
      case "eval-start":
        this.evalRun = e.run;
        if (!this.#runsFixed) this.evalRuns = Math.max(this.evalRuns, e.run);
        this.#evalMs = e.expectedMs;
        this.job = {
          what: `evaluation ${e.run}/${this.evalRuns}`,
          startMs: nowMs,
          expectedMs: e.expectedMs,
        };
        return;
      case "stage-done":
      case "eval-done":
        if (this.job) {
          this.#actualMs += nowMs - this.job.startMs;
          this.#expectedMs += this.job.expectedMs;
        }
        this.job = undefined;
        return;
      case "tree-done":
        this.#doneTreesMs.push(nowMs - this.#treeStartMs);
        this.job = undefined;
        return;
    }
  }

  /** Measured time per expected time of the finished jobs. */
  get ratio(): number {
    return this.#expectedMs > 0
      ? Math.max(1, this.#actualMs / this.#expectedMs)
      : DEFAULT_RATIO;
  }

  /** The running job's time left, ms (0 when overdue or none runs). */
  jobLeftMs(nowMs: number): number {
    if (!this.job) return 0;
    return Math.max(0, this.job.expectedMs - (nowMs - this.job.startMs));
  }

  /**
   * Estimated time until the experiment ends, ms; undefined before the
   * first tree, or while no job length is known.
   */
  etaMs(nowMs: number): number | undefined {
    if (this.tree < 0) return undefined;
    if (this.#stageMs === 0 && this.#evalMs === 0) return undefined;
    const r = this.ratio;
    let left = this.job
      ? Math.max(0, this.job.expectedMs * r - (nowMs - this.job.startMs))
      : 0;
    const stagesLeft = this.stages - this.stage;
    const evalsLeft = this.evalRuns - this.evalRun;
    left += stagesLeft * this.#stageMs * r + evalsLeft * this.#evalMs * r;
    const treesLeft = Math.max(0, this.trees - this.tree - 1);
    if (treesLeft > 0) {
      const done = this.#doneTreesMs;
      const perTree = done.length > 0
        ? done.reduce((a, b) => a + b, 0) / done.length
        : (this.stages * this.#stageMs + this.evalRuns * this.#evalMs) * r;
      left += treesLeft * perTree;
    }
    return left;
  }

  /** Share of the experiment done, 0..1, by elapsed and estimated time. */
  fraction(elapsedMs: number, nowMs: number): number {
    const eta = this.etaMs(nowMs);
    if (eta === undefined) return 0;
    return elapsedMs + eta > 0 ? elapsedMs / (elapsedMs + eta) : 0;
  }
}

/** How many stages building `t` should take. */
export function plannedStages(t: TreeResult): number {
  if (t.type === "RANDOM") return 0;
  if (t.parallel) return t.depth;
  const f = t.fanout;
  return f === 1 ? t.depth : (f ** t.depth - 1) / (f - 1);
}

/**
 * Stages still to start in a tree after one at `at.depth` probing
 * `at.batch` parents at once, given the parents probed so far by depth:
 * built in parallel, each depth takes its parents in batches of that size
 * (the pool's limit); otherwise one parent a stage.
 */
export function stagesLeft(
  t: TreeResult,
  covered: readonly (number | undefined)[],
  at: { depth: number; batch: number },
): number {
  // A batch smaller than its depth shows the pool's limit; a full one none.
  const limit = at.batch < t.fanout ** at.depth ? at.batch : Infinity;
  let left = 0;
  for (let d = at.depth; d < t.depth; d++) {
    const nodes = t.fanout ** d;
    const todo = Math.max(0, nodes - (covered[d] ?? 0));
    const batch = t.parallel ? Math.max(1, Math.min(limit, nodes)) : 1;
    left += Math.ceil(todo / batch);
  }
  return left;
}

/** A duration for people: `45 s`, `3 min 05 s`, `1 h 02 min`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}

/** One plain line for an event (no control codes), or undefined for none. */
export function eventLine(
  e: ExperimentEvent,
  t: Tracker,
  nowMs: number,
): string | undefined {
  const eta = t.etaMs(nowMs);
  const etaText = eta === undefined ? "" : `; ETA ${formatDuration(eta)}`;
  const prefix = `tree ${t.tree + 1}/${t.trees} ${t.name}`;
  switch (e.kind) {
    case "connect": {
      const ok = e.results.filter((r) => r.status === "ok").length;
      return `connect: ${ok} of ${e.results.length} workers answered`;
    }
    case "tree-start":
      return `${prefix}: building from root ${e.tree.root} (${t.stages} stage${
        t.stages === 1 ? "" : "s"
      }, then ${t.evalRuns} evaluation${
        t.evalRuns === 1 ? "" : "s"
      })${etaText}`;
    case "stage-start":
      return `${prefix}: stage ${t.stage}/${t.stages}: ${e.parents.length} parent${
        e.parents.length === 1 ? "" : "s"
      } at depth ${e.depth} probe ${e.candidates} candidates for ${
        (e.expectedMs / 1000).toFixed(1)
      } s${etaText}`;
    case "stage-done": {
      // One line whatever the number of parents: the first few in full.
      const shown = e.stages.slice(0, STAGES_SHOWN).map((s) =>
        `${s.parent} keeps ${
          s.candidates.filter((c) => c.kept).map((c) => c.addr).join(", ") ||
          "none"
        }`
      );
      const rest = e.stages.length - shown.length;
      if (rest > 0) {
        const kept = e.stages.slice(STAGES_SHOWN).reduce(
          (n, s) => n + s.candidates.filter((c) => c.kept).length,
          0,
        );
        shown.push(`${rest} more parents keep ${kept} (results.json has them)`);
      }
      return `${prefix}: stage ${t.stage}/${t.stages} done: ${
        shown.join("; ")
      }`;
    }
    case "eval-start":
      return `${prefix}: evaluation ${e.run}/${t.evalRuns}: multicast for ${
        (e.expectedMs / 1000).toFixed(1)
      } s${etaText}`;
    case "eval-done": {
      const w = e.evaluation.worstLeaf;
      return `${prefix}: evaluation ${e.evaluation.run}/${t.evalRuns} done: ${
        !w
          ? "no leaf reported"
          : w.silent !== undefined
          ? `worst leaf ${w.addr} silent: ${w.silent}`
          : `worst leaf ${w.addr} p90 ${w.p90Us.toFixed(1)} us`
      }`;
    }
    case "lost":
      return `lost worker ${e.lost.addr}${
        e.lost.reason && e.lost.reason !== "lost" ? ` (${e.lost.reason})` : ""
      } during ${
        e.lost.tree ? `${e.lost.tree} ` : ""
      }${e.lost.during}: ${e.lost.detail}`;
    case "readmitted":
      return `worker ${e.addr} answered CONNECT again: admitted`;
    case "alltoall-start":
      return `LEMON all-to-all from root ${e.root}: round ${e.round}/${e.rounds} for ${
        (e.expectedMs / 1000).toFixed(1)
      } s`;
    case "alltoall-done":
      return `LEMON all-to-all from root ${e.root} done: ${e.packets} packets in ${
        (e.ms / 1000).toFixed(1)
      } s`;
    case "tree-done":
      return `${prefix}: ${e.tree.status}${
        e.index + 1 < e.total ? etaText : ""
      }`;
  }
}

/** A stream the bar can draw on (process.stderr, or a test's fake). */
export interface BarStream {
  isTTY?: boolean;
  columns?: number;
  write(chunk: string): unknown;
}

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  /** A terminal gets the live bar; anything else plain lines. */
  isTerminal: boolean;
  /** Where plain lines go (default: stderr). */
  write?: (text: string) => void;
  /** Where the bar draws (default: process.stderr). */
  stream?: BarStream;
  /** Job lengths from the script, so the ETA shows from the first tree. */
  plan?: Plan;
  /** Milliseconds since the epoch (default: Date.now). */
  now?: () => number;
}

/** The progress display of one experiment. */
export interface Progress {
  /** Shows an experiment event. */
  onEvent(e: ExperimentEvent): void;
  /** Stops the live bar (idempotent); call before printing anything else. */
  close(): void;
}

const enc = new TextEncoder();
const _stderr = (t: string) => void Deno.stderr.writeSync(enc.encode(t));

/** A progress display: a live bar on a terminal, plain lines elsewhere. */
export function createProgress(opts: ProgressOptions): Progress {
  const now = opts.now ?? Date.now;
  const tracker = new Tracker(opts.plan);
  if (!opts.isTerminal) {
    const write = opts.write ?? _stderr;
    return {
      onEvent(e) {
        const at = now();
        tracker.update(e, at);
        const line = eventLine(e, tracker, at);
        if (line !== undefined) write(_plain(line) + "\n");
      },
      close() {},
    };
  }
  return new _LiveBar(tracker, now, opts.stream ?? process.stderr);
}

/** Removes anything that could move a cursor or colour text. */
function _plain(s: string): string {
  // deno-lint-ignore no-control-regex
  return s.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, "");
}

class _LiveBar implements Progress {
  #t: Tracker;
  #now: () => number;
  #stream: BarStream;
  #multi?: cliProgress.MultiBar;
  #bar?: cliProgress.SingleBar;
  #timer: ReturnType<typeof setInterval> | undefined;
  #start: number;
  #closed = false;

  constructor(t: Tracker, now: () => number, stream: BarStream) {
    this.#t = t;
    this.#now = now;
    this.#stream = stream;
    this.#start = now();
  }

  onEvent(e: ExperimentEvent): void {
    if (this.#closed) return;
    const at = this.#now();
    this.#t.update(e, at);
    const line = eventLine(e, this.#t, at);
    if (e.kind === "connect") this.#start = at;
    if (!this.#multi && this.#t.tree >= 0) this.#open();
    if (line !== undefined) {
      if (this.#multi) this.#multi.log(_plain(line) + "\n");
      else this.#stream.write(_plain(line) + "\n");
    }
    this.#redraw();
    // Draws now: the logged line above, the bar below.
    this.#multi?.update();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#redraw();
    // stop() alone would drop lines logged since the last draw.
    this.#multi?.update();
    this.#multi?.stop();
  }

  #open(): void {
    this.#multi = new cliProgress.MultiBar({
      stream: this.#stream as NodeJS.WritableStream,
      format: "{bar} {percentage}% | {status}",
      barCompleteChar: "\u2588",
      barIncompleteChar: "\u2591",
      barsize: 24,
      hideCursor: false,
      clearOnComplete: true,
      stopOnComplete: false,
      // close() restores the terminal; the manager handles the signals.
      gracefulExit: false,
      fps: 4,
    });
    this.#bar = this.#multi.create(1000, 0, { status: "" });
    const timer = setInterval(() => this.#redraw(), 500);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  #redraw(): void {
    if (!this.#bar) return;
    const at = this.#now();
    const t = this.#t;
    const parts = [`tree ${t.tree + 1}/${t.trees} ${t.name}`];
    if (t.stages > 0) parts.push(`stage ${t.stage}/${t.stages}`);
    if (t.job) {
      parts.push(`${t.job.what}, ${formatDuration(t.jobLeftMs(at))} left`);
    }
    const eta = t.etaMs(at);
    if (eta !== undefined) parts.push(`ETA ${formatDuration(eta)}`);
    const value = Math.round(1000 * t.fraction(at - this.#start, at));
    this.#bar.update(Math.min(1000, value), { status: parts.join(" | ") });
  }
}
