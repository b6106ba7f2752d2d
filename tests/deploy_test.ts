/**
 * The deployment files in deploy/: the systemd unit passes
 * `systemd-analyze verify` and starts a worker the way the CLI accepts;
 * the cloud-init user-data is `#cloud-config` YAML that writes that very
 * unit, the keys it names, and starts it.
 *
 * @module
 */
import assert from "node:assert/strict";
import YAML from "yaml";
import { parseCommand } from "../core/cli.ts";
import { workerCommand } from "../worker/cli.ts";
import { ROOT, runTreecast, startReady } from "./helpers/run.ts";

const UNIT = `${ROOT}deploy/treecast-worker.service`;
const CLOUD_INIT = `${ROOT}deploy/cloud-init.yaml`;

/** The `Key=value` lines of a unit's section. */
function section(unit: string, name: string): Map<string, string> {
  const body = unit.split(/^\[/m).find((s) => s.startsWith(`${name}]`));
  assert.ok(body, `a [${name}] section`);
  return new Map(
    body.split("\n").slice(1).filter((l) => /^\w+=/.test(l)).map((l) => {
      const i = l.indexOf("=");
      return [l.slice(0, i), l.slice(i + 1)];
    }),
  );
}

/**
 * Runs `systemd-analyze verify` on `unit` in a scratch root holding the
 * system's own units and a stand-in at the unit's ExecStart path (verify
 * checks that it is executable). Returns its exit code and all it printed.
 */
async function verify(unit: string): Promise<{ code: number; out: string }> {
  const root = await Deno.makeTempDir({ prefix: "treecast-unit-" });
  try {
    const exec = section(unit, "Service").get("ExecStart")!.split(" ")[0]!;
    await Deno.mkdir(`${root}/etc/systemd/system`, { recursive: true });
    await Deno.mkdir(`${root}/usr/lib/systemd`, { recursive: true });
    await Deno.mkdir(`${root}${exec.slice(0, exec.lastIndexOf("/"))}`, {
      recursive: true,
    });
    await new Deno.Command("cp", {
      args: ["-r", "/usr/lib/systemd/system", `${root}/usr/lib/systemd/`],
    }).output();
    await Deno.writeTextFile(`${root}${exec}`, "#!/bin/sh\n", { mode: 0o755 });
    await Deno.writeTextFile(
      `${root}/etc/systemd/system/treecast-worker.service`,
      unit,
    );
    const r = await new Deno.Command("systemd-analyze", {
      args: ["verify", "--man=no", `--root=${root}`, "treecast-worker.service"],
      stdout: "piped",
      stderr: "piped",
    }).output().catch((e) => {
      throw e instanceof Deno.errors.NotFound
        ? new Error("systemd-analyze is missing: apt-get install systemd")
        : e;
    });
    const dec = new TextDecoder();
    return {
      code: r.code,
      out: (dec.decode(r.stdout) + dec.decode(r.stderr)).trim(),
    };
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("deploy/treecast-worker.service: systemd-analyze verify passes with nothing to say, and catches a bad key", async () => {
  const unit = await Deno.readTextFile(UNIT);
  assert.deepEqual(await verify(unit), { code: 0, out: "" });
  const bad = await verify(unit.replace("Restart=on-failure", "Restart=bogus"));
  assert.match(bad.out, /Failed to parse service restart specifier/);
});

Deno.test("deploy/treecast-worker.service: restarts on failure, as a dedicated user, a worker with CURVE keys", async () => {
  const service = section(await Deno.readTextFile(UNIT), "Service");
  assert.equal(service.get("Restart"), "on-failure");
  assert.ok(!["", "root", undefined].includes(service.get("User")));
  const [exe, cmd, ...args] = service.get("ExecStart")!.split(" ");
  assert.equal(exe, "/usr/local/bin/treecast");
  assert.equal(cmd, "worker");
  const { values } = parseCommand(workerCommand.spec, args);
  assert.equal(values["curve-key"], "/etc/treecast/workers.key");
  assert.deepEqual(values["curve-allow"], ["/etc/treecast/manager.pub"]);
  assert.equal(values.bind, "0.0.0.0:9000");
});

Deno.test("deploy/treecast-worker.service: its ExecStart starts a worker with keys made by treecast keygen", async () => {
  const exec = section(await Deno.readTextFile(UNIT), "Service").get(
    "ExecStart",
  )!;
  const dir = await Deno.makeTempDir({ prefix: "treecast-unit-keys-" });
  try {
    for (const name of ["workers", "relay", "manager"]) {
      const r = await runTreecast(["keygen", `${dir}/${name}`]);
      assert.equal(r.code, 0, r.stderr);
    }
    // The unit's flags, with the keys here and a free loopback port.
    const args = exec.split(" ").slice(1).map((a) =>
      a.startsWith("/etc/treecast/")
        ? `${dir}/${a.slice("/etc/treecast/".length)}`
        : a === "0.0.0.0:9000"
        ? "127.0.0.1:0"
        : a
    );
    assert.ok(args.includes("127.0.0.1:0"), args.join(" "));
    const w = await startReady(args);
    assert.equal((await w.stop()).code, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deploy/cloud-init.yaml: #cloud-config that installs the executable, writes the unit and its keys, starts it", async () => {
  const text = await Deno.readTextFile(CLOUD_INIT);
  assert.equal(text.split("\n")[0], "#cloud-config");
  const doc = YAML.parse(text);
  const known = ["users", "packages", "write_files", "runcmd"];
  assert.deepEqual(Object.keys(doc).filter((k) => !known.includes(k)), []);
  const user = section(await Deno.readTextFile(UNIT), "Service").get("User");
  assert.ok(doc.users.some((u: { name?: string }) => u.name === user));
  assert.ok(doc.packages.includes("chrony"));
  const files = new Map<string, Record<string, unknown>>(
    doc.write_files.map((f: Record<string, unknown>) => [f.path, f]),
  );
  for (const f of files.values()) {
    assert.equal(typeof f.content, "string");
    assert.match(String(f.permissions), /^0[0-7]{3}$/);
  }
  const unit = files.get("/etc/systemd/system/treecast-worker.service");
  assert.equal(unit?.content, await Deno.readTextFile(UNIT), "the same unit");
  // The keys the unit names, readable by its user only where secret.
  assert.equal(files.get("/etc/treecast/workers.key")?.permissions, "0600");
  assert.equal(
    files.get("/etc/treecast/workers.key")?.owner,
    `${user}:${user}`,
  );
  assert.equal(files.get("/etc/treecast/relay.key")?.permissions, "0600");
  assert.ok(files.has("/etc/treecast/manager.pub"));
  const run = (doc.runcmd as string[][]).map((c) => c.join(" "));
  assert.ok(run.some((c) => c.includes("-o /usr/local/bin/treecast")));
  assert.ok(run.includes("chmod 0755 /usr/local/bin/treecast"));
  assert.equal(run.at(-1), "systemctl enable --now treecast-worker.service");
});
