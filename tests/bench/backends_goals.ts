/**
 * #11's goals for the probe backends, from a {@link BackendBenchResult}:
 * what each asks, the ratio measured in the same run, met or not.
 *
 * @module
 */
import type { BackendBenchResult } from "./backends.ts";
import { r1 } from "./_util.ts";

/** #11's goals, measured: what each asks, the ratio found, met or not. */
export function backendGoals(
  r: BackendBenchResult,
): { goal: string; measured: string; met: boolean }[] {
  const out: { goal: string; measured: string; met: boolean }[] = [];
  const n = r.backends.find((b) => b.io === "native");
  const dn = r.backends.find((b) => b.io === "deno");
  if (n) {
    const k = n.timestamps;
    const x = n.recv.ratio, o = n.owd.ratio, f = n.fanout;
    out.push({
      goal:
        `native child (${k} ts) vs C receiver (${k} ts), same C stream: p50, p90, p99 <= 1.15 x; stddev <= 2 x`,
      measured:
        `p50 ${x.p50} x, p90 ${x.p90} x, p99 ${x.p99} x, stddev ${x.stddev} x (${n.recv.treecast_us.p50} vs ${n.recv.c_us.p50} µs p50)`,
      met: x.p50 <= 1.15 && x.p90 <= 1.15 && x.p99 <= 1.15 && x.stddev <= 2,
    }, {
      goal:
        `parent -> child (native, ${k}) vs C -> C (${k}): p50 <= 1.2 x, p99 <= 2 x, stddev <= 3 x`,
      measured:
        `p50 ${o.p50} x, p99 ${o.p99} x, stddev ${o.stddev} x (${n.owd.treecast_us.p50} vs ${n.owd.c_us.p50} µs p50)`,
      met: o.p50 <= 1.2 && o.p99 <= 2 && o.stddev <= 3,
    }, {
      goal:
        "CPU per stream second (native parent + child) <= 1.5 x C's (sender + receiver)",
      measured:
        `${n.cpu_per_stream_s.ratio} x (parent ${n.cpu_per_stream_s.parent} + child ${n.cpu_per_stream_s.child} vs ${n.cpu_per_stream_s.c_sender} + ${n.cpu_per_stream_s.c_receiver} s/s)`,
      met: n.cpu_per_stream_s.ratio <= 1.5,
    }, {
      goal:
        `native proxy, ${f.children} children x ${r.rate} pps: no loss in >= 9 of 10 runs`,
      measured:
        `${f.treecast_lossless_runs} of ${f.runs} runs lossless (C forwarder ${f.c_lossless_runs} of ${f.runs})`,
      met: f.runs > 0 && f.treecast_lossless_runs >= 0.9 * f.runs,
    }, {
      goal:
        "native proxy fan-out added delay: p50 <= 1.2 x, p99 <= 2 x the C forwarder's",
      measured:
        `p50 ${f.ratio_p50} x (${f.treecast_added_us.p50} vs ${f.c_added_us.p50} µs), p99 ${f.ratio_p99} x (${f.treecast_added_us.p99} vs ${f.c_added_us.p99} µs)`,
      met: f.ratio_p50 <= 1.2 && f.ratio_p99 <= 2,
    }, {
      goal:
        `native sender, ${n.schedule.children} children x ${r.rate} pps: on-time share >= C's - 1 point`,
      measured: `${r1(n.schedule.treecast_on_time * 100)} % vs C ${
        r1(n.schedule.c_on_time * 100)
      } %`,
      met: n.schedule.treecast_on_time >= n.schedule.c_on_time - 0.01,
    });
  }
  if (dn) {
    out.push({
      goal: "Deno datagram backend (user ts) vs C (user): OWD p50 <= 2.5 x",
      measured:
        `${dn.owd.ratio.p50} x (${dn.owd.treecast_us.p50} vs ${dn.owd.c_us.p50} µs)`,
      met: dn.owd.ratio.p50 <= 2.5,
    });
  }
  return out;
}
