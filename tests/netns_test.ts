/**
 * The deployment shape on one machine: one network namespace per worker
 * (its own address in 198.18.0.0/15, reached over a bridge), workers bound
 * to 0.0.0.0 and advertising their namespace's address. Needs root (CI has
 * it); without root these tests are ignored and say why.
 *
 * @module
 */
import assert from "node:assert/strict";
import { MessageLog } from "../core/node.ts";
import { Experiment } from "../manager/experiment.ts";
import { Manager } from "../manager/manager.ts";
import { leftovers, netnsPrefix } from "../demo/netns.ts";
import { parseScript } from "../manager/script.ts";
import { cgroupLeftovers, cpuControllerRoot } from "../demo/straggle.ts";
import { NETNS_PORT, startTestbed } from "../demo/testbed.ts";
import { alive } from "./helpers/proc.ts";
import { rootMissing, UNPRIVILEGED } from "./helpers/root.ts";
import { treecastArgs } from "./helpers/run.ts";
import { assertResultsSchema } from "./helpers/schema.ts";

const noRoot = rootMissing("netns_test");
const CG = noRoot ? "" : cpuControllerRoot().root;

/** Fails when `text` names loopback or a wildcard address. */
function assertNoHostAddr(text: string, what: string): void {
  for (const a of ["127.0.0.1", "0.0.0.0"]) {
    assert.ok(!text.includes(a), `${what} names ${a}`);
  }
}

/** Every JSON line of a log file. */
async function jsonLines(path: string): Promise<Record<string, unknown>[]> {
  const text = await Deno.readTextFile(path);
  return text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
}

