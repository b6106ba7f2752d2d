import assert from "node:assert/strict";
import type { CandidateResult, ConnectResult } from "../core/results.ts";
import type { KernelClock, ProbeStats } from "../proto/codec.ts";
import type { Strategy } from "./script_types.ts";
import {
  applyClockPolicy,
  kernelClockProblem,
  offsetDoubt,
  sameClock,
} from "./clock_checks.ts";
import { clockWarnings } from "./format.ts";

const worker = (addr: string, clock: Partial<KernelClock>): ConnectResult => ({
  addr,
  status: "ok",
  hello: {
    protocol: 1,
    program: "t",
    capabilities: [],
    hostname: "h",
    emulate: "",
    incarnation: "",
    clock: {
      known: true,
      synced: true,
      maxerrorUs: 100,
      esterrorUs: 10,
      emulated: false,
      ...clock,
    },
  },
});

const W = [
  worker("a:1", {}),
  worker("b:1", { synced: false }),
  worker("c:1", { esterrorUs: 5000 }),
  worker("d:1", { known: false, synced: false }),
];

Deno.test("a kernel clock is a problem when unsynchronised or its estimated error is above the threshold", () => {
  assert.deepEqual(W.map((w) => kernelClockProblem(w, 1000) !== undefined), [
    false,
    true,
    true,
    false,
  ]);
  assert.match(kernelClockProblem(W[1]!, 1000)!, /not synchronised/);
  assert.match(kernelClockProblem(W[2]!, 1000)!, /5000 us.*above clock_error/);
  assert.equal(kernelClockProblem(W[2]!, 10_000), undefined);
});

Deno.test("clocks: trust warns about each bad clock; require-sync refuses those workers", () => {
  const warned = clockWarnings(W, undefined, 1000);
  assert.equal(warned.length, 2);
  assert.match(warned[0]!, /^warning: Worker "b:1": /);
  // Workers with the same problem share one line, naming a few of them.
  const same = ["x:1", "x:2", "x:3", "x:4", "x:5"].map((addr) => ({
    ...W[1]!,
    addr,
  }));
  assert.deepEqual(
    clockWarnings(same, undefined, 1000).map((l) => l.split(": its")[0]),
    ['warning: 5 workers ("x:1", "x:2", "x:3" and 2 more)'],
  );
  assert.deepEqual(
    applyClockPolicy(W, {
      policy: "trust",
      offsets: "trust",
      maxErrorUs: 1000,
    }),
    W,
  );
  const strict = applyClockPolicy(W, {
    policy: "require-sync",
    offsets: "trust",
    maxErrorUs: 1000,
  });
  assert.deepEqual(strict.map((r) => r.status), [
    "ok",
    "refused",
    "refused",
    "ok",
  ]);
  assert.match(strict[1]!.error!, /\(clocks: require-sync\)$/);
});

