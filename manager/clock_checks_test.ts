import assert from "node:assert/strict";
import type { CandidateResult, ConnectResult } from "../core/results.ts";
import type { KernelClock, ProbeStats } from "../proto/codec.ts";
import type { Strategy } from "./script_types.ts";
import {
  applyClockPolicy,
  kernelClockProblem,
  offsetDoubt,
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
  const why = offsetDoubt(close, "BEST", P90)!;
  assert.match(why, /"b" \(kept, \+-3 us\) and "c" \(dropped, \+-4 us\)/);
  assert.match(why, /by 7, more than the 5 between them/);
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
    /"x" \(kept/,
  );
  // Weighted: only the p90 share of the score moves (0.3 x 20 = 6 > 5).
  const W: Strategy = {
    name: "WEIGHTED",
    weights: { p90: 0.3, stddev: 0.7 },
  };
  assert.ok(offsetDoubt(
    close.slice(1, 3).map((c) => ({
      ...c,
      stats: st(10),
    })),
    "BEST",
    W,
  ));
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
