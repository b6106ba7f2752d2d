import assert from "node:assert/strict";
import { runTreecast } from "../tests/helpers/run.ts";
import { loadScript } from "./script.ts";
import { ScriptError } from "./script_types.ts";

/** A folder with `run.yaml` (naming `addrs_file: workers.txt`) and the file. */
async function scriptWith(addrs: string, extra = ""): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "treecast-addrs-" });
  await Deno.writeTextFile(
    `${dir}/run.yaml`,
    `name: cloud\naddrs_file: workers.txt\ndepth: 1\nfanout: 2\n${extra}`,
  );
  await Deno.writeTextFile(`${dir}/workers.txt`, addrs);
  return dir;
}

async function problem(dir: string): Promise<ScriptError> {
  const e = await loadScript(`${dir}/run.yaml`).then(
    () => assert.fail("the script was accepted"),
    (e) => e,
  );
  assert.ok(e instanceof ScriptError, String(e));
  return e;
}

Deno.test("addrs_file: workers from HOST:PORT lines beside the script; comments and blank lines skipped", async () => {
  const dir = await scriptWith(
    "# gcloud compute instances list ...\n10.0.0.5:9000\n\n  10.0.0.6:9000  # b\nvm-c.internal:9000\n",
  );
  const s = await loadScript(`${dir}/run.yaml`);
  assert.deepEqual(s.addrs, [
    "10.0.0.5:9000",
    "10.0.0.6:9000",
    "vm-c.internal:9000",
  ]);
});

Deno.test("addrs_file: a bad line is named by the file's path, line and column", async () => {
  const dir = await scriptWith("10.0.0.5:9000\n  10.0.0.6\n");
  const e = await problem(dir);
  assert.equal(e.file, `${dir}/workers.txt`);
  assert.deepEqual([e.line, e.col, e.field], [2, 3, "addrs_file"]);
  assert.match(
    e.message,
    /^.+\/workers\.txt:2:3: field "addrs_file": .*HOST:PORT/,
  );
});

Deno.test("addrs_file: a worker listed twice names both lines", async () => {
  const dir = await scriptWith("10.0.0.5:9000\n10.0.0.6:9000\n10.0.0.5:9000\n");
  const e = await problem(dir);
  assert.deepEqual([e.line, e.reason], [
    3,
    '"10.0.0.5:9000" is listed twice (first on line 1)',
  ]);
});

Deno.test("addrs_file: a missing or empty file, or addrs given too, is an error in the script", async () => {
  const dir = await scriptWith("# nothing yet\n");
  assert.equal((await problem(dir)).reason, "lists no HOST:PORT worker");
  await Deno.remove(`${dir}/workers.txt`);
  const missing = await problem(dir);
  assert.deepEqual([missing.file, missing.line, missing.col], [
    `${dir}/run.yaml`,
    2,
    13,
  ]);
  assert.match(missing.reason, /cannot read ".+\/workers\.txt": no such file/);
  const both = await scriptWith(
    "10.0.0.5:9000\n",
    'addrs: ["10.0.0.7:9000"]\n',
  );
  const e = await problem(both);
  assert.deepEqual([e.line, e.field], [5, "addrs"]);
  assert.equal(e.reason, 'give either "addrs" or "addrs_file", not both');
});

Deno.test("treecast manager: a bad addrs_file line exits 2 with one error line naming file:line:col", async () => {
  const dir = await scriptWith("10.0.0.5:9000\n10.0.0.6:0\n");
  const r = await runTreecast(["manager", `${dir}/run.yaml`]);
  assert.equal(r.code, 2, r.stderr);
  assert.deepEqual(r.stderr.split("\n").filter((l) => l.startsWith("error:")), [
    `error: ${dir}/workers.txt:2:1: field "addrs_file": "10.0.0.6:0" has port 0`,
  ]);
});
