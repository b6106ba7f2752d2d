/**
 * The manager's step queue (the seed's state machine): CONNECT, ROOT,
 * PARENT, REPORT and MCAST steps, popped one at a time. It never prints; it
 * reports progress through `onEvent` and keeps the results document
 * up to date (written after every stage and evaluation).
 *
 * @module
 */
import { Interrupted } from "../core/cli.ts";
import { emptyCommand, type Job, nowUs } from "../proto/codec.ts";
import type { ConnectResult, Manager } from "./manager.ts";
import { deriveSeed, Pool, Rng } from "./pool.ts";
import {
  type EvalNode,
  type EvaluationResult,
  newResults,
  type Results,
  type ResultsWriter,
  type StageResult,
  type TreeResult,
} from "./results.ts";
import type { Script, TreeSpec } from "./script.ts";
import { select } from "./strategy.ts";
import { nodeCount, Tree } from "./tree.ts";

/** Time as the workflow sees it; tests inject their own. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Sleeps `ms`; rejects with {@link Interrupted} when the signal aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock. */
export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new Interrupted());
      const t = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, Math.max(0, ms));
      const onAbort = () => {
        clearTimeout(t);
        reject(new Interrupted());
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    }),
};

/** Progress of an experiment, for the CLI to show. */
export type ExperimentEvent =
  | { kind: "connect"; results: ConnectResult[] }
  | { kind: "tree-start"; tree: TreeResult; index: number; total: number }
  | {
    kind: "stage-start";
    tree: TreeResult;
    depth: number;
    parents: string[];
    candidates: number;
    expectedMs: number;
  }
  | { kind: "stage-done"; tree: TreeResult; stages: StageResult[] }
  | { kind: "eval-start"; tree: TreeResult; run: number; expectedMs: number }
  | { kind: "eval-done"; tree: TreeResult; evaluation: EvaluationResult }
  | { kind: "tree-done"; tree: TreeResult; index: number; total: number };

/** Options of {@link Experiment}. */
export interface ExperimentOptions {
  manager: Manager;
  writer?: ResultsWriter;
  signal?: AbortSignal;
  clock?: Clock;
  onEvent?: (e: ExperimentEvent) => void;
}

/** A tree being built and evaluated: one (root, tree spec) pair. */
interface TreeRun {
  spec: TreeSpec;
  root: string;
  tree: Tree;
  pool: Pool;
  rng: Rng;
  result: TreeResult;
  index: number;
  total: number;
  t0: number;
  batch: number;
}

interface StageJob {
  parentIndex: number;
  parent: string;
  candidates: string[];
  jobId: string;
  startedUs: number;
  report?: Job;
}

