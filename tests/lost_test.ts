/**
 * Lost workers over real processes, with short deadlines (no test waits
 * seconds for a worker to be declared lost): killed as a candidate, as a
 * parent, as a proxy during an evaluation, both leaves of a proxy, paused
 * (SIGSTOP), restarted, or leaving too few. The cases share one set of
 * workers (`SharedTestbed`): each takes them live and idle, a worker a case
 * killed or paused is replaced before the next.
 */
import assert from "node:assert/strict";
import { spawnReady } from "../demo/spawn.ts";
import { Experiment, type ExperimentEvent } from "../manager/experiment.ts";
import { Manager } from "../manager/manager.ts";
import type { Results } from "../manager/results.ts";
import type { Command, Job, Report } from "../proto/codec.ts";
import { parseScript } from "../manager/script.ts";
import { assertResultsSchema } from "./helpers/schema.ts";
import { SharedTestbed, type SharedWorkers } from "./helpers/shared_testbed.ts";
import { startTestbed } from "./helpers/testbed.ts";

const FAST = ["--relay-timeout", "1s"];

/** The workers of every case with the short relay deadline. */
const shared = new SharedTestbed(9, FAST);
Deno.test.afterAll(() => shared.stop());

/** A case on the shared workers (they outlive it: no resource sanitizer). */
function sharedTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, fn, sanitizeResources: false, sanitizeOps: false });
}

function script(addrs: string[], extra: string): string {
  return `name: LOST
seed: 1
addrs: [${addrs.map((a) => `"${a}"`).join(", ")}]
depth: 2
fanout: 2
hyperparameter: 2
rate: 1000
duration: 400ms
warmup: 100ms
evaluation: { rate: 1000, duration: 600ms, warmup: 100ms, runs: 1 }
root: "${addrs[0]}"
parallel: false
timeouts: { request: 0.5, retries: 1, job_grace: 5 }
${extra}`;
}

/** A kill switch: SIGKILL the worker at this address. */
type Kill = (addr: string) => void;

/**
 * A manager that tells `onStarted` of every job a COMMAND started, and
 * holds each REPORT until `beforeReport` resolves.
 */
class WatchedManager extends Manager {
  onStarted: (cmd: Command, addr: string) => void = () => {};
  beforeCommand: (cmd: Command) => Promise<void> = () => Promise.resolve();
  beforeReport: (addr: string) => Promise<void> = () => Promise.resolve();
  override async command(
    addr: string,
    cmd: Command,
    signal?: AbortSignal,
  ): Promise<Job> {
    await this.beforeCommand(cmd);
    const job = await super.command(addr, cmd, signal);
    this.onStarted(cmd, addr);
    return job;
  }
  override async report(
    addr: string,
    id: string,
    opts?: Parameters<Manager["report"]>[2],
  ): Promise<Report> {
    await this.beforeReport(addr);
    return super.report(addr, id, opts);
  }
}

/**
 * Runs the experiment; `hook` sees every event and may kill workers,
 * `started` (optional) every command the workers acknowledged.
 */
async function run(
  bed: Pick<SharedWorkers, "addrs" | "workers">,
  extra: string,
  hook: (e: ExperimentEvent, kill: Kill) => void,
  started?: (cmd: Command, kill: Kill, addr: string) => void,
  m = new WatchedManager({ timeoutMs: 1000, retries: 1 }),
): Promise<{ results: Results; error?: Error; lostAfterMs: number[] }> {
  const killedAt = new Map<string, number>();
  const lostAfterMs: number[] = [];
  const kill = (addr: string) => {
    const w = bed.workers[bed.addrs.indexOf(addr)]!;
    killedAt.set(addr, performance.now());
    void w.stop("SIGKILL");
  };
  if (started) m.onStarted = (cmd, addr) => started(cmd, kill, addr);
  const exp = new Experiment(
    parseScript(script(bed.addrs, extra), "lost.yaml"),
    {
      manager: m,
      onEvent: (e) => {
        if (e.kind === "lost" && killedAt.has(e.lost.addr)) {
          lostAfterMs.push(performance.now() - killedAt.get(e.lost.addr)!);
        }
        hook(e, kill);
      },
    },
  );
  try {
    await exp.run();
    return { results: exp.results, lostAfterMs };
  } catch (error) {
    return { results: exp.results, error: error as Error, lostAfterMs };
  } finally {
    m.close();
    assertResultsSchema(JSON.parse(JSON.stringify(exp.results)));
  }
}

