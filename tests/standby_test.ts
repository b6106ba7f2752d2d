/** Warm probes: `treecast child --standby` runs the jobs it reads on stdin, one after another. */
import assert from "node:assert/strict";
import { decodeMessageLog, NOT_RECEIVED } from "../core/message_log.ts";
import { sendCrafted } from "../probes/_testing.ts";
import { MAX_LINE, parseStandbyLine } from "../probes/standby.ts";
import { ROOT, treecastArgs } from "./helpers/run.ts";

/** Starts `treecast ROLE --standby`, writes `input` to its stdin, runs it out. */
async function standby(role: string, input: string) {
  const p = new Deno.Command(Deno.execPath(), {
    args: treecastArgs([role, "--standby"]),
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const w = p.stdin.getWriter();
  await w.write(new TextEncoder().encode(input));
  await w.close();
  const out = await p.output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    lines: dec.decode(out.stdout).trim().split("\n").map((l) => JSON.parse(l)),
    stderr: dec.decode(out.stderr),
  };
}

let ids = 0;
/** A job line with the next job id. */
const job = (obj: object) => JSON.stringify({ job: ++ids, ...obj }) + "\n";
/** Each line's event, "out" for a job's own stdout line. */
const events = (lines: { event?: string; out?: string }[]) =>
  lines.map((l) => l.event ?? (l.out !== undefined ? "out" : "?"));
/** A job's stdout line, parsed. */
const out = (l: { out: string }) => JSON.parse(l.out);

Deno.test("a standby child says it waits, runs the flags it is handed like `treecast child`, says how it ended and waits again", async () => {
  const r = await standby(
    "child",
    job({
      args: ["--bind", "127.0.0.1:0", "--duration", "1", "--timeout", "0.3"],
    }),
  );
  assert.deepEqual(r.lines[0], { event: "standby", probe: "child" });
  assert.equal(out(r.lines[1]).event, "ready");
  assert.match(out(r.lines[1]).bind, /^127\.0\.0\.1:\d+$/);
  // No stream came: the child's own start timeout, as by hand (exit 1),
  // its stderr on stdout before its end, every line with the job's id.
  assert.deepEqual(events(r.lines), [
    "standby",
    "out",
    "out",
    "stderr",
    "exit",
    "standby",
  ]);
  assert.equal(out(r.lines[2]).event, "result");
  assert.match(r.lines[3].text, /^error: /);
  const id = r.lines[1].job;
  assert.ok(id > 0);
  assert.deepEqual(r.lines.slice(1, 5).map((l) => l.job), [id, id, id, id]);
  assert.deepEqual(r.lines[4], { job: id, event: "exit", code: 1 });
  // Its stdin ended while it waited: the process itself exits 0.
  assert.equal(r.code, 0, r.stderr);
});

Deno.test("one standby process runs job after job of any kind: bad flags fail as the probe does (exit 2 naming the flag), then a proxy runs", async () => {
  const r = await standby(
    "child",
    job({ probe: "parent", args: ["--to", "127.0.0.1:9", "--rate", "x"] }) +
      job({
        probe: "proxy",
        args: [
          "--bind",
          "127.0.0.1:0",
          "--to",
          "127.0.0.1:9",
          "--timeout",
          "0.2",
        ],
      }) +
      job({ probe: "nope", args: [] }),
  );
  assert.equal(r.code, 0, r.stderr);
  const exits = r.lines.filter((l) => l.event === "exit");
  assert.deepEqual(exits.map((l) => l.code), [2, 1, 2]);
  const errors = r.lines.filter((l) => l.event === "stderr").map((l) => l.text);
  assert.match(errors[0], /^error: .*rate/);
  assert.match(errors.at(-1), /^error: .*"probe" must be one of/);
  const ready = r.lines.filter((l) => l.out).map(out).find((l) =>
    l.event === "ready"
  );
  assert.equal(ready?.probe, "proxy");
  // Each exit names its own job, in the order they were handed.
  assert.deepEqual(exits.map((l) => l.job), [ids - 2, ids - 1, ids]);
  assert.equal(events(r.lines).filter((e) => e === "standby").length, 4);
});

Deno.test("a standby whose stdin ends before any flags exits 0 and runs nothing", async () => {
  const r = await standby("proxy", "");
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.lines, [{ event: "standby", probe: "proxy" }]);
});

