/**
 * The manager's step queue (the seed's state machine): CONNECT, ROOT,
 * PARENT, REPORT, MCAST, ALLTOALL and REBUILD steps, popped one at a time.
 * It never prints; it reports progress through `onEvent` and keeps the
 * results document up to date (written after every stage and evaluation).
 *
 * This module holds the queue and what every step shares (the live and
 * lost workers, the results document, the REPORT step's polling); each kind
 * of step has its own module behind it: choosing roots (`roots.ts`),
 * building a tree by stages (`build.ts`), the LEMON all-to-all phase
 * (`alltoall.ts`), evaluation (`mcast.ts`) and rebuild (`rebuild.ts`), all
 * probing through `probing.ts`. The step type and the context they run
 * against are in `step.ts`.
 *
 * @module
 */
import { applyClockPolicy } from "./clock_checks.ts";
import { Interrupted } from "../core/cli.ts";
import { type Clock, realClock } from "./time_source.ts";
import { nowUs } from "../proto/codec.ts";
import { allToAllStep } from "./alltoall.ts";
import { parentStep, startTree } from "./build.ts";
import { mcastStep } from "./mcast.ts";
import type {
  ConnectResult,
  LostReason,
  LostWorker,
  Mismatch,
  TestbedInfo,
} from "../core/results.ts";
import { summarize } from "../core/summary.ts";
import {
  markEnded,
  newResults,
  type Results,
  type ResultsWriter,
} from "./results.ts";
import { rebuildStep } from "./rebuild.ts";
import { expandRoots } from "./roots.ts";
import {
  chooseMode,
  describeMode,
  type IoMode,
  IoModeError,
  offers,
} from "./iomode.ts";
import type { Script } from "./script.ts";
import {
  type ExperimentEvent,
  type ReportStep,
  type Step,
  type StepContext,
  treeFailed,
  TreeFailure,
  type Workers,
} from "./step.ts";
import type { TreeRun } from "./treerun.ts";

export type { ExperimentEvent, Step, Workers } from "./step.ts";

/** Options of {@link Experiment}. */
export interface ExperimentOptions {
  /** The workers' side: a {@link Manager}, or a fake in unit tests. */
  manager: Workers;
  writer?: ResultsWriter;
  signal?: AbortSignal;
  clock?: Clock;
  onEvent?: (e: ExperimentEvent) => void;
  /** The testbed the workers run on: its stragglers count as such in every tree. */
  testbed?: TestbedInfo;
}

/**
 * How often an incomplete job is asked again, ms (every ms past a job's end
 * is paid once per layer of a parallel build).
 */
const POLL_MS = 50;
/**
 * Margin after a job's expected end before the first REPORT, ms: the
 * probes end at the stream's END, so a stage is usually complete by then
 * (every ms here is paid once per layer of a parallel build).
 */
const REPORT_MARGIN_MS = 50;

/** One experiment: a script's steps run against its workers. */
export class Experiment implements StepContext {
  /** The results so far (also written to the writer, when there is one). */
  readonly results: Results;
  readonly script: Script;
  readonly m: Workers;
  readonly signal: AbortSignal | undefined;
  readonly clock: Clock;
  #writer: ResultsWriter | undefined;
  #emit: (e: ExperimentEvent) => void;
  #queue: Step[] = [];
  #workers: ConnectResult[] | undefined;
  /** Admitted workers (answered CONNECT), less the lost ones. */
  readonly alive = new Set<string>();
  #lost = new Map<string, LostWorker>();
  /** Jobs started and not yet collected or given up on, by id. */
  readonly running = new Map<string, { addr: string; id: string }>();
  /** The probes' I/O mode, chosen at CONNECT (an error when none is shared). */
  #mode: IoMode | IoModeError | undefined;

  constructor(script: Script, opts: ExperimentOptions) {
    this.script = script;
    this.m = opts.manager;
    this.#writer = opts.writer;
    this.signal = opts.signal;
    this.clock = opts.clock ?? realClock;
    this.#emit = opts.onEvent ?? (() => {});
    this.results = newResults(script, nowUs());
    if (opts.testbed) this.results.testbed = opts.testbed;
  }