sharedTest(
  "a candidate lost during a PARENT stage is dropped; the tree is completed",
  async () => {
    const bed = await shared.take(9);
    let victim = "";
    try {
      const { results, error, lostAfterMs } = await run(
        bed,
        "trees: [{ type: BEST, strategy: P90 }]",
        () => {},
        (cmd, kill) => {
          // Once the first stage runs: its candidates listen, the stream flows.
          if (cmd.flag === "PARENT" && !victim) {
            victim = cmd.addrs[0]!;
            kill(victim);
          }
        },
      );
      assert.equal(error, undefined, String(error?.message));
      const tree = results.trees[0]!;
      assert.equal(tree.status, "complete");
      assert.equal(tree.nodes.filter((n) => n).length, 7);
      assert.ok(!tree.nodes.includes(victim));
      assert.deepEqual(results.lost.map((l) => [l.addr, l.during]), [[
        victim,
        "stage",
      ]]);
      console.log(
        `candidate declared lost ${
          lostAfterMs[0]?.toFixed(0)
        } ms after the kill`,
      );
    } finally {
      await bed.release();
    }
  },
);

sharedTest(
  "a parent lost during its stage is replaced in the tree; the tree is completed",
  async () => {
    const bed = await shared.take(9);
    let victim = "";
    try {
      let killed = false;
      const { results, error } = await run(
        bed,
        "trees: [{ type: BEST, strategy: P90 }]",
        (e) => {
          if (e.kind === "stage-start" && e.depth === 1 && !victim) {
            victim = e.parents[0]!;
          }
        },
        (cmd, kill, addr) => {
          // Once its stage runs: its job started, its stream flows.
          if (cmd.flag === "PARENT" && addr === victim && !killed) {
            killed = true;
            kill(victim);
          }
        },
      );
      assert.equal(error, undefined, String(error?.message));
      const tree = results.trees[0]!;
      assert.equal(tree.status, "complete");
      assert.ok(
        !tree.nodes.includes(victim),
        "the lost parent is still in the tree",
      );
      assert.equal(tree.nodes.filter((n) => n).length, 7);
      assert.equal(results.lost[0]?.addr, victim);
    } finally {
      await bed.release();
    }
  },
);

sharedTest(
  "a proxy lost during MCAST: the leaves that reported are returned, the missing subtree marked",
  async () => {
    const bed = await shared.take(7);
    let victim = "";
    try {
      const { results, error } = await run(
        bed,
        "trees: [{ type: RANDOM }]",
        (e) => {
          if (e.kind === "eval-start") victim = e.tree.nodes[1]!;
        },
        (cmd, kill) => {
          if (cmd.flag === "MCAST") kill(victim); // once the stream is flowing
        },
      );
      assert.equal(error, undefined, String(error?.message));
      const tree = results.trees[0]!;
      const ev = tree.evaluations[0]!;
      const below = [tree.nodes[3]!, tree.nodes[4]!];
      assert.deepEqual(ev.missing.sort(), [victim, ...below].sort());
      const reported = ev.nodes.filter((n) =>
        n.role === "leaf" && n.stats && n.stats.received > 0
      );
      assert.deepEqual(
        reported.map((n) => n.addr).sort(),
        [tree.nodes[5]!, tree.nodes[6]!].sort(),
      );
      assert.ok(
        results.lost.some((l) =>
          l.addr === victim && l.during === "evaluation"
        ),
      );
    } finally {
      await bed.release();
    }
  },
);

