/**
 * The child probe under load, for the memory benchmark (Linux /proc).
 *
 * A `treecast child` process (the command a worker starts) is fed measured
 * probe datagrams by a sender in this process, as fast as it goes up to
 * `rate` pps (far faster than a real stream), until it has received each
 * milestone (the benchmark: every 0.5M up to 10M packets). At a milestone
 * the sender pauses until the child's socket queue is empty, counts the
 * packets received as sent - kernel drops (`/proc/net/udp`), and reads the
 * child's VmRSS; then it goes on. At the end it sends END and reads the
 * child's own count from its result line.
 *
 * RSS is a sawtooth (the V8 heap grows and collects), so "flat" compares
 * peaks: the highest reading over the second half of the packets must be
 * within 10 % of the highest over the first half (a leak raises every later
 * peak). Reported beside it: RSS at 10 %, 50 % and 100 % of the packets
 * (1M, 5M, 10M), a least-squares slope over the readings after the first
 * 10 %, and the child's V8 heap after each major collection
 * (`_traced_child.ts`): a leak would grow the live heap.
 *
 * Figures only; nothing is asserted.
 *
 * @module
 */
import { RealtimeClock } from "../../probes/clock.ts";
import {
  FLAG_END,
  HEADER_BYTES,
  OFF_FLAGS,
  OFF_SEQ,
  OFF_TS_LO,
} from "../../probes/wire.ts";
import { TracedChild } from "./_traced_child.ts";
import { type Log, mib, r1, r3, sleep, statusKiB } from "./_util.ts";

/** One reading of the child under load. */
export interface ChildSample {
  /** The milestone (0 before the first packet). */
  milestone: number;
  /** Packets received when read (sent - kernel drops), a little past the milestone. */
  received: number;
  rss_mib: number;
  rss_anon_mib: number;
  /** V8 heap after the latest major collection: used (live) and committed, MiB. */
  live_heap_mib?: number;
  committed_heap_mib?: number;
  /** Major collections so far. */
  major_gcs?: number;
  elapsed_s: number;
}

/** The child-load part of the memory section's JSON. */
export interface ChildLoadResult {
  packets: number;
  rate_ceiling_pps: number;
  sent: number;
  kernel_drops: number;
  sent_pps: number;
  received_pps: number;
  /** Before the first packet (after a 1 s settle). */
  before: ChildSample;
  samples: ChildSample[];
  /** The readings at 10 %, 50 % and 100 % of the packets. */
  headline: ChildSample[];
  /** The child's own result line. */
  child_received: number;
  child_lost: number;
  child_stop: string;
  first_half_peak_mib: number;
  second_half_peak_mib: number;
  /** second half peak / first half peak - 1. */
  peak_growth_share: number;
  /** RSS at 100 % - RSS at 10 % of the packets. */
  growth_10_to_100_mib: number;
  /** Least-squares slope of RSS over packets after the first 10 %, bytes per packet. */
  slope_bytes_per_packet: number;
  /**
   * The child's V8 heap after each major collection (`--trace-gc`; null
   * when the child ran compiled, untraced): live (used) heap at the first
   * and last collection and its largest value; committed heap likewise.
   * A leak grows the live heap; a flat live heap with a growing committed
   * heap is V8 keeping space, not the probe holding packets.
   */
  v8_heap: {
    major_gcs: number;
    live_first_mib: number;
    live_max_mib: number;
    live_last_mib: number;
    committed_first_mib: number;
    committed_last_mib: number;
  } | null;
  goal: { peak_growth_share: number };
  met: boolean;
}

/** The child's socket in /proc/net/udp: bytes queued and datagrams dropped. */
function _socket(port: number): { queued: number; drops: number } {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  const line = Deno.readTextFileSync("/proc/net/udp").split("\n").find((l) =>
    l.trim().split(/\s+/)[1]?.endsWith(hex)
  );
  if (!line) throw new Error(`The child's UDP port ${port} is not bound`);
  const f = line.trim().split(/\s+/);
  // sl local rem st tx_queue:rx_queue tr:tm retrnsmt uid timeout inode ref pointer drops
  return {
    queued: parseInt(f[4]!.split(":")[1]!, 16),
    drops: Number(f[12]),
  };
}

