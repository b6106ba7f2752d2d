import assert from "node:assert/strict";
import { killTree } from "./proc.ts";
import { settle } from "./settle.ts";

/** A process tree: `sh -c SCRIPT`, killed with what it started at the end. */
async function withTree(
  script: string,
  body: (pid: number) => Promise<void>,
): Promise<void> {
  const p = new Deno.Command("sh", {
    args: ["-c", script],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await body(p.pid);
  } finally {
    killTree(p.pid);
    await p.status;
  }
}

// Stands for a worker with two idle warm probes (`... --standby`): the
// trailing ":" keeps each inner shell from exec'ing its sleep.
const WORKER =
  `sh -c 'sleep 60; :' --standby & sh -c 'sleep 60; :' --standby & wait`;

Deno.test({
  name: "settle returns once each worker runs its warm probes and is idle",
  ignore: Deno.build.os !== "linux",
  fn: () =>
    withTree(WORKER, async (pid) => {
      const s = await settle([pid], {
        warm: 2,
        idleShare: 0.01,
        windowMs: 100,
        timeoutMs: 20_000,
      });
      assert.equal(s.settled, true);
    }),
});

Deno.test({
  name: "settle gives up when a worker lacks its warm probes, or is busy",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    await withTree(WORKER, async (pid) => {
      const s = await settle([pid], {
        warm: 3,
        idleShare: 0.01,
        windowMs: 100,
        timeoutMs: 1000,
      });
      assert.equal(s.settled, false);
    });
    await withTree("while :; do :; done", async (pid) => {
      const s = await settle([pid], {
        warm: 0,
        idleShare: 0.01,
        windowMs: 200,
        timeoutMs: 1000,
      });
      assert.equal(s.settled, false);
      assert.ok(s.cpuShare > 0.01, `busy at ${s.cpuShare}`);
    });
  },
});
