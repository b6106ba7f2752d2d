import assert from "node:assert/strict";
import { childrenOf, descendantsOf, procStat, procStats } from "./proc.ts";

Deno.test("procStat reads this process: its name, state, parent and CPU ticks; a gone pid is undefined", () => {
  const me = procStat(Deno.pid)!;
  assert.equal(me.pid, Deno.pid);
  assert.equal(me.comm, "deno");
  assert.equal(me.ppid, Deno.ppid);
  assert.match(me.state, /^[RSD]$/);
  for (const t of [me.utime, me.stime, me.cutime, me.cstime]) {
    assert.ok(Number.isInteger(t) && t >= 0, String(t));
  }
  let x = 0;
  for (let i = 0; i < 3e7; i++) x += i; // burn some CPU
  const later = procStat(Deno.pid)!;
  assert.ok(x > 0 && later.utime + later.stime >= me.utime + me.stime);
  assert.equal(procStat(2 ** 22 + 1), undefined); // above pid_max's default
  assert.ok(procStats().some((s) => s.pid === Deno.pid));
});

Deno.test("childrenOf and descendantsOf find a live child, and not once it is reaped", async () => {
  const child = new Deno.Command("sleep", { args: ["30"] }).spawn();
  try {
    assert.deepEqual(childrenOf(Deno.pid).filter((p) => p === child.pid), [
      child.pid,
    ]);
    assert.ok(descendantsOf(Deno.pid).includes(child.pid));
    assert.equal(procStat(child.pid)?.comm, "sleep");
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
  assert.ok(!childrenOf(Deno.pid).includes(child.pid));
});