sharedTest(
  "a leaf lost during MCAST under a live proxy: only the leaf is lost, the proxy and its other leaf are kept",
  async () => {
    const bed = await shared.take(7);
    let victim = "";
    try {
      const { results, error } = await run(
        bed,
        "trees: [{ type: RANDOM }]",
        (e) => {
          if (e.kind === "eval-start") victim = e.tree.nodes[3]!; // below nodes[1]
        },
        (cmd, kill) => {
          // Once every probe of the tree listens: the leaf's worker dies, its
          // probe goes on receiving, its REPORT never comes.
          if (cmd.flag === "MCAST") kill(victim);
        },
      );
      assert.equal(error, undefined, String(error?.message));
      const tree = results.trees[0]!;
      const ev = tree.evaluations[0]!;
      const [proxy, sibling] = [tree.nodes[1]!, tree.nodes[4]!];
      assert.deepEqual(
        ev.missing,
        [victim],
        JSON.stringify([
          results.lost,
          tree.nodes,
          ev.nodes.map((n) => [n.addr, n.error, n.stats?.received]),
        ]),
      );
      assert.deepEqual(
        results.lost.map((l) => [l.addr, l.during]),
        [[victim, "evaluation"]],
      );
      const node = (a: string) => ev.nodes.find((n) => n.addr === a);
      assert.ok(node(proxy)?.forward, "the proxy's forwarding counts are kept");
      assert.ok(
        (node(sibling)?.stats?.received ?? 0) > 0,
        "the proxy's other leaf's statistics are kept",
      );
    } finally {
      await bed.release();
    }
  },
);

sharedTest(
  "a candidate paused (SIGSTOP) once its stage runs is named paused; the tree is completed without it",
  async () => {
    const bed = await shared.take(9);
    let victim = "";
    try {
      const { results, error } = await run(
        bed,
        "trees: [{ type: BEST, strategy: P90 }]",
        () => {},
        (cmd) => {
          // Once the first stage runs: its candidates listen, the stream flows.
          if (cmd.flag === "PARENT" && !victim) {
            victim = cmd.addrs[0]!;
            const w = bed.workers[bed.addrs.indexOf(victim)]!;
            shared.paused(w);
            Deno.kill(w.child.pid, "SIGSTOP");
          }
        },
      );
      assert.equal(error, undefined, String(error?.message));
      const tree = results.trees[0]!;
      assert.equal(tree.status, "complete");
      assert.equal(tree.nodes.filter((n) => n).length, 7);
      assert.ok(!tree.nodes.includes(victim));
      assert.deepEqual(
        results.lost.map((l) => [l.addr, l.during, l.reason]),
        [[victim, "stage", "paused"]],
      );
    } finally {
      await bed.release(); // the paused worker is replaced
    }
  },
);

Deno.test("both leaves of a proxy dead before MCAST: the leaves are lost, the proxy that answered is not", async () => {
  // Longer relay deadlines: the other subtree must start on a loaded machine.
  const bed = await startTestbed(7, { args: ["--relay-timeout", "3s"] });
  const m = new WatchedManager({ timeoutMs: 3000, retries: 1 });
  let leaves: string[] = [];
  let proxy = "";
  m.beforeCommand = async (cmd) => {
    if (cmd.flag !== "MCAST" || leaves.length === 0) return;
    // Dead (their ports closed) before the root relays the evaluation.
    await Promise.all(
      leaves.map((a) => bed.workers[bed.addrs.indexOf(a)]!.stop("SIGKILL")),
    );
  };
  try {
    const { results, error } = await run(
      bed,
      "trees: [{ type: RANDOM }]",
      (e) => {
        if (e.kind === "eval-start") {
          proxy = e.tree.nodes[1]!;
          leaves = [e.tree.nodes[3]!, e.tree.nodes[4]!];
        }
      },
      undefined,
      m,
    );
    assert.equal(error, undefined, String(error?.message));
    // (A loaded machine may add a slow worker of the other subtree.)
    const lost = (a: string) =>
      results.lost.find((l) => l.addr === a && l.during === "evaluation");
    const why = JSON.stringify(results.lost);
    assert.ok(lost(leaves[0]!) && lost(leaves[1]!), why);
    assert.ok(!lost(proxy), why);
    const tree = results.trees[0]!;
    assert.equal(tree.status, "complete");
    const ev = tree.evaluations[0]!;
    assert.equal(ev.error, undefined);
    assert.ok(leaves.every((a) => ev.missing.includes(a)));
  } finally {
    await bed.stop();
  }
});

