import assert from "node:assert/strict";
import { RealtimeClock } from "./clock.ts";
import { OFF_TS_HI, OFF_TS_LO } from "./wire.ts";

Deno.test("the clock agrees with Temporal to well under a millisecond", () => {
  const c = new RealtimeClock();
  const ns = Temporal.Now.instant().epochNanoseconds;
  const mine = c.toNs(performance.now());
  assert.ok(Math.abs(Number(mine - ns)) < 200_000, `off by ${mine - ns} ns`);
});

Deno.test("writeNs and wireSinceBase round-trip to the nanosecond across a u32 carry", () => {
  const c = new RealtimeClock();
  const view = new DataView(new ArrayBuffer(24));
  // Times far enough from the base to cross several carries of the low half.
  for (const offsetMs of [0, 1.000001, 4294.967296, 9000.5, 123456.789]) {
    const mono = performance.now() + offsetMs;
    c.writeNs(view, OFF_TS_LO, mono);
    const wire = view.getBigUint64(OFF_TS_LO, true);
    assert.equal(wire, c.toNs(mono), `at +${offsetMs} ms`);
    const rel = c.wireSinceBase(
      view.getUint32(OFF_TS_HI, true),
      view.getUint32(OFF_TS_LO, true),
    );
    assert.equal(rel, Math.round(c.sinceBase(mono)), `at +${offsetMs} ms`);
    assert.equal(BigInt(rel), wire - c.baseNs);
  }
});

Deno.test("a delay computed from the split halves keeps nanosecond precision", () => {
  const c = new RealtimeClock();
  const view = new DataView(new ArrayBuffer(24));
  const sent = performance.now();
  c.writeNs(view, OFF_TS_LO, sent);
  const arrival = sent + 0.000_037; // 37 ns later
  const rel = c.wireSinceBase(
    view.getUint32(OFF_TS_HI, true),
    view.getUint32(OFF_TS_LO, true),
  );
  assert.ok(Math.abs(c.sinceBase(arrival) - rel - 37) < 1);
});

Deno.test("resync keeps the base while the realtime clock is not stepped", () => {
  const c = new RealtimeClock();
  const base = c.baseNs;
  assert.equal(c.resync(), 0);
  assert.equal(c.baseNs, base);
});
