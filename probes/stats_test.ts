import assert from "node:assert/strict";
import * as hdr from "hdr-histogram-js";
import { LatencyStats, nearestRank, percentileOf } from "./stats.ts";
import { SERIES_CAP } from "./defaults.ts";

Deno.test("nearest rank: for 1..10, p25=3 p50=5 p75=8 p90=9 p99=10", () => {
  const v = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  assert.deepEqual(
    [25, 50, 75, 90, 99, 99.9, 100].map((p) => percentileOf(v, p)),
    [
      3,
      5,
      8,
      9,
      10,
      10,
      10,
    ],
  );
  assert.equal(nearestRank(0, 10), 1);
  assert.equal(nearestRank(10, 12), 2); // ceil(1.2), where rounding would give 1
  assert.equal(nearestRank(29, 100), 29);
  assert.equal(nearestRank(99.9, 1000), 999);
});

Deno.test("LatencyStats reports nearest-rank percentiles (1..10 ns: exact buckets)", () => {
  const s = new LatencyStats();
  for (let v = 10; v >= 1; v--) s.record(v, 0); // 1..10 ns, out of order
  const sum = s.summary();
  assert.deepEqual(
    [sum.min, sum.p25, sum.p50, sum.p75, sum.p90, sum.p99, sum.p999, sum.max],
    [0.001, 0.003, 0.005, 0.008, 0.009, 0.01, 0.01, 0.01],
  );
  assert.equal(sum.mean, 0.006); // 5.5 ns, to the ns
});

Deno.test("LatencyStats reports µs; mean and stddev are exact", () => {
  const s = new LatencyStats();
  for (let v = 1; v <= 10; v++) s.record(v * 1000, 0); // 1..10 µs
  const sum = s.summary();
  assert.equal(sum.min, 1);
  assert.equal(sum.max, 10);
  assert.equal(sum.p50, 5.003); // 5000 ns sits in a 4 ns wide bucket: its top
  assert.equal(sum.p90, 9.007);
  assert.equal(sum.mean, 5.5);
  assert.equal(sum.stddev, Math.round(Math.sqrt(8.25) * 1e3) / 1000); // 2.872 µs
});

Deno.test("LatencyStats percentiles stay within 0.1% of the exact ones", () => {
  const s = new LatencyStats();
  const xs: number[] = [];
  let seed = 7;
  for (let i = 0; i < 5000; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const x = 20_000 + (seed % 80_000); // 20..100 µs in ns
    xs.push(x);
    s.record(x, 0);
  }
  xs.sort((a, b) => a - b);
  const sum = s.summary();
  for (
    const [p, got] of [[50, sum.p50], [90, sum.p90], [99, sum.p99]] as const
  ) {
    const exact = percentileOf(xs, p) / 1000;
    assert.ok(
      got! >= exact && got! <= exact * 1.001,
      `p${p}: ${got} vs ${exact}`,
    );
  }
});

Deno.test("negative delays are recorded as 0 and counted", () => {
  const s = new LatencyStats();
  s.record(-5000, 0);
  s.record(3000, 0);
  assert.equal(s.negative, 1);
  assert.equal(s.count, 2);
  assert.equal(s.summary().min, 0);
  assert.equal(s.summary().max, 3);
});

Deno.test("an empty LatencyStats reports nulls, not zeros", () => {
  const s = new LatencyStats();
  assert.equal(s.summary().p50, null);
  assert.deepEqual(s.series(), []);
  assert.equal(
    hdr.decodeFromCompressedBase64(s.encodedHistogram()).totalCount,
    0,
  );
});

Deno.test("the per-second series has p50, p90 and stddev of each second", () => {
  const s = new LatencyStats();
  for (let v = 1; v <= 10; v++) s.record(v * 1000, 0);
  for (let i = 0; i < 4; i++) s.record(50_000, 2); // second 1 had nothing
  assert.deepEqual(s.series(), [
    { t: 0, count: 10, p50_us: 5.003, p90_us: 9.007, stddev_us: 2.872 },
    { t: 2, count: 4, p50_us: 50, p90_us: 50, stddev_us: 0 }, // clamped to the exact max
  ]);
});

Deno.test("the series is capped, later seconds are counted as dropped", () => {
  const s = new LatencyStats();
  for (let t = 0; t < SERIES_CAP + 5; t++) s.record(1000, t);
  assert.equal(s.series().length, SERIES_CAP);
  assert.equal(s.seriesDropped, 4); // the last second is still open
});

Deno.test("the encoded histogram decodes to the recorded nanoseconds", () => {
  const s = new LatencyStats();
  for (let v = 1; v <= 1000; v++) s.record(v * 100, 0);
  const h = hdr.decodeFromCompressedBase64(s.encodedHistogram());
  assert.equal(h.totalCount, 1000);
  assert.ok(Math.abs(h.getValueAtPercentile(50) - 50_000) <= 50);
  assert.ok(Math.abs(h.maxValue - 100_000) <= 100);
});