Deno.test({
  name:
    "cross-host: on 3 namespaces every probe binds its namespace's address, results name only namespace addresses, no 127.0.0.1 or 0.0.0.0 in any command or result",
  ignore: noRoot !== undefined,
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "treecast-netns-" });
    const bed = await startTestbed({
      workers: 3,
      netns: true,
      // Generous deadlines: on a loaded machine a worker may take seconds to
      // start a probe while its warm probes are still starting.
      relayTimeoutS: 8,
      workerArgs: (
        i,
      ) => ["--log", `${dir}/w${i}.jsonl`, "--log-level", "debug"],
    });
    const net = bed.netns!;
    const pids = bed.workers.map((w) => w.child.pid);
    const inNet = (a: string) => a.startsWith(net.subnet.replace(/0\/24$/, ""));
    let results;
    try {
      assert.deepEqual(
        bed.addrs,
        net.hosts.map((h) => `${h.addr}:${NETNS_PORT}`),
      );
      const m = new Manager({
        timeoutMs: 10_000,
        retries: 1,
        log: new MessageLog({ path: `${dir}/manager.jsonl`, level: "debug" }),
      });
      try {
        // A chain root -> proxy -> leaf: parent, child and proxy probes all run.
        const script = parseScript(
          `name: NETNS
seed: 3
addrs: [${bed.addrs.map((a) => `"${a}"`).join(", ")}]
depth: 2
fanout: 1
hyperparameter: 1
rate: 500
duration: 300ms
warmup: 100ms
evaluation: { rate: 500, duration: 300ms, warmup: 100ms, runs: 1 }
root: "${bed.addrs[0]}"
trees: [{ type: BEST, strategy: P90 }]
timeouts: { request: 10, retries: 1, job_grace: 10 }
`,
          "netns.yaml",
        );
        results = await new Experiment(script, {
          manager: m,
          testbed: bed.info,
        }).run();
      } finally {
        m.close();
      }
    } finally {
      await bed.stop();
    }
    assert.equal(results.status, "complete");
    assertResultsSchema(JSON.parse(JSON.stringify(results)));
    assert.equal(results.testbed?.kind, "netns");
    assert.deepEqual(results.workers.map((w) => w.addr), bed.addrs);
    const t = results.trees[0]!;
    const named = [
      ...t.nodes,
      ...t.stages.flatMap((
        s,
      ) => [s.parent, ...s.candidates.map((c) => c.addr)]),
      ...t.evaluations.flatMap((e) => e.nodes.map((n) => n.addr)),
    ];
    assert.equal(t.evaluations[0]!.nodes.length, 3);
    // Each receiver took its stream from its parent's host only (--from).
    const leaf = t.evaluations[0]!.nodes.find((n) => n.role === "leaf");
    assert.ok(
      leaf?.stats && leaf.stats.received > 0,
      "the leaf got the stream",
    );
    assert.deepEqual(t.evaluations[0]!.silent ?? [], []);
    for (const a of named) assert.ok(a && inNet(a), `${a} in ${net.subnet}`);
    assertNoHostAddr(JSON.stringify(results), "results");

    // What each worker ran: every probe bound to its own address, every
    // sender's targets the other namespaces' probe addresses.
    const kinds = new Set<string>();
    for (const [i, h] of net.hosts.entries()) {
      const lines = await jsonLines(`${dir}/w${i}.jsonl`);
      // Only the worker's own control socket is bound to the wildcard.
      assertNoHostAddr(
        JSON.stringify(lines.filter((l) => l.event !== "listening")),
        `w${i} log`,
      );
      for (const e of lines.filter((l) => l.event === "job started")) {
        const [kind, ...args] = e.args as string[];
        kinds.add(kind!);
        const flag = (f: string) => args[args.indexOf(f) + 1]!;
        assert.equal(flag("--bind"), `${h.addr}:0`, `${kind} on w${i}`);
        if (kind !== "parent") {
          const from = flag("--from");
          assert.ok(inNet(from) && from !== h.addr, `${kind} from ${from}`);
        }
        if (kind !== "child") {
          for (const to of flag("--to").split(",")) {
            assert.ok(inNet(to) && !to.startsWith(`${h.addr}:`), to);
          }
        }
      }
    }
    assert.deepEqual([...kinds].sort(), ["child", "parent", "proxy"]);
    const sent = await jsonLines(`${dir}/manager.jsonl`);
    assert.ok(sent.some((l) => l.type === "COMMAND"));
    assertNoHostAddr(JSON.stringify(sent), "manager log");

    assert.deepEqual(await leftovers(net.prefix), { netns: [], links: [] });
    assert.deepEqual(pids.filter(alive), [], "workers left running");
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name:
    "treecast demo --netns --straggle cpu: Ctrl-C mid-stage removes every namespace, link, cgroup and process; exit 130",
  ignore: noRoot !== undefined,
  fn: async () => {
    const out = await Deno.makeTempDir({ prefix: "treecast-netns-demo-" });
    const demo = new Deno.Command(Deno.execPath(), {
      args: treecastArgs([
        "demo",
        "--netns",
        "--workers",
        "8",
        "--stragglers",
        "1",
        "--straggle",
        "cpu",
        "--out",
        out,
      ]),
      env: { NO_COLOR: "1" },
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const prefix = netnsPrefix(demo.pid);
    let stderr = "";
    let during: Awaited<ReturnType<typeof leftovers>> | undefined;
    let groupsDuring: string[] = [];
    let inGroups: number[] = [];
    for await (
      const chunk of demo.stderr.pipeThrough(new TextDecoderStream())
    ) {
      stderr += chunk;
      if (!during && /stage 1\/\d+: /.test(stderr)) {
        during = await leftovers(prefix);
        groupsDuring = cgroupLeftovers(prefix);
        // The straggler's worker and probes, and its CPU hog.
        inGroups = groupsDuring.flatMap((g) =>
          ["main", "hog"].flatMap((sub) =>
            Deno.readTextFileSync(
              `${CG}/${g}/${sub}/cgroup.procs`,
            ).split("\n").filter((l) => l !== "").map(Number)
          )
        );
        demo.kill("SIGINT");
      }
    }
    const status = await demo.status;
    assert.ok(during, `the demo reached a stage:\n${stderr}`);
    assert.equal(during.netns.length, 8, "8 namespaces while it ran");
    assert.equal(groupsDuring.length, 1, "1 CPU cgroup while it ran");
    assert.equal(status.code, 130, stderr);
    assert.match(stderr, /demo: stopped 8 workers, removed the namespaces/);
    assert.deepEqual(await leftovers(prefix), { netns: [], links: [] });
    assert.deepEqual(cgroupLeftovers(prefix), []);
    assert.ok(
      inGroups.length >= 2,
      `worker and hog in the cgroup: ${inGroups}`,
    );
    assert.deepEqual(inGroups.filter(alive), [], "processes left running");
    await Deno.remove(out, { recursive: true });
  },
});

Deno.test({
  name:
    "treecast demo --netns without root exits 2 with one error line saying so",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    // As root, unshare --user runs it with the same files but uid 65534 and
    // no capabilities; without root, it runs as it is.
    const argv = [
      ...(Deno.uid() === 0 ? UNPRIVILEGED : []),
      Deno.execPath(),
      ...treecastArgs(["demo", "--netns"]),
    ];
    const out = await new Deno.Command(argv[0]!, {
      args: argv.slice(1),
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const err = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 2, err);
    const errors = err.split("\n").filter((l) => l.startsWith("error:"));
    assert.deepEqual(errors, [
      'error: "--netns" needs root (it creates network namespaces and links); run it as root',
    ]);
  },
});
