import assert from "node:assert/strict";
import { NOT_RECEIVED } from "../core/message_log.ts";
import {
  leafPart,
  MAX_PART_MESSAGES,
  mergeParts,
  type MessagePart,
} from "../core/message_parts.ts";
import {
  assertFigures,
  bruteFromReduced,
  bruteReduce,
  seeded,
} from "../core/_message_testing.ts";
import { collectMessageFigures, partRequest } from "./messages.ts";

const rnd = seeded(7);
// Three receivers' delays (ns) for seqs 120..349 (seqs below: warm-up).
const FIRST = 120;
const LOGS = Array.from(
  { length: 3 },
  (_, r) =>
    Array.from({ length: 230 }, () => {
      const u = rnd();
      return u < 0.01
        ? NOT_RECEIVED
        : 30_000 + r * 2_000 + Math.round(u * 9_000);
    }),
);
const OPTS = {
  rate: 1000, // a 10 ms window is 10 messages
  receivers: 3,
  correct: false,
  partMessages: 55, // parts of 50 messages
  marginUs: 2,
  holdsUs: [33, 36, 40],
};

/** The root's part k as the workers would answer it. */
function rootPart(k: number): MessagePart {
  const req = partRequest(k, OPTS);
  const lo = Math.max(FIRST, k * req.size);
  const hi = Math.min(FIRST + LOGS[0]!.length, (k + 1) * req.size);
  return mergeParts(
    LOGS.map((d, r) => ({
      addr: `leaf${r}`,
      part: leafPart(
        {
          firstSeq: lo,
          delaysNs: Int32Array.from(
            d.slice(lo - FIRST, Math.max(lo, hi) - FIRST),
          ),
        },
        req.window,
        req.percentile,
        { startSeq: FIRST, endSeq: FIRST + d.length },
      ),
    })),
    { correct: false, window: req.window, firstSeq: k * req.size },
  );
}

Deno.test("part requests: a window of rate x 10 ms, parts the largest multiple of it under the cap", () => {
  const r = partRequest(3, { rate: 10_000, receivers: 1, correct: true });
  assert.deepEqual(r, {
    index: 3,
    size: 32_700,
    correct: true,
    window: 100,
    percentile: 97,
  });
  assert.equal(partRequest(0, { ...OPTS, partMessages: 55 }).size, 50);
  // A window longer than a part is cut to a part.
  const huge = partRequest(0, {
    rate: 1_000_000,
    receivers: 1,
    correct: true,
    windowMs: 50,
  });
  assert.deepEqual([huge.window, huge.size], [
    MAX_PART_MESSAGES,
    MAX_PART_MESSAGES,
  ]);
});

Deno.test("the manager asks part after part from the stream's first to its end, skips the warm-up's, lists a failed part and judges the rest like the brute force", async () => {
  const asked: number[] = [];
  const figures = await collectMessageFigures((k) => {
    asked.push(k);
    if (k === 4) return Promise.reject(new Error("the root did not answer"));
    return Promise.resolve(rootPart(k));
  }, OPTS);
  // Part 0 tells the stream is seqs 120..349: parts 2 to 6 hold it.
  assert.deepEqual(asked, [0, 2, 3, 4, 5, 6]);
  assert.deepEqual(figures.failedParts, [4]);
  const input = {
    delays: LOGS.map((d) => d.map((x) => x === NOT_RECEIVED ? null : x)),
    firstSeq: FIRST,
    window: 10,
    percentile: 97,
    marginUs: OPTS.marginUs,
    holdsUs: OPTS.holdsUs,
  };
  const reduced = bruteReduce(input);
  // Part 4 (seqs 200..249, windows 20..24) never came: not judged, and no
  // deadline comes from it.
  reduced.judged = (seq) => seq < 200 || seq >= 250;
  for (let w = 20; w < 25; w++) reduced.windowMax.delete(w);
  const want = bruteFromReduced(reduced, 3, input);
  assert.equal(want.messages, 180);
  assertFigures(figures, want);
  assert.deepEqual(JSON.parse(JSON.stringify(figures)), figures);
});

Deno.test("when the first part fails nothing tells where the stream is: no message judged, the part listed", async () => {
  const figures = await collectMessageFigures(
    () => Promise.reject(new Error("no answer")),
    OPTS,
  );
  assert.equal(figures.messages, 0);
  assert.deepEqual(figures.failedParts, [0]);
  assert.equal(figures.latency.p50Us, null);
  assert.equal(figures.lostShare, 0);
  // Plain JSON: no NaN or Infinity anywhere (they would not survive this).
  assert.deepEqual(JSON.parse(JSON.stringify(figures)), figures);
});