  /**
   * Runs every step. Resolves to the results when all succeeded; on a
   * failure or an interruption, marks the results (still written), stops
   * the jobs it started that are still running, and throws.
   */
  async run(): Promise<Results> {
    this.#queue = this.script.steps.map((s) =>
      s.action === "CONNECT" ? { action: "CONNECT" } : { action: "ROOT" }
    );
    try {
      for (let step = this.#queue.shift(); step; step = this.#queue.shift()) {
        this.checkAborted();
        await this.#do(step);
      }
      this.results.status = "complete";
      return this.results;
    } catch (e) {
      const stopped = e instanceof Interrupted || this.signal?.aborted;
      markEnded(
        this.results,
        stopped ? "interrupted" : "failed",
        stopped ? "Interrupted" : (e as Error).message,
      );
      throw stopped && !(e instanceof Interrupted) ? new Interrupted() : e;
    } finally {
      this.results.finishedUs = nowUs();
      this.save();
      await this.#stopRunning();
    }
  }

  /** STOP to every job started and not accounted for (none after a complete run). */
  async #stopRunning(): Promise<void> {
    const jobs = [...this.running.values()];
    this.running.clear();
    if (jobs.length > 0) await this.m.stopJobs(jobs);
  }

  /** Runs one step; a tree that cannot be finished fails, the run goes on. */
  async #do(step: Step): Promise<void> {
    try {
      await this.#dispatch(step);
    } catch (e) {
      if (!(e instanceof TreeFailure)) throw e;
      this.checkAborted();
      treeFailed(this, e.run, e.message);
    }
  }

  async #dispatch(step: Step): Promise<void> {
    switch (step.action) {
      case "CONNECT":
        return this.#connect();
      case "ROOT":
        if (!step.run) {
          if (!this.#workers) await this.#connect();
          this.ioMode(); // no tree when the workers share no mode
          return expandRoots(this);
        }
        await this.#readmit();
        return startTree(this, step.run);
      case "PARENT":
        return parentStep(this, step.run);
      case "REPORT":
        return this.#report(step);
      case "MCAST":
        return mcastStep(this, step.run, step.evalRun);
      case "ALLTOALL":
        await this.#readmit();
        return allToAllStep(this, step.runs, step.state);
      case "REBUILD":
        return rebuildStep(this, step.run);
    }
  }

  /** Workers that answered CONNECT and have not been lost since. */
  get live(): string[] {
    return [...this.alive];
  }

  // ------------------------------------------------------- StepContext

  save(): void {
    this.results.summary = summarize(this.results);
    this.#writer?.write(this.results);
  }

  emit(e: ExperimentEvent): void {
    this.#emit(e);
  }

  next(...steps: Step[]): void {
    this.#queue.unshift(...steps);
  }

  lostAddrs(): string[] {
    return [...this.#lost.keys()];
  }

  checkAborted(): void {
    if (this.signal?.aborted) throw new Interrupted();
  }

  ioMode(): IoMode {
    if (this.#mode instanceof IoModeError) throw this.#mode;
    if (!this.#mode) throw new Error("No probe I/O mode before CONNECT");
    return this.#mode;
  }

  recordMismatches(
    found: readonly { addr: string; detail: string }[],
    tree: string,
    during: Mismatch["during"],
  ): void {
    (this.results.mismatches ??= []).push(
      ...found.map(({ addr, detail }) => ({ addr, tree, during, detail })),
    );
  }

  awaitReport(
    label: string,
    what: string,
    expectedMs: number,
    handlers: Pick<ReportStep, "poll" | "expire" | "finish">,
  ): void {
    const trigger = this.clock.now() + expectedMs + REPORT_MARGIN_MS;
    this.next({
      action: "REPORT",
      label,
      what,
      trigger,
      deadline: trigger + this.script.timeouts.jobGrace * 1000,
      ...handlers,
    });
  }

  /**
   * REPORT: wait for the trigger, ask, and either finish or ask again later;
   * past the deadline, what has not reported is late: given up on, and the
   * step finishes with what did.
   */
  async #report(step: ReportStep): Promise<void> {
    await this.clock.sleep(step.trigger - this.clock.now(), this.signal);
    // A poll may itself take a relayed deadline (a dead worker below is named
    // only then): the answer of a poll asked before the deadline gets one more
    // round, so a loss it revealed is handled rather than taken for lateness.
    const asked = this.clock.now();
    const done = await step.poll();
    if (done === true) return step.finish();
    if (asked > step.deadline) {
      await step.expire();
      return step.finish();
    }
    this.next({ ...step, trigger: this.clock.now() + POLL_MS });
  }

  async #connect(): Promise<void> {
    const results = applyClockPolicy(
      await this.m.connect(this.script.addrs, this.signal),
      this.script.clocks,
    );
    this.#workers = results;
    this.results.workers = results;
    this.alive.clear();
    for (const r of results) if (r.status === "ok") this.alive.add(r.addr);
    try {
      this.#mode = chooseMode(results);
      this.results.io = this.#mode.io;
      this.results.timestamps = this.#mode.timestamps;
    } catch (e) {
      if (!(e instanceof IoModeError)) throw e;
      this.#mode = e;
    }
    this.emit({
      kind: "connect",
      results,
      ...(this.#mode instanceof IoModeError
        ? { modeError: this.#mode.message }
        : { mode: this.#mode }),
    });
    this.save();
  }

  /**
   * Declares a worker lost (silent, paused, late or refusing): out of every
   * pool until it answers a later CONNECT, recorded with why.
   */
  markLost(
    addr: string,
    during: LostWorker["during"],
    detail: string,
    run?: TreeRun,
    reason: LostReason = "lost",
  ): void {
    if (!this.alive.has(addr)) return;
    this.alive.delete(addr);
    run?.pool.remove([addr]);
    const lost: LostWorker = {
      addr,
      atUs: nowUs(),
      during,
      ...(run ? { tree: run.spec.name } : {}),
      detail,
      reason,
    };
    this.#lost.set(addr, lost);
    this.results.lost.push(lost);
    this.emit({ kind: "lost", lost });
    this.save();
  }

  /** CONNECT again to the lost workers; those that answer are admitted again. */
  async #readmit(): Promise<void> {
    if (this.#lost.size === 0) return;
    const back = await this.m.connect([...this.#lost.keys()], this.signal);
    const mode = this.ioMode();
    for (const r of back.filter((r) => r.status === "ok")) {
      if (!offers(r.hello, mode)) {
        // Back, but it cannot run the experiment's mode: it stays out.
        this.#lost.get(r.addr)!.detail += `; answered CONNECT again without ${
          describeMode(mode)
        }: not admitted`;
        continue;
      }
      this.#lost.get(r.addr)!.readmittedUs = nowUs();
      this.#lost.delete(r.addr);
      this.alive.add(r.addr);
      this.emit({ kind: "readmitted", addr: r.addr });
    }
  }

  /** Copies the tree's shape into its result. */
  sync(run: TreeRun): void {
    run.result.nodes = run.tree.nodes.map((n) => n ?? null);
    run.result.edges = run.tree.edges();
    const hedges = run.tree.hedgeEdges();
    if (hedges.length > 0) run.result.hedges = hedges;
    const emulating = new Set([
      ...(this.#workers ?? []).filter((w) => slowedBy(w.hello?.emulate)).map((
        w,
      ) => w.addr),
      ...(this.results.testbed?.stragglers ?? []).map((s) => s.addr),
    ]);
    run.result.stragglers = run.tree.nodes.filter((n): n is string =>
      n !== undefined && emulating.has(n)
    );
  }
}

/**
 * Whether a worker's emulation (`--emulate`, as its hello says) slows what
 * it receives: anything but a faked clock offset (`offset=`), which skews
 * its clock and leaves its delays alone.
 */
export function slowedBy(emulate: string | undefined): boolean {
  return (emulate ?? "").split(",").some((item) => {
    const key = item.split("=")[0]!.trim();
    return key !== "" && key !== "offset";
  });
}
