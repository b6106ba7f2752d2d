import assert from "node:assert/strict";
import { alive, until } from "../tests/helpers/proc.ts";
import { descendantsOf } from "./proc.ts";
import { startTestbed } from "./testbed.ts";

Deno.test({
  name:
    "a testbed worker paused by SIGSTOP is SIGKILLed after the grace, with the probes it started, and stop() returns",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const bed = await startTestbed({ workers: 2, stopGraceMs: 300 });
    const [paused, healthy] = bed.workers;
    const pid = paused!.child.pid;
    const below = descendantsOf(pid); // its warm probes, started or starting
    Deno.kill(pid, "SIGSTOP");
    let bound: ReturnType<typeof setTimeout> | undefined;
    const ended = await Promise.race([
      bed.stop().then(() => "stopped"),
      // Far beyond the grace: only a stop that waits forever reaches it.
      new Promise((r) => bound = setTimeout(() => r("hung"), 60_000)),
    ]);
    clearTimeout(bound);
    assert.equal(ended, "stopped");
    assert.equal((await paused!.child.status).signal, "SIGKILL");
    assert.ok(!alive(pid), "the paused worker is gone");
    assert.ok(!alive(healthy!.child.pid), "the other worker is gone");
    assert.ok(
      await until(() => below.every((p) => !alive(p)), 10_000),
      `probes of the paused worker left: ${below.filter(alive)}`,
    );
  },
});
