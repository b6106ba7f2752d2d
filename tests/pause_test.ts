/**
 * A worker paused mid-run (SIGSTOP: alive to TCP, silent, as a paused cloud
 * VM or a stalled process looks) costs its jobs, never the run: the
 * `manager` command ends with exit 0, naming it.
 */
import assert from "node:assert/strict";
import { jobsOf, until } from "./helpers/proc.ts";
import { ROOT, treecastArgs } from "./helpers/run.ts";
import { startTestbed } from "./helpers/testbed.ts";

Deno.test("a worker paused by SIGSTOP once it runs a probe: the manager exits 0 and names it paused, in its output and results", async () => {
  const bed = await startTestbed(9, { args: ["--relay-timeout", "1s"] });
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${dir}/pause.yaml`,
    `name: PAUSE
addrs: [${bed.addrs.map((a) => `"${a}"`).join(", ")}]
depth: 2
fanout: 2
hyperparameter: 2
rate: 1000
duration: 400ms
warmup: 100ms
evaluation: { duration: 600ms, warmup: 100ms }
root: "${bed.addrs[0]}"
parallel: false
timeouts: { request: 1, retries: 1, job_grace: 5 }
trees: [{ type: BEST, strategy: P90 }]
`,
  );
  let paused: number | undefined;
  try {
    const manager = new Deno.Command(Deno.execPath(), {
      args: treecastArgs(["manager", `${dir}/pause.yaml`, "--out", dir]),
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const output = manager.output();
    // The first stage's candidates run their probes: pause one of them.
    const pids = bed.workers.map((w) => w.child.pid);
    // The first worker (not the root) seen running a probe.
    const running = () =>
      pids.findIndex((p, i) => i > 0 && jobsOf(p).length > 0);
    assert.ok(
      await until(() => (paused = running()) > 0, 30_000),
      "no probe started",
    );
    if (paused === undefined || paused < 1) throw new Error("no probe started");
    Deno.kill(pids[paused]!, "SIGSTOP");
    const victim = bed.addrs[paused]!;
    const out = await output;
    const err = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, err);
    assert.match(err, new RegExp(`lost worker ${victim} \\(paused\\) during `));
    const folder = [...Deno.readDirSync(dir)].find((e) => e.isDirectory)!.name;
    const results = JSON.parse(
      await Deno.readTextFile(`${dir}/${folder}/results.json`),
    );
    assert.equal(results.status, "complete");
    assert.equal(results.trees[0].status, "complete", results.trees[0].error);
    assert.ok(!results.trees[0].nodes.includes(victim));
    assert.deepEqual(
      results.lost.map((l: { addr: string; reason: string }) => [
        l.addr,
        l.reason,
      ]),
      [[victim, "paused"]],
    );
  } finally {
    if (paused !== undefined && paused > 0) {
      Deno.kill(bed.workers[paused]!.child.pid, "SIGCONT");
    }
    await bed.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
