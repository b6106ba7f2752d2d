import assert from "node:assert/strict";
import { FigureAccumulator } from "./message_figures.ts";
import {
  fromLittle,
  leafPart,
  mergeParts,
  type MessagePart,
  NOT_RECEIVED,
  partFromWire,
  partToWire,
  toLittle,
} from "./message_parts.ts";
import { assertFigures, bruteFigures } from "./_message_testing.ts";
import { decode, emptyJob, encode } from "../proto/codec.ts";

const X = NOT_RECEIVED;
const W = 4;
const PCT = 75;

/** A leaf's part of the whole log `delays` (from seq `first`). */
const leaf = (delays: number[], first = 8) => {
  const log = { firstSeq: first, delaysNs: Int32Array.from(delays) };
  return leafPart(log, W, PCT, {
    startSeq: first,
    endSeq: first + delays.length,
  });
};

// Raw delays (each receiver's clock minus the root's: the offsets below).
// Seqs 8..19, windows of 4: [8, 12), [12, 16), [16, 20).
const L1 = [500, 520, 510, X, 900, 530, 540, 515, 505, 1500, 530, 520];
const L2 = [300, 310, X, 330, 320, 1200, 310, 305, 300, 320, 310, 315];
const L3 = [100, 120, 110, 130, 140, 150, 1900, 120, 110, 100, 130, 125];
// L1, L2 below proxy P; P and L3 below the root. Offsets: child minus parent.
const OFF = { L1: 250, L2: 400, P: 100, L3: -20 };
const BOUND = { L1: 10, L2: 5, P: 40, L3: 7 };
/** Each receiver's delays in the root's clock: minus its path's offsets. */
const corrected = [
  L1.map((d) => d === X ? null : d - OFF.L1 - OFF.P),
  L2.map((d) => d === X ? null : d - OFF.L2 - OFF.P),
  L3.map((d) => d === X ? null : d - OFF.L3),
];

function tree(correct: boolean): MessagePart {
  const p = mergeParts([
    { addr: "l1", part: leaf(L1), offsetNs: OFF.L1, boundNs: BOUND.L1 },
    { addr: "l2", part: leaf(L2), offsetNs: OFF.L2, boundNs: BOUND.L2 },
  ], { correct, window: W, firstSeq: 8 });
  return mergeParts([
    { addr: "p", part: p, offsetNs: OFF.P, boundNs: BOUND.P },
    { addr: "l3", part: leaf(L3), offsetNs: OFF.L3, boundNs: BOUND.L3 },
  ], { correct, window: W, firstSeq: 8 });
}

Deno.test("merging up a tree gives per message the worst and best delay in the root's clock (the offsets along each path summed) and the receivers that got it", () => {
  const root = tree(true);
  assert.equal(root.firstSeq, 8);
  assert.equal(root.leaves, 3);
  corrected[0]!.forEach((_, i) => {
    const got = corrected.map((d) => d[i]!).filter((x) => x !== null);
    assert.equal(root.worstNs[i], Math.max(...got), `worst of seq ${8 + i}`);
    assert.equal(root.bestNs[i], Math.min(...got), `best of seq ${8 + i}`);
    assert.equal(root.receivers[i], got.length, `receivers of seq ${8 + i}`);
  });
  // The bound of a path is the sum of its hops' bounds; the part, the largest.
  assert.equal(root.boundNs, BOUND.P + BOUND.L1);
  // Per window: each receiver's 75th percentile (nearest rank: the 3rd of 3
  // or 4 delays, so a window's one straggler is not it), in the root's clock.
  assert.deepEqual([...root.windowMaxNs], [
    520 - 350, // L1 {500, 510, 520}; L2 330 - 500; L3 120 + 20
    540 - 350, // L1 {515, 530, 540, 900}; L2 320 - 500; L3 150 + 20
    530 - 350, // L1 {505, 520, 530, 1500}; L2 315 - 500; L3 125 + 20
  ]);
});

Deno.test("uncorrected, the delays pass up as measured and the bound is 0", () => {
  const root = tree(false);
  assert.equal(root.worstNs[0], 500);
  assert.equal(root.bestNs[0], 100);
  assert.equal(root.boundNs, 0);
});

const HOLDS = [0.2, 0.5, 1, 1.5];

