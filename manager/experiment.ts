/**
 * The manager's step queue (the seed's state machine): CONNECT, ROOT,
 * PARENT, REPORT and MCAST steps, popped one at a time. It never prints; it
 * reports progress through `onEvent` and keeps the results document
 * up to date (written after every stage and evaluation).
 *
 * This file is longer than most on purpose: the steps share one queue, one
 * set of live and lost workers and one results document, and read best
 * together. What stands alone lives beside it: the tree run model
 * (`treerun.ts`), evaluation flattening (`evaluation.ts`), selection
 * (`strategy.ts`) and time (`clock.ts`).
 *
 * @module
 */
import { Interrupted } from "../core/cli.ts";
import { type Clock, realClock } from "./clock.ts";
import { RemoteError } from "../core/node.ts";
import { TransportError } from "../core/transport.ts";
import { emptyCommand, type Job, nowUs } from "../proto/codec.ts";
import { evaluationFromReport } from "./evaluation.ts";
import type { ConnectResult } from "../model/results.ts";
import type { Manager } from "./manager.ts";
import { deriveSeed, Pool } from "./pool.ts";
import {
  type EvaluationResult,
  type LostWorker,
  newResults,
  type Results,
  type ResultsWriter,
  type StageResult,
  type TreeResult,
} from "./results.ts";
import type { Script } from "./script.ts";
import { select } from "./strategy.ts";
import { newTreeRun, type TreeRun } from "./treerun.ts";
import { nodeCount } from "./tree.ts";

/** What the workflow asks of the workers (implemented by {@link Manager}). */
export type Workers = Pick<Manager, "connect" | "command" | "report">;

/** Progress of an experiment, for the CLI to show. */
export type ExperimentEvent =
  | { kind: "connect"; results: ConnectResult[] }
  | { kind: "tree-start"; tree: TreeResult; index: number; total: number }
  | {
    kind: "stage-start";
    tree: TreeResult;
    depth: number;
    parents: string[];
    /** Each parent's candidates, in the order of `parents`. */
    sets: string[][];
    candidates: number;
    expectedMs: number;
  }
  | { kind: "stage-done"; tree: TreeResult; stages: StageResult[] }
  | { kind: "eval-start"; tree: TreeResult; run: number; expectedMs: number }
  | { kind: "eval-done"; tree: TreeResult; evaluation: EvaluationResult }
  | { kind: "tree-done"; tree: TreeResult; index: number; total: number }
  | { kind: "lost"; lost: LostWorker }
  | { kind: "readmitted"; addr: string };

/** Options of {@link Experiment}. */
export interface ExperimentOptions {
  /** The workers' side: a {@link Manager}, or a fake in unit tests. */
  manager: Workers;
  writer?: ResultsWriter;
  signal?: AbortSignal;
  clock?: Clock;
  onEvent?: (e: ExperimentEvent) => void;
}

interface StageJob {
  parentIndex: number;
  parent: string;
  candidates: string[];
  jobId: string;
  startedUs: number;
  report?: Job;
  /** The parent was lost while its job ran. */
  lost?: boolean;
}

type Pending =
  | { kind: "stage"; jobs: StageJob[] }
  | {
    kind: "eval";
    run: number;
    jobId: string;
    startedUs: number;
    report?: Job;
    error?: string;
  };

/** A step of the queue. */
export type Step =
  | { action: "CONNECT" }
  | { action: "ROOT"; run?: TreeRun }
  | { action: "PARENT"; run: TreeRun }
  | {
    action: "REPORT";
    run: TreeRun;
    trigger: number;
    deadline: number;
    pending: Pending;
  }
  | { action: "MCAST"; run: TreeRun; evalRun: number };

/** How often an incomplete job is asked again, ms. */
const POLL_MS = 250;
/** Margin after a job's expected end before the first REPORT, ms. */
const REPORT_MARGIN_MS = 300;
/** Stage attempts a tree may lose to failed workers before it gives up. */
const MAX_STAGE_FAILURES = 10;

