/**
 * The MCAST step's per-message figures on the fake workers and clock: the
 * root answers part requests from its leaves' logs, or fails them.
 */
import assert from "node:assert/strict";
import { RemoteError } from "../core/node.ts";
import { WorkerUnreachable } from "../core/transport.ts";
import { leafPart, mergeParts, partToWire } from "../core/message_parts.ts";
import {
  type Command,
  emptyJob,
  type Job,
  type Report,
  type Subtree,
} from "../proto/codec.ts";
import { assertResultsSchema } from "../tests/helpers/schema.ts";
import { A, FakeClock, FakeWorkers } from "./_testing.ts";
import { Experiment } from "./experiment.ts";
import type { Workers } from "./step.ts";
import { parseScript } from "./script.ts";

type ReportOpts = Parameters<Workers["report"]>[2];

/** Fake workers whose evaluation roots answer part requests (or fail them). */
class PartWorkers extends FakeWorkers {
  /** The leaves below each MCAST job. */
  #leaves = new Map<string, string[]>();
  /** Every part request: to whom, for which job, with what. */
  asked: { addr: string; id: string; opts: ReportOpts }[] = [];
  failParts = false;
  /** Parts from this index on: the root no longer answers. */
  goneFrom = Infinity;
  /** The leaves' logs end before this seq. */
  endSeq = 4000;
  /** The MCAST jobs started, in order. */
  mcastJobs: string[] = [];

  override async command(addr: string, cmd: Command): Promise<Job> {
    const job = await super.command(addr, cmd);
    if (cmd.flag === "MCAST") {
      const leaves = (t: Subtree): string[] =>
        t.children.length === 0 ? [t.addr] : t.children.flatMap(leaves);
      this.#leaves.set(job.id, cmd.subtrees.flatMap(leaves));
      this.mcastJobs.push(job.id);
    }
    return job;
  }

  override report(addr: string, id: string, opts?: ReportOpts) {
    const req = opts?.partRequest;
    if (!req) return super.report(addr, id);
    this.asked.push({ addr, id, opts });
    if (this.failParts) {
      return Promise.reject(new RemoteError(addr, "the disk went away"));
    }
    if (req.index >= this.goneFrom) {
      return Promise.reject(new WorkerUnreachable(addr, 2, 100));
    }
    // Each leaf logged seqs 1000..endSeq - 1 (1 s of warm-up at 1000/s,
    // then the stream): its delay, plus 0..900 ns by seq.
    const from = req.index * req.size, end = this.endSeq;
    const lo = Math.max(1000, from), hi = Math.min(end, from + req.size);
    const part = mergeParts(
      this.#leaves.get(id)!.map((leaf) => ({
        addr: leaf,
        part: leafPart(
          {
            firstSeq: lo,
            delaysNs: Int32Array.from(
              { length: Math.max(0, hi - lo) },
              (_, i) => this.delay[leaf]! * 1000 + ((lo + i) % 10) * 100,
            ),
          },
          req.window,
          req.percentile,
          { startSeq: 1000, endSeq: end },
        ),
      })),
      { correct: req.correct, window: req.window, firstSeq: from },
    );
    return Promise.resolve<Report>({
      job: emptyJob({ id, owner: addr }),
      complete: true,
      part: partToWire(part),
    });
  }
}

function run(extra = "", evaluation = "duration: 3s") {
  const clock = new FakeClock();
  const workers = new PartWorkers(clock);
  A.forEach((a, i) => (workers.delay[a] = 40 + i));
  const script = parseScript(
    `name: T\nseed: 1\naddrs: [${A.map((a) => `"${a}"`).join(", ")}]\n` +
      `depth: 2\nfanout: 2\nhyperparameter: 4\nrate: 1000\nduration: 2s\n` +
      `warmup: 1s\ntrees: [{ type: BEST, strategy: P90 }]\n` +
      `evaluation: { ${evaluation}, fairness: { window_ms: 20, ` +
      `percentile: 99, holds_us: [45, 60] } }\nroot: "${A[0]}"\n${extra}`,
    "t.yaml",
  );
  return { workers, exp: new Experiment(script, { manager: workers, clock }) };
}