Deno.test("the figures of a run equal the brute force: quantiles with lost messages above every delay, fair shares, holds, the adaptive deadline, negatives after correction", () => {
  const acc = new FigureAccumulator({
    receivers: 3,
    corrected: true,
    holdsUs: HOLDS,
    windowMessages: W,
    percentile: PCT,
    marginUs: 0.1,
  });
  acc.add(tree(true), 8, 20);
  const got = acc.figures();
  const want = bruteFigures({
    delays: corrected,
    firstSeq: 8,
    window: W,
    percentile: PCT,
    marginUs: 0.1,
    holdsUs: HOLDS,
  });
  assertFigures(got, want);
  // Hand-checked: seqs 10 and 11 lost (L2, L1); L2's corrected delays are
  // negative on every message it got but its straggler (seq 13).
  assert.equal(got.lost, 2);
  assert.equal(got.negative, 10);
  assert.equal(got.lostShare, 2 / 12);
  assert.equal(got.best.p50Us, 0); // clipped after correction
  assert.equal(got.latency.maxUs, null); // falls among the lost
  // Worst, ns: 150 155 165 170 170 180 550 700 1150 1920, lost, lost.
  assert.equal(got.latency.p50Us, 0.18);
  assert.equal(got.latency.p90Us, null);
  assert.deepEqual(got.fairness.holds.map((h) => h.fairShare), [
    6 / 12,
    6 / 12,
    8 / 12,
    9 / 12,
  ]);
  // Window [12, 16) is judged by 190 + 100 ns (1 of 4 fair), [16, 20) by
  // 180 + 100 ns (3 of 4); the first window has no deadline.
  assert.equal(got.fairness.adaptive.judged, 8);
  assert.equal(got.fairness.adaptive.fairShare, 4 / 8);
  assert.equal(got.boundUs, 0.05);
});

Deno.test("a quantile whose rank falls among the lost messages is null, the lost share says why", () => {
  const acc = new FigureAccumulator({
    receivers: 2,
    corrected: false,
    windowMessages: W,
    percentile: PCT,
  });
  const a = leaf([100, X, X, 130]);
  const b = leaf([200, 210, X, 220]);
  acc.add(
    mergeParts([{ addr: "a", part: a }, { addr: "b", part: b }], {
      correct: false,
      window: W,
      firstSeq: 8,
    }),
    8,
    12,
  );
  const f = acc.figures();
  assert.equal(f.lost, 2);
  assert.equal(f.neverReceived, 1);
  assert.equal(f.latency.p50Us, 0.22); // rank 2 of [0.2, 0.22, lost, lost]
  assert.equal(f.latency.p90Us, null);
  assert.equal(f.lostShare, 0.5);
  assert.equal(f.fairness.hold99Us, null);
});

Deno.test("a child whose part never came is named missing and its receivers count as not having received", () => {
  const part = mergeParts([
    { addr: "a", part: leaf([100, 110]) },
    { addr: "gone:9000", lostLeaves: 10 },
  ], { correct: true, window: W, firstSeq: 8 });
  assert.equal(part.leaves, 11);
  assert.deepEqual(part.missing, ["gone:9000"]);
  assert.deepEqual(part.uncorrected, ["a"]); // no offset for it
  const acc = new FigureAccumulator({
    receivers: 0, // the tree's size unknown here: the part's leaves count
    corrected: true,
    windowMessages: W,
    percentile: PCT,
  });
  acc.add(part, 8, 10);
  const f = acc.figures();
  assert.equal(f.lost, 2);
  assert.deepEqual(f.missing, ["gone:9000"]);
});

Deno.test("a part survives its wire form and a whole REPORT reply's encode and decode", () => {
  const p = tree(true);
  assert.deepEqual(partFromWire(partToWire(p)), p);
  const msg = decode(encode({
    id: 3,
    ts: 1,
    type: "ACK",
    data: {
      src: "w",
      dst: "m",
      report: {
        job: emptyJob({ id: "x.1" }),
        complete: true,
        part: partToWire(p),
      },
    },
  }));
  assert.deepEqual(partFromWire(msg.data.report!.part!), p);
});

Deno.test("the accumulator's state does not grow with the number of messages", () => {
  const make = () =>
    new FigureAccumulator({
      receivers: 1,
      corrected: false,
      windowMessages: 100,
      percentile: 97,
    });
  const feed = (acc: FigureAccumulator, parts: number) => {
    for (let k = 0; k < parts; k++) {
      const delaysNs = Int32Array.from(
        { length: 32_700 },
        (_, i) => 10_000 + ((i * 7919 + k * 104729) % 5_000_000),
      );
      const p = leafPart({ firstSeq: k * 32_700, delaysNs }, 100, 97, {
        startSeq: 0,
        endSeq: parts * 32_700,
      });
      acc.add(p, k * 32_700, (k + 1) * 32_700);
    }
  };
  const [short, long] = [make(), make()];
  feed(short, 1);
  feed(long, 10);
  assert.equal(long.figures().messages, 327_000);
  assert.equal(long.stateBytes(), short.stateBytes());
});

Deno.test("the wire's arrays are little-endian whatever the host: the copying path and the byte-by-byte one agree", () => {
  const i32 = Int32Array.of(1000, -5, NOT_RECEIVED, 2 ** 31 - 1);
  const u16 = Uint16Array.of(0, 1, 65535);
  for (const little of [true, false]) {
    assert.deepEqual(
      [...toLittle(i32, little)].slice(0, 8),
      [0xe8, 0x03, 0, 0, 0xfb, 0xff, 0xff, 0xff],
    );
    assert.deepEqual([...toLittle(u16, little)], [0, 0, 1, 0, 0xff, 0xff]);
    // From an odd offset, as a decoded message's bytes may lie.
    const odd = new Uint8Array(17);
    odd.set(toLittle(i32, little), 1);
    assert.deepEqual(fromLittle(odd.subarray(1), "i32", little), i32);
    assert.deepEqual(fromLittle(toLittle(u16), "u16", little), u16);
  }
});
