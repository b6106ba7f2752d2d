import assert from "node:assert/strict";
import { MAX_DELAY_NS, NOT_RECEIVED } from "../core/message_log.ts";
import { INITIAL_ENTRIES, MessageBook, messageRange } from "./messages.ts";
import type { SeqBounds } from "./seq.ts";

const seen = (b: Partial<SeqBounds>): SeqBounds => ({
  warmupMax: -1,
  measuredMin: null,
  measuredMax: null,
  endSeq: -1,
  ...b,
});

Deno.test("the range runs from after the last WARMUP seen (else the lowest measured seq) to before END", () => {
  assert.deepEqual(
    messageRange(
      seen({ warmupMax: 4, measuredMin: 7, measuredMax: 20, endSeq: 30 }),
      null,
    ),
    { first: 5, end: 30 },
  );
  assert.deepEqual(
    messageRange(seen({ measuredMin: 7, measuredMax: 20 }), null),
    { first: 7, end: 21 },
  );
  assert.deepEqual(messageRange(seen({ endSeq: 12 }), null), {
    first: 12,
    end: 12,
  });
  assert.equal(messageRange(seen({}), null), null);
});

Deno.test("the expected range counts where the stream says nothing, and yields to what it showed", () => {
  const expected = { first: 10, end: 50 };
  // Nothing seen: the whole expected range.
  assert.deepEqual(messageRange(seen({}), expected), expected);
  // The first measured ones lost with the warm-up: still from 10, to 50.
  assert.deepEqual(
    messageRange(seen({ measuredMin: 14, measuredMax: 30 }), expected),
    expected,
  );
  // A sender with more warm-up than the child was told: after its last WARMUP.
  assert.deepEqual(
    messageRange(
      seen({ warmupMax: 11, measuredMin: 12, endSeq: 52 }),
      expected,
    ),
    { first: 12, end: 52 },
  );
  // With less: from its lowest measured seq.
  assert.deepEqual(
    messageRange(
      seen({ warmupMax: 5, measuredMin: 8, measuredMax: 60 }),
      expected,
    ),
    { first: 8, end: 61 },
  );
});

Deno.test("without a rate the log grows past its first allocation up to its bound; entries saturate", () => {
  const book = new MessageBook({ path: "unused", max: 3 * INITIAL_ENTRIES }, 1);
  book.note(0, 5);
  book.note(INITIAL_ENTRIES + 7, 3e9); // beyond 2^31 - 1 ns: saturated
  book.note(3 * INITIAL_ENTRIES, 1); // beyond the bound
  const log = book.log(
    seen({ measuredMin: 0, measuredMax: 3 * INITIAL_ENTRIES }),
  );
  assert.equal(log.firstSeq, 0);
  assert.equal(log.delaysNs.length, 3 * INITIAL_ENTRIES);
  assert.equal(log.delaysNs[0], 5);
  assert.equal(log.delaysNs[INITIAL_ENTRIES + 7], MAX_DELAY_NS);
  assert.equal(log.delaysNs[1], NOT_RECEIVED);
  assert.equal(book.dropped, 1);
});

Deno.test("with a rate the log is sized from rate x duration, never above its bound", () => {
  assert.equal(new MessageBook({ path: "x", rate: 1000 }, 10).limit, 10164);
  assert.equal(
    new MessageBook({ path: "x", rate: 1000, max: 500 }, 10).limit,
    500,
  );
});