type Pending =
  | { kind: "stage"; jobs: StageJob[] }
  | {
    kind: "eval";
    run: number;
    jobId: string;
    startedUs: number;
    report?: Job;
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

/** One experiment: a script's steps run against its workers. */
export class Experiment {
  /** The results so far (also written to the writer, when there is one). */
  readonly results: Results;
  #script: Script;
  #m: Manager;
  #writer: ResultsWriter | undefined;
  #signal: AbortSignal | undefined;
  #clock: Clock;
  #emit: (e: ExperimentEvent) => void;
  #queue: Step[] = [];
  #workers: ConnectResult[] | undefined;

  constructor(script: Script, opts: ExperimentOptions) {
    this.#script = script;
    this.#m = opts.manager;
    this.#writer = opts.writer;
    this.#signal = opts.signal;
    this.#clock = opts.clock ?? realClock;
    this.#emit = opts.onEvent ?? (() => {});
    this.results = newResults(script, nowUs());
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
      this.results.status = e instanceof Interrupted ? "interrupted" : "failed";
      this.results.error = (e as Error).message;
      for (const t of this.results.trees) {
        if (t.status === "building" || t.status === "evaluating") {
          t.status = "failed";
          t.error = this.results.error;
        }
      }
      throw e;
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
    this.#emit({ kind: "connect", results });
    this.#save();
  }

  /** The script's ROOT: choose the roots, queue one ROOT per (root, tree). */
  async #expandRoots(): Promise<void> {
    if (!this.#workers) await this.#connect();
    const admitted = this.#workers!.filter((w) => w.status === "ok").map((w) =>
      w.addr
    );
    const s = this.#script;
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
        const seed = deriveSeed(s.seed, rootIndex, spec.name);
        const tree = new Tree({ depth: s.depth, fanout: s.fanout });
        const result: TreeResult = {
          name: spec.name,
          type: spec.type,
          ...(spec.strategy
            ? {
              strategy: {
                name: spec.strategy.name,
                weights: { ...spec.strategy.weights },
              },
            }
            : {}),
          root,
          rootIndex,
          parallel: s.parallel,
          depth: s.depth,
          fanout: s.fanout,
          nodes: [],
          edges: [],
          stages: [],
          evaluations: [],
          stragglers: [],
          buildMs: 0,
          evaluationMs: 0,
          status: "building",
        };
        steps.push({
          action: "ROOT",
          run: {
            spec,
            root,
            tree,
            pool: new Pool(admitted.filter((a) => a !== root), { seed }),
            rng: new Rng(deriveSeed(seed, "select")),
            result,
            index: steps.length,
            total,
            t0: 0,
            batch: 0,
          },
        });
      })
    );
    this.#queue.unshift(...steps);
  }

  /** ROOT for one tree: place the root and start building. */
  #root(run: TreeRun): Promise<void> {
    run.tree.setRoot(run.root);
    run.t0 = this.#clock.now();
    this.results.trees.push(run.result);
    this.#sync(run);
    this.#emit({
      kind: "tree-start",
      tree: run.result,
      index: run.index,
      total: run.total,
    });
    if (run.spec.type === "RANDOM") {
      // RANDOM draws every node's children without probing.
      for (
        let i = run.tree.nextInternal();
        i !== undefined;
        i = run.tree.nextInternal()
      ) {
        const kept = run.pool.draw(run.tree.fanout);
        run.tree.addChildren(i, kept);
        run.pool.remove(kept);
      }
      return this.#built(run);
    }
    this.#queue.unshift({ action: "PARENT", run });
    return Promise.resolve();
  }

  /** PARENT: start the next stage(s): parents probing their candidates. */
  async #parent(run: TreeRun): Promise<void> {
    const s = this.#script;
    const F = s.fanout;
    let pending = s.parallel
      ? run.tree.pendingAtDepth()
      : [run.tree.nextInternal()!];
    let k = run.pool.candidatesFor(s.hyperparameter, F);
    if (k < F) {
      throw new Error(
        `The pool has ${run.pool.size} workers left: too few for a parent to keep ${F}`,
      );
    }
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
    this.#emit({
      kind: "stage-start",
      tree: run.result,
      depth: run.tree.depthOf(pending[0]!),
      parents: pending.map((i) => run.tree.nodes[i]!),
      candidates: k,
      expectedMs,
    });
    const jobs = await Promise.all(pending.map(async (i, n) => {
      const parent = run.tree.nodes[i]!;
      const candidates = sets[n]!;
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
    }));
    const trigger = this.#clock.now() + expectedMs + REPORT_MARGIN_MS;
    this.#queue.unshift({
      action: "REPORT",
      run,
      trigger,
      deadline: trigger + s.timeouts.jobGrace * 1000,
      pending: { kind: "stage", jobs },
    });
  }

  /** REPORT: wait for the trigger, ask, and either finish or ask again later. */
  async #report(step: Extract<Step, { action: "REPORT" }>): Promise<void> {
    await this.#clock.sleep(step.trigger - this.#clock.now(), this.#signal);
    const p = step.pending;
    const asks = p.kind === "stage"
      ? p.jobs.filter((j) => !j.report).map((j) => ({
        owner: j.parent,
        job: j,
      }))
      : (p.report ? [] : [{ owner: step.run.root, job: p }]);
    const layers = p.kind === "stage" ? 1 : this.#script.depth;
    await Promise.all(asks.map(async ({ owner, job }) => {
      const r = await this.#m.report(owner, job.jobId, {
        layers,
        signal: this.#signal,
      });
      if (r.complete) job.report = r.job;
    }));
    const done = p.kind === "stage"
      ? p.jobs.every((j) => j.report)
      : p.report !== undefined;
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
    if (p.kind === "stage") return this.#stageDone(step.run, p.jobs);
    return this.#evalDone(step.run, p.run, p.startedUs, p.report!);
  }

  /** Scores a finished stage's candidates, keeps F per parent, frees the rest. */
  #stageDone(run: TreeRun, jobs: StageJob[]): Promise<void> {
    const stages: StageResult[] = [];
    run.batch++;
    for (const j of jobs) {
      const byAddr = new Map(j.report!.deps.map((d) => [d.owner, d]));
      const cands = j.candidates.map((addr) => ({
        addr,
        ...(byAddr.get(addr)?.stats ? { stats: byAddr.get(addr)!.stats! } : {}),
      }));
      const sel = select(cands, {
        keep: this.#script.fanout,
        type: run.spec.type,
        ...(run.spec.strategy ? { strategy: run.spec.strategy } : {}),
        rng: run.rng,
      });
      run.tree.addChildren(j.parentIndex, sel.kept);
      run.pool.remove(sel.kept);
      const stage: StageResult = {
        depth: run.tree.depthOf(j.parentIndex),
        parent: j.parent,
        batch: run.batch,
        candidates: cands.map((c) => {
          const dep = byAddr.get(c.addr);
          const score = sel.scores[c.addr];
          return {
            ...c,
            ...(score !== undefined && Number.isFinite(score) ? { score } : {}),
            kept: sel.kept.includes(c.addr),
            ...(dep?.error ? { error: dep.error } : {}),
          };
        }),
        ...(j.report!.sender ? { sender: j.report!.sender } : {}),
        startedUs: j.startedUs,
        finishedUs: nowUs(),
      };
      stages.push(stage);
      run.result.stages.push(stage);
    }
    this.#sync(run);
    this.#save();
    this.#emit({ kind: "stage-done", tree: run.result, stages });
    if (!run.tree.complete) {
      this.#queue.unshift({ action: "PARENT", run });
      return Promise.resolve();
    }
    return this.#built(run);
  }

  #built(run: TreeRun): Promise<void> {
    run.result.buildMs = this.#clock.now() - run.t0;
    run.result.status = "evaluating";
    this.#sync(run);
    this.#save();
    this.#queue.unshift({ action: "MCAST", run, evalRun: 1 });
    return Promise.resolve();
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
    const job = await this.#m.command(run.root, cmd, this.#signal);
    const trigger = this.#clock.now() + expectedMs + REPORT_MARGIN_MS;
    this.#queue.unshift({
      action: "REPORT",
      run,
      trigger,
      deadline: trigger + s.timeouts.jobGrace * 1000,
      pending: { kind: "eval", run: evalRun, jobId: job.id, startedUs },
    });
  }

  #evalDone(
    run: TreeRun,
    evalRun: number,
    startedUs: number,
    root: Job,
  ): Promise<void> {
    const stragglers = new Set(run.result.stragglers);
    const nodes: EvalNode[] = [];
    const visit = (j: Job, depth: number, owner: string) => {
      const role = depth === 0 ? "root" : j.deps.length > 0 ? "proxy" : "leaf";
      nodes.push({
        addr: owner,
        role,
        depth,
        emulate: j.emulate,
        ...(j.stats ? { stats: j.stats } : {}),
        ...(j.forward ? { forward: j.forward } : {}),
        ...(j.sender ? { sender: j.sender } : {}),
        ...(j.error ? { error: j.error } : {}),
      });
      if (j.emulate) stragglers.add(owner);
      j.deps.forEach((d) => visit(d, depth + 1, d.owner));
    };
    visit(root, 0, run.root);
    const leaves = nodes.filter((n) => n.role === "leaf" && n.stats);
    const worst = leaves.reduce<EvalNode | undefined>(
      (w, n) => (!w || n.stats!.p90Us > w.stats!.p90Us ? n : w),
      undefined,
    );
    const evaluation: EvaluationResult = {
      run: evalRun,
      startedUs,
      finishedUs: nowUs(),
      nodes,
      ...(worst
        ? {
          worstLeaf: {
            addr: worst.addr,
            p90Us: worst.stats!.p90Us,
            p50Us: worst.stats!.p50Us,
            meanUs: worst.stats!.meanUs,
            stddevUs: worst.stats!.stddevUs,
          },
        }
        : {}),
    };
    run.result.evaluations.push(evaluation);
    run.result.stragglers = [...stragglers];
    run.result.evaluationMs += (evaluation.finishedUs - startedUs) / 1000;
    this.#emit({ kind: "eval-done", tree: run.result, evaluation });
    if (evalRun < this.#script.evaluation.runs) {
      this.#queue.unshift({ action: "MCAST", run, evalRun: evalRun + 1 });
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
    return Promise.resolve();
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