/** One experiment: a script's steps run against its workers. */
export class Experiment {
  /** The results so far (also written to the writer, when there is one). */
  readonly results: Results;
  #script: Script;
  #m: Workers;
  #writer: ResultsWriter | undefined;
  #signal: AbortSignal | undefined;
  #clock: Clock;
  #emit: (e: ExperimentEvent) => void;
  #queue: Step[] = [];
  #workers: ConnectResult[] | undefined;
  /** Admitted workers (answered CONNECT), less the lost ones. */
  #live = new Set<string>();
  #lost = new Map<string, LostWorker>();

  constructor(script: Script, opts: ExperimentOptions) {
    this.#script = script;
    this.#m = opts.manager;
    this.#writer = opts.writer;
    this.#signal = opts.signal;
    this.#clock = opts.clock ?? realClock;
    this.#emit = opts.onEvent ?? (() => {});
    this.results = newResults(script, nowUs());
  }

  /** Workers that answered CONNECT and have not been lost since. */
  get live(): string[] {
    return [...this.#live];
  }

  /**
   * Runs every step. Resolves to the results when all succeeded; on a
   * failure or an interruption, marks the results (still written) and throws.
   */
  async run(): Promise<Results> {
    this.#queue = this.#script.steps.map((s) =>
      s.action === "CONNECT" ? { action: "CONNECT" } : { action: "ROOT" }
    );
    try {
      for (let step = this.#queue.shift(); step; step = this.#queue.shift()) {
        if (this.#signal?.aborted) throw new Interrupted();
        await this.#do(step);
      }
      this.results.status = "complete";
      return this.results;
    } catch (e) {
      const stopped = e instanceof Interrupted || this.#signal?.aborted;
      this.results.status = stopped ? "interrupted" : "failed";
      this.results.error = stopped ? "Interrupted" : (e as Error).message;
      for (const t of this.results.trees) {
        if (t.status === "building" || t.status === "evaluating") {
          t.status = "failed";
          t.error = this.results.error;
        }
      }
      throw stopped && !(e instanceof Interrupted) ? new Interrupted() : e;
    } finally {
      this.results.finishedUs = nowUs();
      this.#save();
    }
  }

  #save(): void {
    this.#writer?.write(this.results);
  }