Deno.test("a job line over 64 KiB arrives whole: one job, one exit with its id, and the next job runs as its own", async () => {
  const long = "x".repeat(100 * 1024);
  const r = await standby(
    "child",
    job({ probe: "parent", args: ["--to", "127.0.0.1:9", "--rate", long] }) +
      job({ probe: "parent", args: ["--to", "127.0.0.1:9", "--rate", "y"] }),
  );
  assert.equal(r.code, 0, r.stderr);
  const exits = r.lines.filter((l) => l.event === "exit");
  assert.deepEqual(exits, [
    { job: ids - 1, event: "exit", code: 2 },
    { job: ids, event: "exit", code: 2 },
  ]);
  const errors = r.lines.filter((l) => l.event === "stderr");
  assert.equal(errors.length, 2);
  assert.equal(errors[0].job, ids - 1);
  assert.ok(errors[0].text.includes(long), "the whole value came through");
  assert.match(errors[1].text, /"y"/);
});

Deno.test("a job line over the limit is refused whole, with the id it carried", async () => {
  const r = await standby(
    "child",
    job({ args: ["x".repeat(MAX_LINE)] }) + job({ probe: "nope", args: [] }),
  );
  assert.equal(r.code, 0, r.stderr);
  const exits = r.lines.filter((l) => l.event === "exit");
  assert.deepEqual(exits.map((l) => [l.job, l.code]), [[ids - 1, 2], [ids, 2]]);
  const errors = r.lines.filter((l) => l.event === "stderr");
  assert.match(errors[0].text, /^error: Standby input is over \d+ characters/);
  assert.match(errors[1].text, /"probe" must be one of/);
});

Deno.test("standby input must be one JSON object with a job id, an args list of strings and an optional probe role", () => {
  assert.deepEqual(
    parseStandbyLine('{"job":3,"args":["--bind","h:0"]}', "child"),
    { job: 3, probe: "child", args: ["--bind", "h:0"] },
  );
  assert.deepEqual(
    parseStandbyLine('{"job":4,"probe":"proxy","args":[]}', "child"),
    { job: 4, probe: "proxy", args: [] },
  );
  for (
    const [bad, id] of [
      ["nope", null],
      ["null", null],
      ['{"args":[]}', null],
      ['{"job":-1,"args":[]}', null],
      ['{"job":5,"args":"--bind h:0"}', 5],
      ['{"job":6,"args":[1]}', 6],
      ['{"job":7,"probe":"worker","args":[]}', 7],
      ['{"job":8,"args":["cut', 8],
    ] as const
  ) {
    const r = parseStandbyLine(bad, "child");
    assert.ok("error" in r, bad);
    assert.equal(r.job, id, bad);
  }
});

Deno.test("a standby child job with --messages, stopped by SIGTERM, writes the log of what it got and names it", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/log.tcml`;
  const p = new Deno.Command(Deno.execPath(), {
    args: treecastArgs(["child", "--standby"]),
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
    env: { NO_COLOR: "1" },
  }).spawn();
  const stdin = p.stdin.getWriter();
  const lines = p.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  /** The next stdout line whose event is `event` (earlier ones skipped). */
  const next = async (event: string): Promise<Record<string, unknown>> => {
    for (;;) {
      const nl = buf.indexOf("\n");
      if (nl >= 0) {
        const framed = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        // A job's own lines come framed with its id (`out`); control lines not.
        const line = framed.out !== undefined ? JSON.parse(framed.out) : framed;
        if (line.event === event) return line;
        continue;
      }
      const { value, done } = await lines.read();
      if (done) throw new Error(`stdout ended before a "${event}" line`);
      buf += value;
    }
  };
  try {
    await next("standby");
    await stdin.write(new TextEncoder().encode(job({
      probe: "child",
      args: [
        "--bind",
        "127.0.0.1:0",
        "--duration",
        "60",
        "--messages",
        path,
        "--rate",
        "10",
      ],
    })));
    const ready = await next("ready");
    await sendCrafted(String(ready.bind), [0, 1, 2, 4].map((seq) => ({ seq })));
    p.kill("SIGTERM");
    const result = await next("result");
    assert.equal(result.stop, "interrupted");
    assert.deepEqual(result.messages, {
      path,
      first_seq: 0,
      count: 600,
      dropped: 0,
    });
    assert.deepEqual(await next("exit"), {
      job: ids,
      event: "exit",
      code: 130,
    });
    const d = decodeMessageLog(await Deno.readFile(path)).delaysNs;
    const got = [...d.keys()].filter((i) => d[i] !== NOT_RECEIVED);
    assert.deepEqual(got, [0, 1, 2, 4]);
  } finally {
    await stdin.close();
    await lines.cancel();
    await p.status;
    await Deno.remove(dir, { recursive: true });
  }
});