sharedTest(
  "a worker that restarts is admitted again at the next CONNECT",
  async () => {
    const bed = await shared.take(9);
    let victim = "";
    let restarting: ReturnType<typeof spawnReady> | undefined;
    try {
      const { results, error } = await run(
        bed,
        "trees: [{ type: BEST, strategy: P90 }, { type: RANDOM }]",
        (e, kill) => {
          if (e.kind === "stage-start" && !victim) {
            victim = e.sets[0]![0]!;
            kill(victim);
          }
          if (e.kind === "lost" && e.lost.addr === victim && !restarting) {
            // Back on the same port, well before the next tree's CONNECT.
            restarting = spawnReady(["worker", "--bind", victim, ...FAST]);
          }
        },
      );
      assert.equal(error, undefined, String(error?.message));
      assert.equal(results.lost.length, 1);
      assert.ok(results.lost[0]!.readmittedUs, "not readmitted");
      assert.equal(results.trees[1]!.status, "complete");
    } finally {
      await (await restarting)?.stop();
      await bed.release();
    }
  },
);

sharedTest(
  "a parent that restarts mid-stage answers REPORT with a typed ERR; it is replaced and the tree completed",
  async () => {
    const bed = await shared.take(9);
    const m = new WatchedManager({ timeoutMs: 1000, retries: 1 });
    let victim = "";
    let restarting: ReturnType<typeof spawnReady> | undefined;
    m.beforeReport = async (addr) => {
      // The REPORT reaches the new process, not a dead port.
      if (addr === victim) await restarting;
    };
    try {
      const { results, error } = await run(
        bed,
        "trees: [{ type: BEST, strategy: P90 }]",
        () => {},
        (cmd, kill, addr) => {
          if (
            cmd.flag === "PARENT" && cmd.layer === 1 && addr !== bed.addrs[0]
          ) {
            if (victim) return;
            victim = addr;
            kill(victim);
            restarting = spawnReady(["worker", "--bind", victim, ...FAST]);
          }
        },
        m,
      );
      assert.equal(error, undefined, String(error?.message));
      assert.ok(victim, "no depth-1 stage ran");
      const tree = results.trees[0]!;
      assert.equal(tree.status, "complete");
      assert.ok(!tree.nodes.includes(victim), "the restarted parent is kept");
      assert.equal(tree.nodes.filter((n) => n).length, 7);
      assert.deepEqual(
        results.lost.map((l) => [l.addr, l.during]),
        [[victim, "stage"]],
      );
      assert.match(results.lost[0]!.detail, /restarted since the job/);
    } finally {
      await (await restarting)?.stop();
      await bed.release();
    }
  },
);

sharedTest(
  "too few workers left: that tree fails with a clear error, the run goes through, the completed tree is kept",
  async () => {
    const bed = await shared.take(7);
    try {
      const { results, error } = await run(
        bed,
        "trees: [{ type: RANDOM }, { type: BEST, strategy: P90 }]",
        (e, kill) => {
          if (e.kind === "tree-start" && e.index === 1) kill(bed.addrs[6]!);
        },
      );
      assert.equal(error, undefined, String(error?.message));
      assert.equal(results.status, "complete");
      assert.equal(results.trees[1]!.status, "failed");
      assert.match(results.trees[1]!.error!, /too few to finish the tree/);
      assert.equal(
        results.trees[0]!.status,
        "complete",
        JSON.stringify(results.trees[0]!.error),
      );
      assert.equal(results.trees[0]!.evaluations.length, 1);
    } finally {
      await bed.release();
    }
  },
);