/** Runs the child under load; see the module doc. */
export async function runChildLoad(
  milestones: number[],
  opts: { rate: number; log: Log },
): Promise<ChildLoadResult> {
  const { rate, log } = opts;
  const packets = Math.max(...milestones);
  // A generous duration: the child cuts the stream at 1.5 x duration.
  const duration = Math.max(60, Math.ceil(packets / 20_000));
  const child = await TracedChild.start([
    "--bind",
    "127.0.0.1:0",
    "--duration",
    String(duration),
    "--timeout",
    "30",
  ]);
  const bind = child.bind;
  const port = Number(bind.slice(bind.lastIndexOf(":") + 1));
  const to: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port };
  const conn = Deno.listenDatagram({
    transport: "udp",
    hostname: "127.0.0.1",
    port: 0,
  });
  const clock = new RealtimeClock();
  const BATCH = 64;
  const bufs = Array.from(
    { length: BATCH },
    () => new Uint8Array(HEADER_BYTES),
  );
  const views = bufs.map((b) => new DataView(b.buffer));
  const sample = (
    milestone: number,
    received: number,
    t0: number,
  ): ChildSample => {
    const r = {
      rss: statusKiB(child.pid, "VmRSS"),
      anon: statusKiB(child.pid, "RssAnon"),
    };
    const gc = child.majorGcs.at(-1);
    return {
      milestone,
      received,
      rss_mib: mib(r.rss),
      rss_anon_mib: mib(r.anon),
      ...(gc
        ? {
          live_heap_mib: gc.liveMiB,
          committed_heap_mib: gc.committedMiB,
          major_gcs: child.majorGcs.length,
        }
        : {}),
      elapsed_s: r1((performance.now() - t0) / 1000),
    };
  };
  let sent = 0, drops = 0;
  const samples: ChildSample[] = [];
  let before: ChildSample;
  let elapsed = 0;
  try {
    await sleep(1000);
    before = sample(0, 0, performance.now());
    const t0 = performance.now();
    const pending: Promise<number>[] = [];
    for (const goal of [...milestones].sort((a, b) => a - b)) {
      while (sent - drops < goal) {
        // Up to `rate`: never ahead of the schedule.
        const ahead = sent / rate * 1000 - (performance.now() - t0);
        if (ahead > 1) await sleep(ahead);
        const now = performance.now();
        // Never past the milestone by more than the kernel dropped.
        const n = Math.min(BATCH, goal - (sent - drops));
        for (let i = 0; i < n; i++) {
          const v = views[i]!;
          v.setUint32(OFF_SEQ, sent++, true);
          v.setUint32(OFF_FLAGS, 0, true);
          clock.writeNs(v, OFF_TS_LO, now);
          pending.push(conn.send(bufs[i]!, to));
        }
        await Promise.all(pending);
        pending.length = 0;
        if (sent % (BATCH * 32) < n || sent - drops >= goal) {
          drops = _socket(port).drops;
        }
      }
      // Let the child empty its socket, then count and read its memory.
      const drainBy = performance.now() + 500;
      while (_socket(port).queued > 0 && performance.now() < drainBy) {
        await sleep(2);
      }
      drops = _socket(port).drops;
      samples.push(sample(goal, sent - drops, t0));
      log(
        `child: ${sent - drops} received (${sent} sent), RSS ${
          samples.at(-1)!.rss_mib
        } MiB (anon ${samples.at(-1)!.rss_anon_mib}), V8 live heap ${
          samples.at(-1)!.live_heap_mib ?? "?"
        } MiB after ${samples.at(-1)!.major_gcs ?? "?"} major GCs`,
      );
    }
    elapsed = (performance.now() - t0) / 1000;
    const v = views[0]!;
    v.setUint32(OFF_SEQ, sent, true);
    v.setUint32(OFF_FLAGS, FLAG_END, true);
    for (let i = 0; i < 3; i++) {
      clock.writeNs(v, OFF_TS_LO, performance.now());
      await conn.send(bufs[0]!, to);
      await sleep(5);
    }
  } catch (e) {
    child.kill("SIGKILL");
    throw e;
  } finally {
    conn.close();
  }
  // END makes the child print its result and exit; a lost END would leave it
  // to its idle timeout (1 s), so it is stopped only if it is still there.
  const stop = setTimeout(() => child.kill("SIGTERM"), 5000);
  const { result: res, stderr } = await child.finish();
  clearTimeout(stop);
  if (!res) throw new Error(`The child printed no result: ${stderr.trim()}`);
  // The reading nearest to each share of the packets.
  const at = (share: number) =>
    samples.reduce((a, b) =>
      Math.abs(b.milestone - share * packets) <
          Math.abs(a.milestone - share * packets)
        ? b
        : a
    );
  const headline = [at(0.1), at(0.5), at(1)];
  const peak = (xs: ChildSample[]) => Math.max(...xs.map((x) => x.rss_mib));
  const firstHalf = samples.filter((x) => x.milestone <= packets / 2);
  const secondHalf = samples.filter((x) => x.milestone > packets / 2);
  const p1 = peak(firstHalf), p2 = peak(secondHalf);
  const settled = samples.filter((x) => x.milestone >= headline[0]!.milestone);
  const gcs = child.majorGcs;
  return {
    packets,
    rate_ceiling_pps: rate,
    sent,
    kernel_drops: drops,
    sent_pps: Math.round(sent / elapsed),
    received_pps: Math.round((sent - drops) / elapsed),
    before: before!,
    samples,
    headline,
    child_received: Number(res.received),
    child_lost: Number(res.lost),
    child_stop: String(res.stop),
    first_half_peak_mib: p1,
    second_half_peak_mib: p2,
    peak_growth_share: r3(p2 / p1 - 1),
    growth_10_to_100_mib: r1(headline[2]!.rss_mib - headline[0]!.rss_mib),
    slope_bytes_per_packet: r3(
      _slope(settled.map((x) => [x.received, x.rss_mib * 1024 * 1024])),
    ),
    v8_heap: gcs.length === 0 ? null : {
      major_gcs: gcs.length,
      live_first_mib: gcs[0]!.liveMiB,
      live_max_mib: Math.max(...gcs.map((g) => g.liveMiB)),
      live_last_mib: gcs.at(-1)!.liveMiB,
      committed_first_mib: gcs[0]!.committedMiB,
      committed_last_mib: gcs.at(-1)!.committedMiB,
    },
    goal: { peak_growth_share: 0.1 },
    met: p2 <= 1.1 * p1,
  };
}

/** Least-squares slope of y over x (0 for fewer than two points). */
function _slope(points: [number, number][]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  let sxy = 0, sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
  }
  return sxx === 0 ? 0 : sxy / sxx;
}
