import assert from "node:assert/strict";
import { mulberry32 } from "./emulate.ts";
import { KEEP, OffsetEstimator, offsetSample } from "./offset.ts";

/**
 * Echoes of a pair whose receiver clock is `thetaNs` ahead, with one-way
 * delays of `baseNs` plus an independent jitter in [0, jitterNs) per
 * direction (so the two directions are asymmetric on every echo).
 */
function simulate(
  thetaNs: number,
  o: { baseNs: number; jitterNs: number; echoes: number; seed: number },
): OffsetEstimator {
  const rnd = mulberry32(o.seed);
  const est = new OffsetEstimator();
  for (let i = 0; i < o.echoes; i++) {
    const t1 = 1e9 + i * 1e7; // sender's clock
    const d1 = o.baseNs + o.jitterNs * rnd();
    const hold = 2000 * rnd(); // the receiver's time to send the echo
    const d2 = o.baseNs + o.jitterNs * rnd();
    const t2 = t1 + d1 + thetaNs; // receiver's clock
    const t3 = t2 + hold;
    const t4 = t3 - thetaNs + d2;
    est.add(t1, t2, t3, t4);
  }
  return est;
}

Deno.test("the estimate of a simulated offset with jitter is within its bound", () => {
  for (const thetaNs of [300_000, -300_000, 0, 20_000, -1_234_567]) {
    for (const seed of [1, 2, 3]) {
      const est = simulate(thetaNs, {
        baseNs: 40_000,
        jitterNs: 200_000,
        echoes: 100,
        seed,
      });
      const e = est.estimate()!;
      assert.equal(e.samples, 100);
      const err = Math.abs(e.offset_us - thetaNs / 1000);
      assert.ok(
        err <= e.bound_us + 0.001,
        `offset ${e.offset_us} us vs ${thetaNs / 1000} us: error ${err} us ` +
          `beyond the bound ${e.bound_us} us`,
      );
      // The bound is half the smallest round trip: at least the base delay.
      assert.ok(e.bound_us >= 40);
      assert.ok(Math.abs(e.bound_us - e.rtt_us / 2) <= 0.001);
      // 100 echoes with 200 us of jitter find a round trip near the floor.
      assert.ok(e.rtt_us < 80 + 100, `rtt ${e.rtt_us} us`);
    }
  }
});

Deno.test("the estimate comes from the smallest round trip, not the latest echo", () => {
  const est = new OffsetEstimator();
  // rtt 100 us, offset 50 us; then a slower echo with offset 500 us.
  est.add(0, 100_000, 100_000, 100_000);
  est.add(1e6, 1e6 + 900_000, 1e6 + 900_000, 1e6 + 800_000);
  const e = est.estimate()!;
  assert.equal(e.offset_us, 50);
  assert.equal(e.bound_us, 50);
  assert.equal(e.samples, 2);
  assert.deepEqual(est.best.map((s) => s.rttNs), [100_000, 800_000]);
});

Deno.test("the estimator keeps only the smallest round trips, and rejects negative ones", () => {
  const est = new OffsetEstimator();
  for (let i = 20; i > 0; i--) est.add(0, i * 1000, i * 1000, 2 * i * 1000);
  assert.equal(est.best.length, KEEP);
  assert.deepEqual(
    est.best.map((s) => s.rttNs),
    Array.from({ length: KEEP }, (_, i) => (i + 1) * 2000),
  );
  est.add(1000, 0, 0, 0); // t4 before t1: a round trip below zero
  assert.equal(est.rejected, 1);
  assert.equal(est.samples, 20);
  assert.equal(new OffsetEstimator().estimate(), null);
});

Deno.test("offsetSample is the NTP formula", () => {
  // Receiver 1 ms ahead, 100 us each way, 10 us to echo.
  const s = offsetSample(0, 1_100_000, 1_110_000, 210_000);
  assert.equal(s.rttNs, 200_000);
  assert.equal(s.offsetNs, 1_000_000);
});
