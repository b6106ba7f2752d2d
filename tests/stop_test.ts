/** Stopping cleanly: workers, jobs and the manager, with no orphans. */
import assert from "node:assert/strict";
import { Manager } from "../manager/manager.ts";
import { emptyCommand } from "../proto/codec.ts";
import {
  alive,
  childrenOf,
  idleStandby,
  jobsOf,
  runsJob,
  until,
} from "./helpers/proc.ts";
import { ROOT, treecastArgs } from "./helpers/run.ts";
import { startTestbed } from "./helpers/testbed.ts";

const child = (timeout: number) =>
  emptyCommand({ flag: "CHILD", rate: 1000, dur: 30_000, timeout });

Deno.test("SIGTERM on a worker kills its job subprocesses: no orphans", async () => {
  const bed = await startTestbed(1);
  const m = new Manager({ timeoutMs: 3000, retries: 0 });
  try {
    const job = await m.command(bed.addrs[0]!, child(60_000));
    assert.ok(job.pid > 0 && alive(job.pid));
    const worker = bed.workers[0]!.child.pid;
    assert.deepEqual(jobsOf(worker), [job.pid]);
    const all = childrenOf(worker); // the job's probe and the warm ones
    const status = await bed.workers[0]!.stop("SIGTERM");
    assert.equal(status.code, 0);
    assert.ok(
      await until(() => all.every((p) => !alive(p)), 2000),
      `probes ${all.filter(alive)} outlived their worker`,
    );
  } finally {
    m.close();
    await bed.stop();
  }
});

Deno.test("a job whose stream never arrives ends on its own timeout", async () => {
  const bed = await startTestbed(1);
  const m = new Manager({ timeoutMs: 3000, retries: 0 });
  try {
    const job = await m.command(bed.addrs[0]!, child(800));
    let report;
    for (let i = 0; i < 40 && !report?.complete; i++) {
      await new Promise((r) => setTimeout(r, 100));
      report = await m.report(bed.addrs[0]!, job.id);
    }
    assert.ok(report?.complete, "the job did not end");
    assert.notEqual(report!.job.ret, 0);
    assert.match(report!.job.error, /stream|timeout/i);
    assert.ok(!runsJob(job.pid), "its probe still runs");
  } finally {
    m.close();
    await bed.stop();
  }
});

Deno.test("Ctrl-C on the manager stops every job, writes partial results and exits 130", async () => {
  await interruptRun("SIGINT", 7, 2);
});

Deno.test("SIGHUP (a closed ssh session) on the manager ends the run as SIGTERM and Ctrl-C do: jobs stopped, partial results, exit 130", async () => {
  await interruptRun("SIGHUP", 3, 1);
});

/**
 * Starts a run of one long BEST tree (`n` workers, depth `depth`, fanout 2),
 * sends the manager `signal` once a stage's probes run, and checks that it
 * stopped every job, wrote results.json as interrupted and exited 130.
 */
async function interruptRun(
  signal: Deno.Signal,
  n: number,
  depth: number,
): Promise<void> {
  const bed = await startTestbed(n);
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${dir}/long.yaml`,
    `name: LONG
addrs: [${bed.addrs.map((a) => `"${a}"`).join(", ")}]
depth: ${depth}
fanout: 2
hyperparameter: 2
rate: 1000
duration: 30s
warmup: 0s
root: "${bed.addrs[0]}"
trees: [{ type: BEST, strategy: P90 }]
`,
  );
  try {
    const manager = new Deno.Command(Deno.execPath(), {
      args: treecastArgs(["manager", `${dir}/long.yaml`, "--out", dir]),
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const reader = manager.stderr.pipeThrough(new TextDecoderStream())
      .getReader();
    let err = "";
    while (!/stage \d+\/\d+:/.test(err)) {
      const { value, done } = await reader.read();
      if (done) break;
      err += value;
    }
    // Wait until the stage's probes run on the root and its candidates.
    assert.ok(
      await until(
        () =>
          bed.workers.some((w, i) => i > 0 && jobsOf(w.child.pid).length > 0),
        10_000,
      ),
      "no probe started",
    );
    manager.kill(signal);
    const [status] = await Promise.all([
      manager.status,
      (async () => {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          err += value;
        }
      })(),
      manager.stdout.cancel(),
    ]);
    assert.equal(status.code, 130, err);
    assert.match(err, new RegExp(`Stopped the jobs on ${n} of ${n} workers`));
    assert.match(err, /error: Interrupted: partial results in /);
    const folder = [...Deno.readDirSync(dir)].find((e) => e.isDirectory)!.name;
    const results = JSON.parse(
      await Deno.readTextFile(`${dir}/${folder}/results.json`),
    );
    assert.equal(results.status, "interrupted");
    assert.equal(results.workers.length, n);
    assert.ok(
      await until(
        () => bed.workers.every((w) => jobsOf(w.child.pid).length === 0),
        3000,
      ),
      "probes still running after the manager stopped them",
    );
  } finally {
    await bed.stop();
  }
}

Deno.test("a worker keeps two warm probes, runs a job in one, reuses it for the next job, and never leaves one behind", async () => {
  const bed = await startTestbed(1);
  const m = new Manager({ timeoutMs: 3000, retries: 0 });
  const worker = bed.workers[0]!.child.pid;
  const warm = () => childrenOf(worker).filter(idleStandby);
  try {
    assert.ok(
      await until(() => warm().length === 2, 10_000),
      "no 2 warm probes",
    );
    const before = warm();
    const job = await m.command(bed.addrs[0]!, child(800));
    // The job runs in one of the warm processes, which is no longer idle.
    assert.ok(before.includes(job.pid), `job ${job.pid} not in ${before}`);
    assert.deepEqual(jobsOf(worker), [job.pid]);
    assert.equal(warm().length, 1);
    // Its stream never comes: it ends on its timeout, and the same process
    // waits again; no process was started for it.
    assert.ok(
      await until(() => !runsJob(job.pid), 5000),
      "the job did not end",
    );
    assert.ok(await until(() => warm().length === 2, 5000), "not waiting");
    assert.deepEqual(warm().sort(), [...before].sort());
    const next = await m.command(bed.addrs[0]!, child(800));
    assert.ok(before.includes(next.pid), `job ${next.pid} not in ${before}`);
    // SIGKILL leaves no time to stop anything: the warm probes see their
    // stdin end and exit by themselves (one of them ends its job first).
    const left = childrenOf(worker);
    bed.workers[0]!.child.kill("SIGKILL");
    assert.ok(
      await until(() => left.every((p) => !alive(p)), 5000),
      `warm probes ${left.filter(alive)} outlived a killed worker`,
    );
  } finally {
    m.close();
    await bed.stop();
  }
});