Deno.test("offsetDoubt: a cut closer than the offsets' bounds can move the scores is flagged", () => {
  const st = (bound: number | undefined) =>
    ({
      ...(bound === undefined
        ? {}
        : { offsetUs: 1, offsetBoundUs: bound, offsetSamples: 20 }),
    }) as ProbeStats;
  const cand = (addr: string, score: number, kept: boolean, bound?: number) =>
    ({ addr, score, kept, stats: st(bound) }) as CandidateResult;
  const P90: Strategy = { name: "P90", weights: { p90: 1 } };
  // Kept 100 and 110, dropped 115 and 200: the cut is 110 | 115, a gap of 5.
  const close = [
    cand("a", 100, true, 50),
    cand("b", 110, true, 3),
    cand("c", 115, false, 4),
    cand("d", 200, false, 50),
  ];
  // The warning names both candidates, the difference and the combined bound.
  assert.equal(
    offsetDoubt(close, "BEST", P90),
    `kept "b" over "c" by 5 in score, but their clock offsets' combined ` +
      `bound (+-7 us: "b" +-3 us, "c" +-4 us) can move the scores by 7: ` +
      `the choice may be the clocks'`,
  );
  // Bounds of 2 + 2 < 5: the choice stands.
  assert.equal(
    offsetDoubt(
      [
        cand("b", 110, true, 2),
        cand("c", 115, false, 2),
      ],
      "BEST",
      P90,
    ),
    undefined,
  );
  // WORST keeps the highest: the cut is between the lowest kept and the highest dropped.
  assert.match(
    offsetDoubt(
      [
        cand("x", 300, true, 1),
        cand("y", 290, false, 20),
      ],
      "WORST",
      P90,
    )!,
    /^kept "x" over "y" by 10 in score/,
  );
  // Weighted: only the p90 share of the score moves (0.3 x 20 = 6 > 5).
  const W: Strategy = {
    name: "WEIGHTED",
    weights: { p90: 0.3, stddev: 0.7 },
  };
  assert.match(
    offsetDoubt(
      close.slice(1, 3).map((c) => ({
        ...c,
        stats: st(10),
      })),
      "BEST",
      W,
    )!,
    /by 5 in score, .*bound \(\+-20 us: .*\) can move the scores by 6 \(x 0\.3, /,
  );
  // stddev alone is not moved by an offset; nor is anything without offsets.
  assert.equal(
    offsetDoubt(close, "BEST", { name: "CUSTOM", weights: { stddev: 1 } }),
    undefined,
  );
  assert.equal(
    offsetDoubt([cand("b", 110, true), cand("c", 111, false)], "BEST", P90),
    undefined,
  );
});

Deno.test("workers with one boot id read one clock: no offset doubt between them", () => {
  const booted = (addr: string, bootId: string): ConnectResult => ({
    ...worker(addr, {}),
    hello: { ...worker(addr, {}).hello!, bootId },
  });
  const hostA = "6f1c2a9e-52d4-4f7b-8a1e-0c3b9d7e4a21";
  const hostB = "0b9e4d7c-13a8-4c62-9f05-7e2a1b6c8d34";
  const workers = [
    booted("p", hostA),
    booted("b", hostA),
    booted("c", hostA),
    booted("d", hostB),
    booted("e", ""), // off Linux: unknown
    worker("f", {}), // an older worker: no boot id at all
  ];
  const same = (a: string, b: string) => sameClock(workers, a, b);
  assert.equal(same("p", "b"), true);
  assert.equal(same("p", "d"), false);
  assert.equal(same("e", "e"), false, "an unknown boot id proves nothing");
  assert.equal(same("f", "f"), false);
  assert.equal(same("p", "nobody"), false);

  const cand = (addr: string, score: number, kept: boolean) =>
    ({
      addr,
      score,
      kept,
      stats: { offsetUs: 1, offsetBoundUs: 40, offsetSamples: 20 },
    }) as CandidateResult;
  const P90: Strategy = { name: "P90", weights: { p90: 1 } };
  const onParent = (addr: string) => same("p", addr);
  // Parent and both candidates on host A: their coarse bounds (40 us each)
  // are no doubt, however close the scores.
  assert.equal(
    offsetDoubt(
      [cand("b", 100, true), cand("c", 101, false)],
      "BEST",
      P90,
      onParent,
    ),
    undefined,
  );
  // Without the boot ids the same stage is in doubt.
  assert.ok(
    offsetDoubt([cand("b", 100, true), cand("c", 101, false)], "BEST", P90),
  );
  // A candidate on another host keeps its own bound, alone.
  assert.equal(
    offsetDoubt(
      [cand("b", 100, true), cand("d", 130, false)],
      "BEST",
      P90,
      onParent,
    ),
    `kept "b" over "d" by 30 in score, but their clock offsets' combined ` +
      `bound (+-40 us: "b" on the parent's clock, "d" +-40 us) can move the ` +
      `scores by 40: the choice may be the clocks'`,
  );
  assert.equal(
    offsetDoubt(
      [cand("b", 100, true), cand("d", 150, false)],
      "BEST",
      P90,
      onParent,
    ),
    undefined,
    "50 apart: more than one bound of 40 can move",
  );
});
