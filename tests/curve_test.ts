/** CURVE over real processes: keygen, an allowed manager, a stranger, the plain-text warning. */
import assert from "node:assert/strict";
import { ROOT, runTreecast, startReady, treecastArgs } from "./helpers/run.ts";

Deno.test("CURVE: a worker answers the allowed manager and no other", async () => {
  const dir = await Deno.makeTempDir();
  for (const name of ["workers", "manager", "stranger"]) {
    const r = await runTreecast(["keygen", `${dir}/${name}`]);
    assert.equal(r.code, 0, r.stderr);
  }
  const again = await runTreecast(["keygen", `${dir}/workers`]);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /^error: ".*workers.key" exists/);
  const w = await startReady([
    "worker",
    "--bind",
    "127.0.0.1:0",
    "--curve-key",
    `${dir}/workers.key`,
    "--curve-allow",
    `${dir}/manager.pub`,
  ]);
  try {
    await Deno.writeTextFile(
      `${dir}/s.yaml`,
      `name: CURVE\ndepth: 1\nfanout: 1\naddrs: ["${w.addr}"]\nsteps: [{ action: CONNECT }]\n`,
    );
    const ok = await runTreecast([
      "manager",
      `${dir}/s.yaml`,
      "--curve-key",
      `${dir}/manager.key`,
      "--curve-server",
      `${dir}/workers.pub`,
      "--timeout",
      "500ms",
      "--retries",
      "0",
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(
      ok.stdout,
      new RegExp(`${w.addr.replaceAll(".", "\\.")}\\s+ok`),
    );
    for (
      const args of [
        [
          "--curve-key",
          `${dir}/stranger.key`,
          "--curve-server",
          `${dir}/workers.pub`,
        ],
        [],
      ]
    ) {
      const no = await runTreecast([
        "manager",
        `${dir}/s.yaml`,
        ...args,
        "--timeout",
        "300ms",
        "--retries",
        "0",
      ]);
      assert.equal(no.code, 1);
      assert.match(no.stdout, /unreachable/);
    }
  } finally {
    await w.stop();
  }
});

Deno.test("a worker bound beyond loopback without CURVE warns that anyone can start probes", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: treecastArgs(["worker", "--bind", "0.0.0.0:0"]),
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let err = "";
  while (!err.includes("listening")) {
    const { value, done } = await reader.read();
    if (done) break;
    err += value;
  }
  child.kill("SIGTERM");
  await child.status;
  await reader.cancel();
  assert.match(
    err,
    /warning: Worker bound to "0\.0\.0\.0:\d+" without CURVE: anyone who can reach/,
  );
});
