import assert from "node:assert/strict";
import { MAX_MESSAGE_BYTES } from "../core/transport.ts";
import { emptyJob, encode, type Job } from "../proto/codec.ts";
import { probeStats } from "../proto/_fixtures.ts";
import { compactDeps } from "./compact.ts";

/** A receiver's job as an evaluation reports it: 4 KB of histogram, 4 s of series. */
function receiver(name: string, flag: "CHILD" | "PROXY", deps: Job[]): Job {
  return emptyJob({
    flag,
    owner: `198.18.${name}:9000`,
    id: `5f3c9a1e04b2.${name.length * 7}`,
    instr: "BEST-P90 evaluation 1 after rebuild 2",
    end: true,
    params: [10_000, 3000, 1000, 24, deps.length ? 1 : 0],
    addr: `198.18.${name}:40001`,
    started: 1715280981565948,
    expectedEnd: 1715280985565948,
    ended: 1715280985601234,
    io: "NATIVE",
    deps,
    stats: {
      ...probeStats(120.5),
      received: 29_998,
      lost: 2,
      histogram: "H".repeat(4000),
      series: [0, 1, 2, 3].map((t) => ({
        t,
        count: 10_000,
        p50Us: 80.25,
        p90Us: 120.5,
        stddevUs: 12.75,
      })),
      offsetUs: 12.5,
      offsetBoundUs: 3.25,
      offsetSamples: 300,
    },
    ...(deps.length
      ? { forward: { forwarded: 300_000, dropped: 0, malformed: 0 } }
      : {}),
  });
}

/** A subtree of `depth` layers below a job, fan-out `f`, compacted by each worker on the way up. */
function subtree(
  prefix: string,
  depth: number,
  f: number,
  compact: boolean,
): Job[] {
  return Array.from({ length: f }, (_, i) => {
    const name = `${prefix}.${i}`;
    if (depth === 1) return receiver(name, "CHILD", []);
    const below = subtree(name, depth - 1, f, compact);
    return receiver(name, "PROXY", compact ? compactDeps(below) : below);
  });
}

const rootReply = (deps: Job[]) =>
  encode({
    id: 9,
    ts: 1,
    type: "ACK",
    data: {
      src: "198.18.0.1:9000",
      dst: "manager@lab",
      report: {
        job: emptyJob({ flag: "MCAST", end: true, deps }),
        complete: true,
      },
    },
  });

Deno.test("a D=3 F=10 evaluation's nested REPORT stays under half the cap: no series, and no histograms once they would pass the budget", () => {
  const full = rootReply(subtree("1", 3, 10, false));
  assert.ok(
    full.length > MAX_MESSAGE_BYTES,
    `${full.length} bytes uncompacted`,
  );
  const deps = compactDeps(subtree("1", 3, 10, true));
  const bytes = rootReply(deps);
  assert.ok(bytes.length < MAX_MESSAGE_BYTES / 2, `${bytes.length} bytes`);
  const leaf = deps[0]!.deps[0]!.deps[0]!;
  assert.equal(leaf.stats!.histogram, "");
  assert.deepEqual(leaf.stats!.series, []);
  // Per leaf, the counters and percentiles stay.
  assert.equal(leaf.stats!.lost, 2);
  assert.equal(leaf.stats!.p90Us, 120.5);
});

Deno.test("a small evaluation (D=2 F=3) keeps every histogram and drops only the series", () => {
  const deps = compactDeps(subtree("1", 2, 3, true));
  const all = deps.flatMap((d) => [d, ...d.deps]);
  assert.equal(all.length, 12);
  for (const j of all) {
    assert.equal(j.stats!.histogram.length, 4000);
    assert.deepEqual(j.stats!.series, []);
  }
});
