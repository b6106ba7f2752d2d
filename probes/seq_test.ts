import assert from "node:assert/strict";
import { SeqTracker } from "./seq.ts";
import { SEQ_WINDOW } from "./defaults.ts";

function feed(seqs: number[], t = new SeqTracker()): SeqTracker {
  for (const s of seqs) t.accept(s);
  return t;
}

const counts = (t: SeqTracker) => ({
  received: t.received,
  lost: t.lost,
  duplicates: t.duplicates,
  reordered: t.reordered,
  first: t.firstSeq,
  last: t.lastSeq,
});

Deno.test("an in-order stream has no loss, duplicate or reordering", () => {
  assert.deepEqual(counts(feed([0, 1, 2, 3])), {
    received: 4,
    lost: 0,
    duplicates: 0,
    reordered: 0,
    first: 0,
    last: 3,
  });
});

Deno.test("gaps are lost, repeats are duplicates, late ones are reordered", () => {
  const t = feed([0, 1, 3, 2, 2, 5, 7, 7, 6, 9]);
  // 4 and 8 never came; 2 and 6 came late; 2 and 7 came twice.
  assert.deepEqual(counts(t), {
    received: 8,
    lost: 2,
    duplicates: 2,
    reordered: 2,
    first: 0,
    last: 9,
  });
});

Deno.test("accept says whether a packet is new", () => {
  const t = new SeqTracker();
  assert.deepEqual([5, 6, 5, 4, 4].map((s) => t.accept(s)), [
    true,
    true,
    false,
    true,
    false,
  ]);
  assert.equal(t.firstSeq, 4);
});

Deno.test("END makes a lost tail count; warm-up makes a lost head count", () => {
  const t = new SeqTracker();
  for (const s of [0, 1, 2]) t.acceptWarmup(s);
  feed([4, 5, 6], t); // 3 lost at the head
  t.end(10); // 7, 8, 9 lost at the tail
  assert.deepEqual(counts(t), {
    received: 3,
    lost: 4,
    duplicates: 0,
    reordered: 0,
    first: 3,
    last: 9,
  });
  assert.equal(t.warmup, 3);
});

Deno.test("a stream that lost every measured packet still counts its loss", () => {
  const t = new SeqTracker();
  t.acceptWarmup(0);
  t.acceptWarmup(1);
  t.end(12);
  assert.equal(t.lost, 10);
  assert.equal(new SeqTracker().lost, 0);
});

Deno.test("a jump beyond the window forgets old numbers but still counts", () => {
  const t = feed([0, 1, SEQ_WINDOW + 10, 1]);
  assert.equal(t.duplicates, 0); // 1 is too old to tell: counted as reordered
  assert.equal(t.reordered, 1);
  const u = feed([0, 100, 50, 50]);
  assert.equal(u.duplicates, 1);
  assert.equal(u.lost, 100 - 2);
});

Deno.test("bits of old numbers are cleared as the window moves", () => {
  // SEQ_WINDOW + 3 shares a bit with 3: it must not look like a duplicate.
  const t = feed([3, SEQ_WINDOW - 1, SEQ_WINDOW + 3, SEQ_WINDOW + 2]);
  assert.equal(t.duplicates, 0);
  assert.equal(t.reordered, 1);
});
