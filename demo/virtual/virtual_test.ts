import assert from "node:assert/strict";
import {
  decodeMessageLog,
  type MessageLog,
  NOT_RECEIVED,
} from "../../core/message_log.ts";
import { type JobStart, JobTable } from "../../worker/jobs.ts";
import { NetworkModel } from "./model.ts";
import { virtualRunner } from "./probe.ts";
import { StreamRegistry } from "./streams.ts";

/** The value at quantile `p` of the received (non-NaN) delays. */
function quantile(a: Float64Array, p: number): number {
  const s = [...a].filter((x) => !Number.isNaN(x)).sort((x, y) => x - y);
  return s[Math.floor(p * (s.length - 1))]!;
}

Deno.test("the model is reproducible from its seed and makes the share of stragglers asked", () => {
  const a = new NetworkModel({ seed: 11, vms: 200, stragglers: 0.05 });
  const b = new NetworkModel({ seed: 11, vms: 200, stragglers: 0.05 });
  const c = new NetworkModel({ seed: 12, vms: 200, stragglers: 0.05 });
  assert.equal(a.stragglers().length, 10);
  assert.deepEqual(a.vms, b.vms);
  assert.notDeepEqual(a.stragglers(), c.stragglers());
  const zeros = new Float64Array(500);
  assert.deepEqual(a.hop(3, 4, 77, zeros), b.hop(3, 4, 77, zeros));
  // Another stream over the same link draws other delays.
  assert.notDeepEqual(a.hop(3, 4, 77, zeros), a.hop(3, 4, 78, zeros));
});

Deno.test("a straggler keeps its median but its tail grows 2-10x", () => {
  // The same VMs (their draws depend on the seed only), with and without
  // stragglers.
  const slow = new NetworkModel({ seed: 7, vms: 60, stragglers: 0.1 });
  const same = new NetworkModel({ seed: 7, vms: 60, stragglers: 0 });
  const from = slow.vms.find((v) => !v.straggler)!.index;
  const spread = (m: NetworkModel, to: number) => {
    const d = m.hop(from, to, 1, new Float64Array(20_000));
    return {
      p50: quantile(d, 0.5),
      tail: quantile(d, 0.99) - quantile(d, 0.5),
    };
  };
  assert.equal(slow.stragglers().length, 6);
  for (const v of slow.vms.filter((v) => v.straggler)) {
    assert.ok(v.tail >= 2 && v.tail <= 10, `tail x${v.tail}`);
    const bad = spread(slow, v.index);
    const good = spread(same, v.index);
    assert.ok(Math.abs(bad.p50 / good.p50 - 1) < 0.1, `VM ${v.index}: p50`);
    const worse = bad.tail / good.tail;
    assert.ok(worse > 1.5 && worse <= v.tail, `VM ${v.index}: x${worse}`);
  }
});

/** A job of the real job table whose probe is virtual. */
function job(kind: JobStart["kind"], args: string[]): JobStart {
  return {
    flag: kind === "parent" ? "PARENT" : kind === "proxy" ? "PROXY" : "CHILD",
    kind,
    args,
    owner: "test",
    instr: "",
    params: [],
    deps: [],
    timeoutMs: 5000,
    expectedMs: 400,
    emulate: "",
    advertise: "127.0.0.1",
    io: "deno",
  };
}

Deno.test("virtual jobs in the real job table: a message lost above a proxy is lost at every leaf below it, and each leaf writes the real per-message log", async () => {
  // Heavy loss, so that shared and independent losses differ by far.
  const reg = new StreamRegistry(
    new NetworkModel({ seed: 5, vms: 4, stragglers: 0, loss: 0.3 }),
  );
  const tables = [0, 1, 2, 3].map((vm) =>
    new JobTable({ runner: virtualRunner(reg, vm) })
  );
  const dir = await Deno.makeTempDir();
  const rx = ["--duration", "0.4", "--timeout", "5", "--io", "deno"];
  const shape = ["--rate", "1000", "--warmup", "0.1"];
  try {
    const leaves = await Promise.all(
      [2, 3].map((vm) =>
        tables[vm]!.start(job("child", [
          "--bind",
          "127.0.0.1:0",
          ...rx,
          "--messages",
          `${dir}/${vm}.tcml`,
          ...shape,
        ]))
      ),
    );
    const proxy = await tables[1]!.start(job("proxy", [
      "--bind",
      "127.0.0.1:0",
      "--to",
      leaves.map((l) => l.job.addr).join(","),
      "--record",
      ...rx,
    ]));
    const root = await tables[0]!.start(job("parent", [
      "--to",
      proxy.job.addr,
      "--duration",
      "0.3",
      "--warmup",
      "0.1",
      "--rate",
      "1000",
    ]));
    await Promise.all([root, proxy, ...leaves].map((r) => r.done));
    for (const r of [root, proxy, ...leaves]) {
      assert.equal(r.job.ret, 0, r.job.error);
    }
    assert.equal(root.job.sender?.children, 1);
    const lostAtProxy = proxy.job.stats!.lost;
    assert.equal(proxy.job.stats!.received + lostAtProxy, 300);
    const logs: MessageLog[] = [];
    for (const [i, leaf] of leaves.entries()) {
      const s = leaf.job.stats!;
      assert.equal(s.received + s.lost, 300);
      assert.ok(s.endSeen);
      assert.ok(s.histogram.length > 0);
      assert.equal(s.hops, 1);
      logs.push(decodeMessageLog(await Deno.readFile(`${dir}/${2 + i}.tcml`)));
    }
    // The range a real child writes: the 300 measured messages after 100 WARMUP.
    for (const log of logs) {
      assert.equal(log.firstSeq, 100);
      assert.equal(log.delaysNs.length, 300);
    }
    const lost = (log: MessageLog, m: number) =>
      log.delaysNs[m] === NOT_RECEIVED;
    let both = 0;
    for (let m = 0; m < 300; m++) {
      if (lost(logs[0]!, m) && lost(logs[1]!, m)) both++;
    }
    // Every message the proxy lost is lost at both leaves: ~30 % of them,
    // where independent paths would lose ~26 % at both.
    assert.ok(
      both >= lostAtProxy,
      `${both} lost at both, ${lostAtProxy} above`,
    );
    assert.ok(lostAtProxy / 300 > 0.2, `${lostAtProxy} of 300 lost above`);
  } finally {
    await Promise.all(tables.map((t) => t.close()));
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a virtual job stopped like a probe (SIGTERM) ends at once with its partial result and exit 130", async () => {
  const reg = new StreamRegistry(new NetworkModel({ seed: 1, vms: 2 }));
  const tables = [0, 1].map((vm) =>
    new JobTable({ runner: virtualRunner(reg, vm) })
  );
  try {
    const leaf = await tables[1]!.start(job("child", [
      "--bind",
      "127.0.0.1:0",
      "--duration",
      "60",
      "--timeout",
      "70",
    ]));
    const root = await tables[0]!.start(job("parent", [
      "--to",
      leaf.job.addr,
      "--duration",
      "60",
      "--rate",
      "1000",
    ]));
    assert.equal(reg.size, 2);
    leaf.stop();
    root.stop();
    await Promise.all([leaf.done, root.done]);
    assert.equal(leaf.job.ret, 130);
    assert.equal(root.job.ret, 130);
    assert.ok(leaf.job.stats!.received < 60_000);
    assert.equal(leaf.job.stats!.endSeen, false);
    assert.ok(root.job.sender!.sent < 60_000);
    assert.equal(reg.size, 0, "the stopped probes' addresses are free again");
  } finally {
    await Promise.all(tables.map((t) => t.close()));
  }
});
