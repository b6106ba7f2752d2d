import assert from "node:assert/strict";
import { type ProbeRun, WarmProbes } from "./warm.ts";

/** A warm probe stand-in: a Deno program given as source text. */
const fake = (source: string) => ({
  cmd: Deno.execPath(),
  args: ["eval", source],
});

/**
 * A standby that misbehaves: before each job's own lines it prints an exit
 * line of the job before it (code 99), as a late line of an earlier job
 * would arrive.
 */
const LATE_EXITS = `
const enc = new TextEncoder();
const say = (o) => Deno.stdout.writeSync(enc.encode(JSON.stringify(o) + "\\n"));
let prev = 0, buf = "";
say({ event: "standby", probe: "child" });
for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
  buf += chunk;
  let nl;
  while ((nl = buf.indexOf("\\n")) >= 0) {
    const { job } = JSON.parse(buf.slice(0, nl));
    buf = buf.slice(nl + 1);
    if (prev) say({ job: prev, event: "exit", code: 99 });
    say({ job: prev, out: "an earlier job's line" });
    say({ job, out: "line of " + job });
    say({ job, event: "exit", code: 0 });
    say({ event: "standby", probe: "child" });
    prev = job;
  }
}
`;

/** Runs a job out: its stdout lines and exit code. */
async function runOut(run: ProbeRun) {
  const out: string[] = [];
  const code = await run.run((l) => out.push(l), () => {});
  return { out, code };
}

Deno.test("a late exit line of job A is never taken as job B's: each job ends with its own lines and code", async () => {
  const warm = new WarmProbes({ command: fake(LATE_EXITS), startMs: 60_000 });
  try {
    const a = await warm.take("child", ["a"]);
    assert.ok(a);
    const ra = await runOut(a);
    // Its one process waits again (its standby line follows the exit).
    while (warm.waiting === 0) await new Promise((r) => setTimeout(r, 5));
    const b = await warm.take("child", ["b"]);
    assert.ok(b);
    assert.equal(b.pid, a.pid, "the same warm process ran both");
    const rb = await runOut(b);
    assert.equal(ra.code, 0);
    assert.equal(rb.code, 0, "job A's exit 99 was not taken for B's");
    assert.equal(ra.out.length, 1);
    assert.equal(rb.out.length, 1);
    assert.match(ra.out[0]!, /^line of \d+$/);
    assert.match(rb.out[0]!, /^line of \d+$/);
    assert.notEqual(ra.out[0], rb.out[0]);
  } finally {
    await warm.close();
  }
});

Deno.test("waiting for a warm probe to start is bounded: the job is told to get a probe of its own", async () => {
  // A warm probe that never says it waits.
  const never = fake("setTimeout(() => {}, 600_000);");
  const warm = new WarmProbes({ command: never, startMs: 200 });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const got = await Promise.race([
      warm.take("child", ["--bind", "127.0.0.1:0"]),
      new Promise<"hung">((r) => (timer = setTimeout(() => r("hung"), 30_000))),
    ]);
    assert.equal(got, undefined);
  } finally {
    clearTimeout(timer);
    await warm.close();
  }
});

Deno.test("a real warm probe runs a job whose line is over 64 KiB whole, then the next job as its own", async () => {
  const warm = new WarmProbes({ startMs: 60_000 });
  const long = "x".repeat(100 * 1024);
  try {
    await warm.warmUp();
    const a = await warm.take("parent", [
      "--to",
      "127.0.0.1:9",
      "--rate",
      long,
    ]);
    assert.ok(a);
    const errA: string[] = [];
    const codeA = await a.run(() => {}, (l) => errA.push(l));
    const b = await warm.take("child", [
      "--bind",
      "127.0.0.1:0",
      "--duration",
      "1",
      "--timeout",
      "0.3",
    ]);
    assert.ok(b);
    const outB: string[] = [];
    const codeB = await b.run((l) => outB.push(l), () => {});
    assert.equal(codeA, 2);
    assert.ok(errA.some((l) => l.includes(long)), "its error quotes it whole");
    assert.equal(codeB, 1); // no stream came: the child's own timeout
    assert.equal(JSON.parse(outB[0]!).event, "ready");
  } finally {
    await warm.close();
  }
});
