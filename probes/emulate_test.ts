import assert from "node:assert/strict";
import { UsageError } from "../core/cli.ts";
import { Emulator, mulberry32, parseEmulation } from "./emulate.ts";

Deno.test("parseEmulation reads every key with units", () => {
  assert.deepEqual(
    parseEmulation("delay=300us,jitter=100us,loss=0.01,seed=7"),
    {
      delay_us: 300,
      jitter_us: 100,
      loss: 0.01,
      seed: 7,
      distribution: "uniform",
    },
  );
  assert.deepEqual(parseEmulation(" delay = 1.5ms , seed=0"), {
    delay_us: 1500,
    jitter_us: 0,
    loss: 0,
    seed: 0,
    distribution: "uniform",
  });
});

Deno.test("parseEmulation picks a seed when none is given, and reports it", () => {
  assert.equal(
    parseEmulation("delay=1ms", { random: () => 0.5 }).seed,
    0x8000_0000,
  );
});

Deno.test("a bad --emulate spec is a usage error naming the bad key", () => {
  const cases: [string, string][] = [
    ["dealy=300us", 'unknown key "dealy"'],
    ["delay=fast", 'key "delay" needs a duration'],
    ["delay=2s", 'key "delay" needs a duration up to 1 s'],
    ["jitter=-1us", 'key "jitter" needs a duration'],
    ["delay=800ms,jitter=300ms", 'keys "delay" + "jitter" must be at most 1 s'],
    ["delay=1ms,loss=1.5", 'key "loss" needs a probability in 0..1, got "1.5"'],
    ["loss=", 'key "loss" needs a probability'],
    ["seed=1.5", 'key "seed" needs a whole number'],
    ["seed=4294967296", 'key "seed" needs a whole number'],
    ["delay=1ms,delay=2ms", 'key "delay" given twice'],
    ["delay", '"delay" is not KEY=VALUE'],
    ["", "needs KEY=VALUE pairs"],
  ];
  for (const [spec, msg] of cases) {
    assert.throws(
      () => parseEmulation(spec),
      (e) =>
        e instanceof UsageError && e.message.includes(msg) &&
        e.message.startsWith('Flag "--emulate"'),
      spec,
    );
  }
});

Deno.test("mulberry32 is deterministic per seed and uniform enough", () => {
  const a = mulberry32(42), b = mulberry32(42), c = mulberry32(43);
  const xs = Array.from({ length: 5 }, a);
  assert.deepEqual(Array.from({ length: 5 }, b), xs);
  assert.notDeepEqual(Array.from({ length: 5 }, c), xs);
  const r = mulberry32(1);
  let sum = 0;
  for (let i = 0; i < 100_000; i++) {
    const x = r();
    assert.ok(x >= 0 && x < 1);
    sum += x;
  }
  assert.ok(Math.abs(sum / 100_000 - 0.5) < 0.01);
});

Deno.test("Emulator draws uniform delays in [delay-jitter, delay+jitter]", () => {
  const e = new Emulator(parseEmulation("delay=300us,jitter=100us,seed=1"));
  let min = Infinity, max = -Infinity, sum = 0;
  const n = 50_000;
  for (let i = 0; i < n; i++) {
    const d = e.next();
    assert.ok(Number.isInteger(d));
    min = Math.min(min, d);
    max = Math.max(max, d);
    sum += d;
  }
  assert.ok(min >= 200_000 && min < 201_000, `min ${min}`);
  assert.ok(max <= 400_000 && max > 399_000, `max ${max}`);
  assert.ok(Math.abs(sum / n - 300_000) < 2_000, `mean ${sum / n}`);
});

Deno.test("Emulator clamps at 0 when jitter exceeds delay", () => {
  const e = new Emulator(parseEmulation("delay=100us,jitter=300us,seed=3"));
  let zeros = 0;
  for (let i = 0; i < 10_000; i++) {
    const d = e.next();
    assert.ok(d >= 0 && d <= 400_000);
    if (d === 0) zeros++;
  }
  // P(delay + jitter * u <= 0) = (300 - 100) / 600 = 1/3.
  assert.ok(Math.abs(zeros / 10_000 - 1 / 3) < 0.03, `zeros ${zeros}`);
});

Deno.test("Emulator drops with the loss probability, reproducibly", () => {
  const drops = (seed: number) => {
    const e = new Emulator(parseEmulation(`delay=0us,loss=0.1,seed=${seed}`));
    let n = 0;
    for (let i = 0; i < 20_000; i++) if (e.next() === -1) n++;
    return n;
  };
  assert.ok(Math.abs(drops(5) / 20_000 - 0.1) < 0.01);
  assert.equal(drops(5), drops(5));
  const none = new Emulator(parseEmulation("delay=250us,seed=9"));
  for (let i = 0; i < 1000; i++) assert.equal(none.next(), 250_000);
});

Deno.test("parseEmulation reads a signed clock offset, within the limit", () => {
  assert.equal(parseEmulation("offset=300us,seed=1").offset_us, 300);
  assert.equal(parseEmulation("offset=-1ms,seed=1").offset_us, -1000);
  assert.equal(parseEmulation("delay=1ms,seed=1").offset_us, undefined);
  for (const bad of ["offset=2s", "offset=-", "offset=abc", "offset=--1ms"]) {
    assert.throws(
      () => parseEmulation(bad),
      (e) =>
        e instanceof UsageError &&
        /key "offset" needs a duration/.test(e.message),
      bad,
    );
  }
});
