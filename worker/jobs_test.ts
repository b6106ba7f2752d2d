import assert from "node:assert/strict";
import { emptyJob } from "../proto/codec.ts";
import { applyResult } from "./jobs.ts";

/** The fields of a receiver's result line that a ProbeStats needs. */
const RECEIVED = {
  event: "result",
  received: 900,
  lost: 0,
  latency_us: { min: 1, p50: 2, p90: 3, max: 4, mean: 2, stddev: 1 },
  series: [],
  histogram: "",
};

Deno.test("a probe's send errors, dropped series seconds and early stop reach its job's stats", () => {
  const child = emptyJob();
  applyResult(child, {
    ...RECEIVED,
    probe: "child",
    stop: "interrupted",
    series_dropped: 7,
  });
  assert.equal(child.stats!.seriesDropped, 7);
  assert.equal(child.stats!.partial, true);

  const parent = emptyJob();
  applyResult(parent, {
    event: "result",
    probe: "parent",
    sent: 1000,
    children: 2,
    send_errors: 12,
    stop: "interrupted",
  });
  assert.equal(parent.sender!.sendErrors, 12);
  assert.equal(parent.sender!.partial, true);

  const proxy = emptyJob();
  applyResult(proxy, {
    ...RECEIVED,
    probe: "proxy",
    forwarded: 900,
    send_errors: 3,
    stop: "deadline",
  });
  assert.equal(proxy.forward!.sendErrors, 3);
  assert.equal(proxy.forward!.partial, true);
  assert.equal(proxy.stats!.partial, true);
});

Deno.test("a stream that ended (END, or the stream itself stopping) is not partial", () => {
  for (const stop of ["end", "idle"]) {
    const child = emptyJob();
    applyResult(child, { ...RECEIVED, probe: "child", stop });
    assert.equal(child.stats!.partial, false, stop);
    assert.equal(child.stats!.seriesDropped, 0);
    const parent = emptyJob();
    applyResult(parent, { event: "result", probe: "parent", stop });
    assert.equal(parent.sender!.partial, false, stop);
    assert.equal(parent.sender!.sendErrors, 0);
  }
});
