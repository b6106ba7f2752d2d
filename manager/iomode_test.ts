/**
 * One probe I/O mode per experiment: the choice from the workers' hellos,
 * and the step queue using it (fake workers, fake clock).
 */
import assert from "node:assert/strict";
import type { Hello } from "../proto/codec.ts";
import { A, setup } from "./_testing.ts";
import { chooseMode, IoModeError, modesOf, statsMismatch } from "./iomode.ts";
import { stats } from "./_testing.ts";

const hello = (capabilities: string[]): Hello => ({
  protocol: 1,
  program: "t",
  capabilities,
  hostname: "h",
  emulate: "",
  incarnation: "",
});
const ok = (addr: string, caps: string[]) => ({
  addr,
  status: "ok" as const,
  hello: hello(caps),
});

Deno.test("the modes a hello offers: native gives kernel timestamps where the kernel does, user ones always", () => {
  assert.deepEqual(
    modesOf(hello(["io:native", "io:deno", "ts:kernel", "ts:user"])),
    [
      { io: "NATIVE", timestamps: "KERNEL" },
      { io: "NATIVE", timestamps: "USER" },
      { io: "DENO", timestamps: "USER" },
    ],
  );
  assert.deepEqual(modesOf(hello(["io:native", "io:deno", "ts:user"])), [
    { io: "NATIVE", timestamps: "USER" },
    { io: "DENO", timestamps: "USER" },
  ]);
  assert.deepEqual(modesOf(hello(["parent", "child"])), []);
  assert.deepEqual(modesOf(undefined), []);
});

Deno.test("the mode choice: the best all admitted workers share; unreachable ones do not count", () => {
  const full = ["io:native", "io:deno", "ts:kernel", "ts:user"];
  assert.deepEqual(chooseMode([ok("a", full), ok("b", full)]), {
    io: "NATIVE",
    timestamps: "KERNEL",
  });
  // A native worker without kernel timestamps: every receiver on native
  // I/O with user timestamps.
  assert.deepEqual(
    chooseMode([ok("a", full), ok("b", ["io:native", "io:deno", "ts:user"])]),
    { io: "NATIVE", timestamps: "USER" },
  );
  assert.deepEqual(
    chooseMode([
      ok("a", ["io:native", "ts:user"]),
      ok("b", ["io:native", "io:deno", "ts:user"]),
    ]),
    { io: "NATIVE", timestamps: "USER" },
  );
  assert.deepEqual(
    chooseMode([ok("a", full), { addr: "b", status: "unreachable" }]),
    { io: "NATIVE", timestamps: "KERNEL" },
  );
  assert.throws(
    () =>
      chooseMode([ok("a", ["io:native", "ts:kernel"]), ok("b", ["io:deno"])]),
    (e) =>
      e instanceof IoModeError &&
      /"a" native I\/O, kernel timestamps or native I\/O, user timestamps; "b" deno I\/O, user timestamps/
        .test(
          e.message,
        ),
  );
  assert.throws(
    () => chooseMode([ok("a", full), ok("old", ["parent", "child"])]),
    /"old" none \(no io: capability/,
  );
});

Deno.test("statistics from another timestamp kind, or none said, do not fit the mode", () => {
  const mode = { io: "NATIVE", timestamps: "KERNEL" } as const;
  assert.equal(
    statsMismatch({ ...stats(10), timestamps: "KERNEL" }, mode),
    undefined,
  );
  assert.equal(statsMismatch(undefined, mode), undefined);
  assert.match(
    statsMismatch({ ...stats(10), timestamps: "USER" }, mode)!,
    /^Measured with user timestamps; the experiment compares kernel/,
  );
  assert.match(
    statsMismatch(
      { ...stats(10), timestamps: "TIMESTAMPS_UNSPECIFIED" },
      mode,
    )!,
    /^Measured with unstated timestamps/,
  );
});

const NATIVE_KERNEL = ["io:native", "io:deno", "ts:kernel", "ts:user"];

Deno.test("every probe runs in the best I/O mode all workers share, recorded in the results", async () => {
  const { workers, exp, events } = setup(
    "trees: [{ type: BEST, strategy: P90 }]",
  );
  for (const a of A) workers.caps[a] = NATIVE_KERNEL;
  const r = await exp.run();
  assert.equal(r.status, "complete");
  assert.equal(r.io, "NATIVE");
  assert.equal(r.timestamps, "KERNEL");
  assert.ok(workers.log.length > 0);
  for (const { cmd: c } of workers.log) {
    assert.equal(c.io, "NATIVE");
    assert.equal(c.timestamps, "KERNEL");
  }
  const connect = events.find((e) => e.kind === "connect");
  assert.deepEqual(connect?.kind === "connect" && connect.mode, {
    io: "NATIVE",
    timestamps: "KERNEL",
  });
  assert.deepEqual(r.mismatches, []);
});

Deno.test("one worker without the native backend puts the whole experiment on deno, user timestamps", async () => {
  const { workers, exp } = setup("trees: [{ type: BEST, strategy: P90 }]");
  for (const a of A) workers.caps[a] = NATIVE_KERNEL;
  workers.caps[A[5]!] = ["io:deno", "ts:user"];
  const r = await exp.run();
  assert.equal(r.status, "complete");
  assert.equal(r.io, "DENO");
  assert.equal(r.timestamps, "USER");
  assert.ok(workers.log.every(({ cmd }) => cmd.io === "DENO"));
});

Deno.test("workers that share no I/O mode make the run refuse, naming what each offers", async () => {
  const { workers, exp } = setup("trees: [{ type: BEST, strategy: P90 }]");
  for (const a of A) workers.caps[a] = ["io:native", "ts:kernel", "ts:user"];
  workers.caps[A[3]!] = ["io:deno", "ts:user"];
  await assert.rejects(
    exp.run(),
    new RegExp(
      `share no probe I/O mode.*"${A[3]}" deno I/O, user timestamps.*--io`,
    ),
  );
  assert.equal(exp.results.status, "failed");
  assert.equal(workers.log.length, 0, "no probe was started");
});

Deno.test("a candidate that measured with other timestamps is flagged and never kept", async () => {
  const { workers, exp } = setup("trees: [{ type: BEST, strategy: P90 }]");
  for (const a of A) workers.caps[a] = NATIVE_KERNEL;
  // The fastest worker of all, but its delays come from user timestamps.
  workers.delay[A[1]!] = 1;
  workers.reportedTs[A[1]!] = "USER";
  const r = await exp.run();
  assert.equal(r.status, "complete");
  const t = r.trees[0]!;
  assert.ok(!t.nodes.includes(A[1]!), JSON.stringify(t.nodes));
  const cand = t.stages.flatMap((s) => s.candidates).find((c) =>
    c.addr === A[1]
  );
  assert.ok(cand, "the worker was probed");
  assert.equal(cand.kept, false);
  assert.match(
    cand.error ?? "",
    /user timestamps; the experiment compares kernel/,
  );
  assert.deepEqual(r.mismatches!.map((m) => [m.addr, m.during]), [
    [A[1], "stage"],
  ]);
});
