/** Warm probes: `treecast child --standby` runs the flags it reads on stdin. */
import assert from "node:assert/strict";
import { parseStandbyLine } from "../probes/standby.ts";
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

Deno.test("a standby child says it waits, then runs the flags it is handed like `treecast child`", async () => {
  const r = await standby(
    "child",
    JSON.stringify({
      args: ["--bind", "127.0.0.1:0", "--duration", "1", "--timeout", "0.3"],
    }) + "\n",
  );
  assert.deepEqual(r.lines[0], { event: "standby", probe: "child" });
  assert.equal(r.lines[1].event, "ready");
  assert.match(r.lines[1].bind, /^127\.0\.0\.1:\d+$/);
  // No stream came: the child's own start timeout, as by hand (exit 1).
  assert.equal(r.lines[2].event, "result");
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^error: /m);
});

Deno.test("a standby probe handed bad flags fails as the probe does: exit 2 naming the flag", async () => {
  const r = await standby(
    "parent",
    JSON.stringify({ args: ["--to", "127.0.0.1:9", "--rate", "x"] }) + "\n",
  );
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^error: .*rate/m);
});

Deno.test("a standby whose stdin ends before any flags exits 0 and runs nothing", async () => {
  const r = await standby("proxy", "");
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.lines, [{ event: "standby", probe: "proxy" }]);
});

Deno.test("standby input must be one JSON object with an args list of strings", () => {
  assert.deepEqual(parseStandbyLine('{"args":["--bind","h:0"]}'), [
    "--bind",
    "h:0",
  ]);
  for (const bad of ["nope", "null", '{"args":"--bind h:0"}', '{"args":[1]}']) {
    assert.equal(typeof parseStandbyLine(bad), "string", bad);
  }
});
