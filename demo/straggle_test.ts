import assert from "node:assert/strict";
import { rootMissing } from "../tests/helpers/root.ts";
import { alive } from "../tests/helpers/proc.ts";
import { netnsPrefix } from "./netns.ts";
import {
  availableCpus,
  cgroupLeftovers,
  controllerRoot,
  CpuCgroup,
  cpuControllerRoot,
  parseCpuList,
  STRAGGLE_CPU,
} from "./straggle.ts";

const noRoot = rootMissing("demo/straggle_test", "cgroups");

Deno.test("cpuset lists read as CPUs; each controller is found in its v1 hierarchy, else in the v2 tree", () => {
  assert.deepEqual(parseCpuList("0-1\n"), [0, 1]);
  assert.deepEqual(parseCpuList("0,2-4,7"), [0, 2, 3, 4, 7]);
  const v1 = [
    "cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,relatime,cpu,cpuacct 0 0",
    "cgroup /sys/fs/cgroup/cpuset cgroup rw,relatime,cpuset 0 0",
    "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0",
  ].join("\n");
  assert.deepEqual(controllerRoot("cpu", v1), {
    root: "/sys/fs/cgroup/cpu,cpuacct",
    version: 1,
  });
  assert.deepEqual(controllerRoot("cpuset", v1), {
    root: "/sys/fs/cgroup/cpuset",
    version: 1,
  });
  const v2 = "cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid 0 0";
  assert.deepEqual(controllerRoot("cpuset", v2), {
    root: "/sys/fs/cgroup",
    version: 2,
  });
  assert.throws(
    () => controllerRoot("cpu", "proc /proc proc rw 0 0"),
    /No cgroup cpu/,
  );
});

/** `Cpus_allowed_list` of a process: the CPUs it may run on. */
function allowedCpus(pid: number): number[] {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return parseCpuList(/Cpus_allowed_list:\s*(\S+)/.exec(status)![1]!);
}

Deno.test({
  name:
    "a straggler's cgroup: 1 ms of CPU per 5 ms period, pinned to one CPU with its hog; remove() frees the worker and leaves no group",
  ignore: noRoot !== undefined,
  fn: async () => {
    const cpus = availableCpus();
    const cpu = cpus.at(-1)!;
    const name = `${netnsPrefix()}-t`;
    // A stand-in for the worker.
    const worker = new Deno.Command("sleep", {
      args: ["60"],
      stdout: "null",
      stderr: "null",
    }).spawn();
    const g = await CpuCgroup.create(name, STRAGGLE_CPU, cpu);
    let hog: number[] = [];
    try {
      const { root, version } = cpuControllerRoot();
      const read = (f: string) =>
        Deno.readTextFileSync(`${root}/${name}/${f}`).trim();
      if (version === 1) {
        assert.equal(read("cpu.cfs_period_us"), "5000");
        assert.equal(read("cpu.cfs_quota_us"), "1000");
      } else {
        assert.equal(read("cpu.max"), "1000 5000");
      }
      g.add(worker.pid);
      hog = g.pids("hog");
      assert.equal(hog.length, 1, "one hog");
      assert.deepEqual(g.pids(), [worker.pid]);
      for (const pid of [worker.pid, ...hog]) {
        assert.deepEqual(allowedCpus(pid), [cpu], `pid ${pid} pinned`);
      }
      assert.deepEqual(cgroupLeftovers(netnsPrefix()), [name]);
    } finally {
      await g.remove();
    }
    assert.deepEqual(cgroupLeftovers(netnsPrefix()), []);
    assert.ok(!alive(hog[0]!), "the hog is gone");
    assert.ok(alive(worker.pid), "the worker lives on, outside");
    assert.deepEqual(allowedCpus(worker.pid), cpus, "on every CPU again");
    worker.kill("SIGKILL");
    await worker.status;
  },
});
