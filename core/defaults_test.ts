import assert from "node:assert/strict";
import {
  PROBE_START_MS,
  RELAY_RETRIES,
  RELAY_TIMEOUT_MS,
  relayedDeadlineMs,
  relayRetries,
  REQUEST_TIMEOUT_MS,
} from "./defaults.ts";
import { LIMITS } from "./limits.ts";

const DEEPEST = LIMITS.layer[1];

Deno.test("a relayed deadline grows by one hop per layer below, not doubling, and stops at the deepest command", () => {
  for (const start of [0, PROBE_START_MS]) {
    const hop = RELAY_TIMEOUT_MS + start;
    const d = (layers: number) =>
      relayedDeadlineMs(RELAY_TIMEOUT_MS, layers, start);
    assert.equal(d(0), hop);
    for (let h = 2; h <= DEEPEST; h++) assert.equal(d(h) - d(h - 1), hop);
    assert.equal(d(DEEPEST), hop * (DEEPEST + 1 + RELAY_RETRIES));
    assert.equal(d(DEEPEST + 50), d(DEEPEST));
  }
  // At the defaults the deepest COMMAND waits 72 s, not 2^16 times a hop.
  assert.equal(
    relayedDeadlineMs(RELAY_TIMEOUT_MS, DEEPEST, PROBE_START_MS),
    72_000,
  );
});

Deno.test("a worker gives up on a dead worker below it, and answers, before the layer above gives up on it", () => {
  // The worker relays with a base no longer than the manager's.
  for (
    const [worker, manager] of [[RELAY_TIMEOUT_MS, REQUEST_TIMEOUT_MS], [
      500,
      3000,
    ], [2000, 2000]]
  ) {
    for (const start of [0, PROBE_START_MS]) {
      for (let h = 1; h <= DEEPEST; h++) {
        // Worst case at a worker with h layers below: every attempt of its
        // relay one layer down times out, then its own probe takes its start.
        const relay = (1 + relayRetries(h - 1)) *
          relayedDeadlineMs(worker!, h - 1, start);
        const answered = relay + start;
        const above = relayedDeadlineMs(manager!, h, start);
        assert.ok(
          answered < above,
          `layers ${h}: answers at ${answered} ms, the layer above gives up at ${above} ms`,
        );
      }
    }
  }
  assert.equal(relayRetries(0), RELAY_RETRIES);
  assert.equal(relayRetries(3), 0);
});