  #do(step: Step): Promise<void> {
    switch (step.action) {
      case "CONNECT":
        return this.#connect();
      case "ROOT":
        return step.run ? this.#root(step.run) : this.#expandRoots();
      case "PARENT":
        return this.#parent(step.run);
      case "REPORT":
        return this.#report(step);
      case "MCAST":
        return this.#mcast(step.run, step.evalRun);
    }
  }

  async #connect(): Promise<void> {
    const results = await this.#m.connect(this.#script.addrs, this.#signal);
    this.#workers = results;
    this.results.workers = results;
    this.#live = new Set(
      results.filter((r) => r.status === "ok").map((r) => r.addr),
    );
    this.#emit({ kind: "connect", results });
    this.#save();
  }

  /** Declares a worker lost: out of every pool from now on, recorded. */
  #markLost(
    addr: string,
    during: LostWorker["during"],
    detail: string,
    run?: TreeRun,
  ): void {
    if (!this.#live.has(addr)) return;
    this.#live.delete(addr);
    run?.pool.remove([addr]);
    const lost: LostWorker = {
      addr,
      atUs: nowUs(),
      during,
      ...(run ? { tree: run.spec.name } : {}),
      detail,
    };
    this.#lost.set(addr, lost);
    this.results.lost.push(lost);
    this.#emit({ kind: "lost", lost });
    this.#save();
  }

  /** CONNECT again to the lost workers; those that answer are admitted again. */
  async #readmit(): Promise<void> {
    if (this.#lost.size === 0) return;
    const back = await this.#m.connect([...this.#lost.keys()], this.#signal);
    for (const r of back.filter((r) => r.status === "ok")) {
      this.#lost.get(r.addr)!.readmittedUs = nowUs();
      this.#lost.delete(r.addr);
      this.#live.add(r.addr);
      this.#emit({ kind: "readmitted", addr: r.addr });
    }
  }

  /** The script's ROOT: choose the roots, queue one ROOT per (root, tree). */
  async #expandRoots(): Promise<void> {
    if (!this.#workers) await this.#connect();
    const s = this.#script;
    const admitted = this.live;
    const need = nodeCount(s.depth, s.fanout);
    if (admitted.length < need) {
      throw new Error(
        `Only ${admitted.length} of ${s.addrs.length} workers answered; a tree of depth ` +
          `${s.depth} and fanout ${s.fanout} needs ${need}`,
      );
    }
    let roots: string[];
    if (s.root !== undefined) {
      if (!admitted.includes(s.root)) {
        throw new Error(`The root "${s.root}" did not answer`);
      }
      roots = [s.root];
    } else {
      roots = new Pool(admitted, { seed: deriveSeed(s.seed, "roots") }).draw(
        Math.min(s.roots, admitted.length),
      );
    }
    const total = roots.length * s.trees.length;
    const steps: Step[] = [];
    roots.forEach((root, rootIndex) =>
      s.trees.forEach((spec) => {
        steps.push({
          action: "ROOT",
          run: newTreeRun(spec, {
            script: s,
            root,
            rootIndex,
            index: steps.length,
            total,
          }),
        });
      })
    );
    this.#queue.unshift(...steps);
  }

  /** ROOT for one tree: admit returning workers, place the root, start building. */
  async #root(run: TreeRun): Promise<void> {
    await this.#readmit();
    this.results.trees.push(run.result);
    run.t0 = this.#clock.now();
    this.#emit({
      kind: "tree-start",
      tree: run.result,
      index: run.index,
      total: run.total,
    });
    if (!this.#live.has(run.root)) {
      return this.#treeFailed(run, `The root "${run.root}" was lost`);
    }
    run.pool = new Pool(this.live.filter((a) => a !== run.root).sort(), {
      seed: run.seed,
    });
    run.tree.setRoot(run.root);
    this.#sync(run);
    if (run.spec.type === "RANDOM") {
      // RANDOM draws every node's children without probing.
      for (
        let i = run.tree.nextInternal();
        i !== undefined;
        i = run.tree.nextInternal()
      ) {
        const kept = run.pool.draw(this.#enough(run, run.tree.fanout));
        run.tree.addChildren(i, kept);
        run.pool.remove(kept);
      }
      return this.#built(run);
    }
    this.#queue.unshift({ action: "PARENT", run });
  }

  /** Throws a clear error when the pool cannot supply `k` workers. */
  #enough(run: TreeRun, k: number): number {
    if (run.pool.size < k) {
      throw new Error(
        `${run.spec.name}: the pool has ${run.pool.size} live workers left, too few to ` +
          `finish the tree (lost: ${
            [...this.#lost.keys()].map((a) => `"${a}"`).join(", ") || "none"
          })`,
      );
    }
    return k;
  }

  /** PARENT: start the next stage(s): parents probing their candidates. */
  async #parent(run: TreeRun): Promise<void> {
    const s = this.#script;
    const F = s.fanout;
    let pending = s.parallel
      ? run.tree.pendingAtDepth()
      : [run.tree.nextInternal()!];
    let k = this.#enough(
      run,
      Math.max(F, run.pool.candidatesFor(s.hyperparameter, F)),
    );
    // Parents of one depth probe at once, each with its own K candidates, as
    // many as the pool holds; the rest follow in the next batch.
    pending = pending.slice(0, Math.max(1, Math.floor(run.pool.size / k)));
    if (pending.length === 1) k = Math.min(k, run.pool.size);
    const sets = run.pool.drawDisjoint(pending.length, k);
    const cmd = emptyCommand({
      flag: "PARENT",
      layer: 1,
      select: F,
      rate: s.rate,
      dur: Math.round(s.duration * 1000),
      warmup: Math.round(s.warmup * 1000),
      timeout: Math.round((s.warmup + s.duration + s.timeouts.jobGrace) * 1000),
    });
    const expectedMs = cmd.warmup + cmd.dur;
    const parents = pending.map((i) => run.tree.nodes[i]!);
    this.#emit({
      kind: "stage-start",
      tree: run.result,
      depth: run.tree.depthOf(pending[0]!),
      parents,
      sets,
      candidates: k,
      expectedMs,
    });
    const started = await Promise.all(
      pending.map(async (i, n): Promise<StageJob | undefined> => {
        const parent = parents[n]!;
        const candidates = sets[n]!;
        try {
          const job = await this.#m.command(parent, {
            ...cmd,
            instr: `${run.spec.name} stage: parent ${parent}`,
            addrs: candidates,
          }, this.#signal);
          return {
            parentIndex: i,
            parent,
            candidates,
            jobId: job.id,
            startedUs: nowUs(),
          };
        } catch (e) {
          this.#stageFailed(run, i, e);
          return undefined;
        }
      }),
    );
    const jobs = started.filter((j): j is StageJob => j !== undefined);
    if (jobs.length === 0) {
      this.#queue.unshift({ action: "PARENT", run });
      return;
    }
    this.#awaitReport(run, expectedMs, { kind: "stage", jobs });
  }

  /**
   * A stage of parent node `i` failed. A lost parent is replaced in the
   * tree, a lost candidate dropped from the pool; the stage runs again.
   * Anything but a lost worker is a failure of the run.
   */
  #stageFailed(run: TreeRun, i: number, e: unknown): void {
    if (this.#signal?.aborted) throw new Interrupted();
    const parent = run.tree.nodes[i]!;
    if (e instanceof TransportError) {
      this.#markLost(parent, "stage", e.message, run);
      this.#replace(run, i);
    } else if (e instanceof RemoteError && e.about) {
      this.#markLost(e.about, "stage", e.desc, run);
    } else {
      throw e;
    }
    if (++run.failures > MAX_STAGE_FAILURES) {
      throw new Error(
        `${run.spec.name}: ${run.failures} stage attempts failed; last: ${
          (e as Error).message
        }`,
      );
    }
  }

  /** Replaces the lost (childless) node `i` with a live worker from the pool. */
  #replace(run: TreeRun, i: number): void {
    if (i === 0) throw new Error(`The root "${run.tree.nodes[0]}" was lost`);
    const parent = run.tree.nodes[run.tree.parentIndex(i)!]!;
    // The next best candidate of the stage that placed the lost node, if it
    // is still free; otherwise a random one.
    const stage = [...run.result.stages].reverse().find((st) =>
      st.parent === parent
    );
    const ranked = (stage?.candidates ?? [])
      .filter((c) => !c.kept && c.score !== undefined && run.pool.has(c.addr))
      .sort((a, b) =>
        run.spec.type === "WORST" ? b.score! - a.score! : a.score! - b.score!
      );
    const addr = ranked[0]?.addr ?? run.pool.draw(this.#enough(run, 1))[0]!;
    run.tree.replace(i, addr);
    run.pool.remove([addr]);
    this.#sync(run);
  }

  /** Queues the REPORT for jobs expected to end in `expectedMs`. */
  #awaitReport(run: TreeRun, expectedMs: number, pending: Pending): void {
    const trigger = this.#clock.now() + expectedMs + REPORT_MARGIN_MS;
    this.#queue.unshift({
      action: "REPORT",
      run,
      trigger,
      deadline: trigger + this.#script.timeouts.jobGrace * 1000,
      pending,
    });
  }

  /** REPORT: wait for the trigger, ask, and either finish or ask again later. */
  async #report(step: Extract<Step, { action: "REPORT" }>): Promise<void> {
    await this.#clock.sleep(step.trigger - this.#clock.now(), this.#signal);
    const p = step.pending;
    if (p.kind === "stage") {
      await Promise.all(
        p.jobs.filter((j) => !j.report && !j.lost).map(async (j) => {
          try {
            const r = await this.#m.report(j.parent, j.jobId, {
              layers: 1,
              signal: this.#signal,
            });
            if (r.complete) j.report = r.job;
          } catch (e) {
            this.#stageFailed(step.run, j.parentIndex, e);
            j.lost = true;
          }
        }),
      );
    } else if (!p.report && !p.error) {
      try {
        const r = await this.#m.report(step.run.root, p.jobId, {
          layers: this.#script.depth,
          signal: this.#signal,
        });
        if (r.complete) p.report = r.job;
      } catch (e) {
        if (this.#signal?.aborted) throw new Interrupted();
        if (!(e instanceof TransportError)) throw e;
        this.#markLost(step.run.root, "evaluation", e.message, step.run);
        p.error = `The root "${step.run.root}" was lost: ${e.message}`;
      }
    }
    const done = p.kind === "stage"
      ? p.jobs.every((j) => j.report || j.lost)
      : p.report !== undefined || p.error !== undefined;
    if (!done) {
      if (this.#clock.now() > step.deadline) {
        throw new Error(
          `${step.run.spec.name}: ${
            p.kind === "stage" ? "a PARENT stage" : "the MCAST evaluation"
          }` +
            ` did not complete within its timeout`,
        );
      }
      this.#queue.unshift({ ...step, trigger: this.#clock.now() + POLL_MS });
      return;
    }
    if (p.kind === "stage") {
      return this.#stageDone(
        step.run,
        p.jobs.filter((j) => j.report),
      );
    }
    return this.#evalDone(step.run, p);
  }

  /** Scores a finished stage's candidates, keeps F per parent, frees the rest. */
  #stageDone(run: TreeRun, jobs: StageJob[]): void {
    const stages: StageResult[] = [];
    run.batch++;
    for (const j of jobs) {
      const byAddr = new Map(j.report!.deps.map((d) => [d.owner, d]));
      for (const d of j.report!.deps) {
        if (d.error.startsWith("Lost:")) {
          this.#markLost(d.owner, "stage", d.error, run);
        }
      }
      const cands = j.candidates.map((addr) => ({
        addr,
        ...(byAddr.get(addr)?.stats ? { stats: byAddr.get(addr)!.stats! } : {}),
      }));
      let kept: string[] = [];
      let scores: Record<string, number> = {};
      let error: string | undefined;
      try {
        const sel = select(cands.filter((c) => this.#live.has(c.addr)), {
          keep: this.#script.fanout,
          type: run.spec.type,
          ...(run.spec.strategy ? { strategy: run.spec.strategy } : {}),
          rng: run.rng,
        });
        kept = sel.kept;
        scores = sel.scores;
        run.tree.addChildren(j.parentIndex, kept);
        run.pool.remove(kept);
      } catch (e) {
        // Too few usable candidates: the node stays pending; the stage runs again.
        error = (e as Error).message;
        if (++run.failures > MAX_STAGE_FAILURES) throw e;
      }
      const stage: StageResult = {
        depth: run.tree.depthOf(j.parentIndex),
        parent: j.parent,
        batch: run.batch,
        candidates: cands.map((c) => {
          const dep = byAddr.get(c.addr);
          const score = scores[c.addr];
          return {
            ...c,
            ...(score !== undefined && Number.isFinite(score) ? { score } : {}),
            kept: kept.includes(c.addr),
            ...(dep?.error ? { error: dep.error } : {}),
          };
        }),
        ...(j.report!.sender ? { sender: j.report!.sender } : {}),
        // The probes' own times (the workers' clocks), when they reported them.
        startedUs: j.report!.started || j.startedUs,
        finishedUs: Math.max(
          j.report!.ended,
          ...j.report!.deps.map((d) => d.ended),
        ) ||
          nowUs(),
        ...(error ? { error } : {}),
      };
      stages.push(stage);
      run.result.stages.push(stage);
    }
    this.#sync(run);
    this.#save();
    this.#emit({ kind: "stage-done", tree: run.result, stages });
    if (!run.tree.complete) {
      this.#queue.unshift({ action: "PARENT", run });
      return;
    }
    this.#built(run);
  }

  #built(run: TreeRun): void {
    run.result.buildMs = this.#clock.now() - run.t0;
    run.result.status = "evaluating";
    this.#sync(run);
    this.#save();
    this.#queue.unshift({ action: "MCAST", run, evalRun: 1 });
  }

  #treeFailed(run: TreeRun, error: string): void {
    run.result.status = "failed";
    run.result.error = error;
    this.#save();
    this.#emit({
      kind: "tree-done",
      tree: run.result,
      index: run.index,
      total: run.total,
    });
  }

  /** MCAST: trickle the evaluation down the tree from its root. */
  async #mcast(run: TreeRun, evalRun: number): Promise<void> {
    const s = this.#script;
    const e = s.evaluation;
    const sub = run.tree.subtree(0);
    const cmd = emptyCommand({
      flag: "MCAST",
      instr: `${run.spec.name} evaluation ${evalRun}`,
      layer: s.depth,
      select: s.fanout,
      rate: e.rate,
      dur: Math.round(e.duration * 1000),
      warmup: Math.round(e.warmup * 1000),
      timeout: Math.round((e.warmup + e.duration + s.timeouts.jobGrace) * 1000),
      record: true,
      addrs: sub.children.map((c) => c.addr),
      subtrees: sub.children,
    });
    const expectedMs = cmd.warmup + cmd.dur;
    this.#emit({
      kind: "eval-start",
      tree: run.result,
      run: evalRun,
      expectedMs,
    });
    const startedUs = nowUs();
    let job: Job;
    try {
      job = await this.#m.command(run.root, cmd, this.#signal);
    } catch (err) {
      if (this.#signal?.aborted) throw new Interrupted();
      if (err instanceof TransportError) {
        this.#markLost(run.root, "evaluation", err.message, run);
      } else if (!(err instanceof RemoteError)) throw err;
      return this.#evalDone(run, {
        kind: "eval",
        run: evalRun,
        jobId: "",
        startedUs,
        error: `The evaluation could not start: ${(err as Error).message}`,
      });
    }
    this.#awaitReport(run, expectedMs, {
      kind: "eval",
      run: evalRun,
      jobId: job.id,
      startedUs,
    });
  }

  #evalDone(run: TreeRun, p: Extract<Pending, { kind: "eval" }>): void {
    const evaluation: EvaluationResult = {
      ...evaluationFromReport(p.report, {
        run: p.run,
        root: run.root,
        treeNodes: run.tree.nodes.filter((n): n is string => n !== undefined),
        startedUs: p.startedUs,
        finishedUs: nowUs(),
      }),
      ...(p.error ? { error: p.error } : {}),
    };
    for (const n of evaluation.nodes) {
      if (n.error?.startsWith("Lost:")) {
        this.#markLost(n.addr, "evaluation", n.error, run);
      }
    }
    run.result.evaluations.push(evaluation);
    run.result.evaluationMs += (evaluation.finishedUs - p.startedUs) / 1000;
    this.#emit({ kind: "eval-done", tree: run.result, evaluation });
    if (p.error) return this.#treeFailed(run, p.error);
    if (p.run < this.#script.evaluation.runs) {
      this.#queue.unshift({ action: "MCAST", run, evalRun: p.run + 1 });
    } else {
      run.result.status = "complete";
      this.#emit({
        kind: "tree-done",
        tree: run.result,
        index: run.index,
        total: run.total,
      });
    }
    this.#save();
  }

  /** Copies the tree's shape into its result. */
  #sync(run: TreeRun): void {
    run.result.nodes = run.tree.nodes.map((n) => n ?? null);
    run.result.edges = run.tree.edges();
    const emulating = new Set(
      (this.#workers ?? []).filter((w) => w.hello?.emulate).map((w) => w.addr),
    );
    run.result.stragglers = run.tree.nodes.filter((n): n is string =>
      n !== undefined && emulating.has(n)
    );
  }
}