Deno.test("MCAST: the evaluation carries the per-message figures the root's parts give, judged as the script says", async () => {
  const { workers, exp } = run();
  const r = await exp.run();
  assert.equal(r.status, "complete");
  assertResultsSchema(r);
  const tree = r.trees[0]!;
  const ev = tree.evaluations[0]!;
  const m = ev.messages!;
  // 3,000 messages (1000/s for 3 s) to the tree's 4 leaves, none lost.
  assert.equal(m.messages, 3000);
  assert.equal(m.receivers, 4);
  assert.equal(m.lost, 0);
  assert.deepEqual(m.failedParts, []);
  assert.equal(m.error, undefined);
  // The latency is the slowest leaf's delay; the best, the fastest's.
  const leaves = tree.nodes.slice(3).map((a) => workers.delay[a!]!);
  const near = (got: number | null, want: number) =>
    assert.ok(Math.abs(got! - want) <= want * 0.002, `${got} vs ${want}`);
  near(m.latency.maxUs, Math.max(...leaves) + 0.9);
  near(m.best.p50Us, Math.min(...leaves) + 0.4);
  assert.equal(m.fairness.hold99Us, m.latency.p99Us);
  assert.deepEqual(m.fairness.holds.map((h) => h.holdUs), [45, 60]);
  assert.equal(m.fairness.holds[1]!.fairShare, 1, "every leaf under 60 us");
  assert.equal(m.fairness.adaptive.percentile, 99);
  assert.equal(m.fairness.adaptive.windowMessages, 20);
  // One part asked of the root's job, with the relayed deadline's layers.
  assert.equal(workers.asked.length, 1);
  const [ask] = workers.asked;
  assert.deepEqual([ask!.addr, ask!.id], [A[0], workers.mcastJobs[0]]);
  assert.equal(ask!.opts!.layers, 2);
  assert.deepEqual(ask!.opts!.partRequest, {
    index: 0,
    size: 32_760,
    correct: false,
    window: 20,
    percentile: 99,
  });
});

Deno.test("MCAST: a root that fails its part requests costs the figures, recorded on them, not the evaluation or the run", async () => {
  const { workers, exp } = run("rebuild: 1\n");
  workers.failParts = true;
  const r = await exp.run();
  assert.equal(r.status, "complete");
  assertResultsSchema(r);
  const tree = r.trees[0]!;
  assert.equal(tree.status, "complete");
  // The evaluation, and the rebuild it leads to, went on.
  assert.equal(tree.evaluations.length, 2);
  for (const ev of tree.evaluations) {
    assert.equal(ev.error, undefined);
    assert.ok(ev.worstLeaf);
    const m = ev.messages!;
    assert.equal(m.messages, 0);
    assert.deepEqual(m.failedParts, [0]);
    assert.match(m.error!, /^part 0: .*the disk went away/);
    assert.equal(m.latency.p99Us, null);
  }
});

Deno.test("MCAST: a root lost after its first part fails the later parts at once, without asking it again", async () => {
  // 100 s at 1000/s: 100,000 messages, parts of 32,760.
  const { workers, exp } = run("", "duration: 100s");
  workers.endSeq = 101_000;
  workers.goneFrom = 1;
  const r = await exp.run();
  assert.equal(r.trees[0]!.status, "complete");
  const m = r.trees[0]!.evaluations[0]!.messages!;
  assert.deepEqual(workers.asked.map((a) => a.opts!.partRequest!.index), [
    0,
    1,
  ]);
  assert.deepEqual(m.failedParts, [1, 2, 3]);
  assert.equal(m.messages, 32_760 - 1000, "part 0's, from the first seq");
  assert.match(m.error!, /^part 1: /);
});
