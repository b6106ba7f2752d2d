import assert from "node:assert/strict";
import type { ConnectResult } from "../core/results.ts";
import type { KernelClock } from "../proto/codec.ts";
import { applyClockPolicy, kernelClockProblem } from "./clocks.ts";
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
  assert.deepEqual(
    applyClockPolicy(W, { policy: "trust", maxErrorUs: 1000 }),
    W,
  );
  const strict = applyClockPolicy(W, {
    policy: "require-sync",
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
