/**
 * Issue #19 at the exchange's size: 1,000 simulated leaves (D = 3, F = 10)
 * at 10,000 messages/s for 3 s, their parts built, merged, encoded and
 * decoded hop by hop by the code the workers run (`jobPart`, in process),
 * and accumulated by the manager's code.
 */
import assert from "node:assert/strict";
import { MAX_MESSAGE_BYTES } from "../core/transport.ts";
import { NOT_RECEIVED } from "../core/message_log.ts";
import {
  leafPart,
  type MessagePart,
  partFromWire,
  partToWire,
} from "../core/message_parts.ts";
import {
  assertFigures,
  bruteFromReduced,
  percentileOf,
  type Reduced,
  seeded,
} from "../core/_message_testing.ts";
import { collectMessageFigures, partRequest } from "../manager/messages.ts";
import {
  decode,
  emptyJob,
  encode,
  type Job,
  type PartRequest,
} from "../proto/codec.ts";
import type { JobRecord } from "./jobs.ts";
import { jobPart } from "./messages.ts";

const F = 10;
const RATE = 10_000;
const FIRST = RATE; // 1 s of warm-up before the measured stream
const COUNT = 3 * RATE;
const PCT = 97;
const MARGIN_US = 25;
const HOLDS_US = [50, 60, 80, 100, 500, 2000];

interface Node {
  job: Job;
  /** Leaves: index; its path's true offsets (sum) and reported ones (sum). */
  leaf?: number;
  children: Node[];
}

const rnd = seeded(19);
/** The per-edge clock offsets: true (in the delays) and as echoes measured. */
const leafTrue: number[] = [], leafReported: number[] = [];
const STRAGGLERS = new Set([3, 417, 998]);
const LOSSY = new Set([42, 500]);
/** A level-1 proxy whose worker does not answer part 1. */
const DEAF = "w-1-4";
let nextLeaf = 0;

function build(
  name: string,
  depth: number,
  trueSum: number,
  repSum: number,
): Node {
  const node: Node = {
    job: emptyJob({ id: `${name}.0`, owner: name, end: true }),
    children: [],
  };
  if (depth === 0) {
    node.leaf = nextLeaf++;
    node.job.flag = "CHILD";
    leafTrue[node.leaf] = trueSum;
    // One leaf's offset measured 80 µs too large: its corrected delays go negative.
    leafReported[node.leaf] = repSum + (node.leaf === 77 ? 80_000 : 0);
    return node;
  }
  node.job.flag = depth === 3 ? "MCAST" : "PROXY";
  for (let i = 0; i < F; i++) {
    const off = Math.round((rnd() - 0.5) * 400_000); // ±200 µs
    const err = Math.round((rnd() - 0.5) * 4_000); // the estimate's error
    const child = build(
      `${name}-${i}`,
      depth - 1,
      trueSum + off,
      repSum + off + err,
    );
    child.job.addr = `${child.job.owner}:40000`;
    node.children.push(child);
    node.job.deps.push(child.job);
    node.job.peers.push({
      addr: child.job.addr,
      offsetUs: (off + err) / 1000 + (child.leaf === 77 ? 80 : 0),
      boundUs: 1 + rnd() * 9,
      samples: 10,
    });
  }
  return node;
}
const root = build("w", 3, 0, 0);
const byId = new Map<string, Node>();
const index = (n: Node) => {
  byId.set(n.job.id, n);
  n.children.forEach(index);
};
index(root);

/** Leaf `l`'s raw delay of `seq`, ns (its clock minus the root's), or NOT_RECEIVED. */
const raw = (l: number, seq: number) => RAW[l * COUNT + seq - FIRST]!;

function _raw(l: number, seq: number): number {
  let h = Math.imul(l + 1, 0x9e3779b1) ^ Math.imul(seq + 7, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  const u = ((h ^ (h >>> 15)) >>> 0) / 4294967296;
  if (LOSSY.has(l) && u < 0.002) return NOT_RECEIVED;
  const v = (u * 1_000_003) % 1;
  let d = 40_000 + (l % 37) * 500 - 20_000 * Math.log(1 - v * 0.999);
  if (STRAGGLERS.has(l) && u > 0.995) d += 1_500_000;
  return Math.round(d + leafTrue[l]!);
}

/** Every leaf's delays, generated once (1,000 x 30,000). */
const RAW = new Int32Array(1000 * COUNT);
for (let l = 0; l < 1000; l++) {
  for (let i = 0; i < COUNT; i++) RAW[l * COUNT + i] = _raw(l, FIRST + i);
}

let largest = 0;
let hops = 0;
/** One hop up: the part encoded as the ACK a worker sends, checked, decoded. */
function hop(part: MessagePart): MessagePart {
  const bytes = encode({
    id: 1,
    ts: 1,
    type: "ACK",
    data: {
      src: "w",
      dst: "up",
      report: {
        job: emptyJob({ id: "x.0" }),
        complete: true,
        part: partToWire(part),
      },
    },
  });
  assert.ok(bytes.length < MAX_MESSAGE_BYTES, `${bytes.length} bytes`);
  largest = Math.max(largest, bytes.length);
  hops++;
  return partFromWire(decode(bytes).data.report!.part!);
}

async function ask(dep: Job, req: PartRequest): Promise<MessagePart> {
  const node = byId.get(dep.id)!;
  if (node.job.owner === DEAF && req.index === 1) {
    throw new Error(`Worker "${DEAF}" did not answer`);
  }
  if (node.leaf !== undefined) {
    const l = node.leaf;
    const lo = Math.max(req.index * req.size, FIRST);
    const hi = Math.min((req.index + 1) * req.size, FIRST + COUNT);
    const delaysNs = Int32Array.from(
      { length: Math.max(0, hi - lo) },
      (_, i) => raw(l, lo + i),
    );
    return hop(
      leafPart({ firstSeq: lo, delaysNs }, req.window, req.percentile, {
        startSeq: FIRST,
        endSeq: FIRST + COUNT,
      }),
    );
  }
  const rec = { job: node.job, finalReport: undefined } as unknown as JobRecord;
  return hop(await jobPart(rec, req, ask));
}

/** The brute force: every leaf's corrected delay of every message, reduced. */
function reduce(window: number, deafFrom: number): Reduced {
  const deaf = new Set<number>();
  const mark = (n: Node) =>
    n.leaf !== undefined ? deaf.add(n.leaf) : n.children.forEach(mark);
  mark(byId.get(`${DEAF}.0`)!);
  const r: Reduced = {
    firstSeq: FIRST,
    worst: [],
    best: [],
    count: [],
    windowMax: new Map(),
  };
  const gone = (l: number, seq: number) => deaf.has(l) && seq >= deafFrom;
  for (let seq = FIRST; seq < FIRST + COUNT; seq++) {
    let worst = -Infinity, best = Infinity, count = 0;
    for (let l = 0; l < nextLeaf; l++) {
      const d = raw(l, seq);
      if (d === NOT_RECEIVED || gone(l, seq)) continue;
      const c = d - leafReported[l]!;
      if (c > worst) worst = c;
      if (c < best) best = c;
      count++;
    }
    r.worst.push(worst);
    r.best.push(best);
    r.count.push(count);
  }
  for (let w = FIRST / window; w < (FIRST + COUNT) / window; w++) {
    let m = -Infinity;
    for (let l = 0; l < nextLeaf; l++) {
      const xs: number[] = [];
      for (let seq = w * window; seq < (w + 1) * window; seq++) {
        const d = raw(l, seq);
        if (d !== NOT_RECEIVED && !gone(l, seq)) xs.push(d);
      }
      if (xs.length) m = Math.max(m, percentileOf(xs, PCT) - leafReported[l]!);
    }
    if (m > -Infinity) r.windowMax.set(w, m);
  }
  return r;
}

Deno.test("1,000 leaves (D=3 F=10) at 10,000 msg/s for 3 s: every hop's message is under the cap, a silent subtree counts as not received, and the manager's figures equal the brute force", async () => {
  assert.equal(nextLeaf, 1000);
  const opts = {
    rate: RATE,
    receivers: 1000,
    correct: true,
    percentile: PCT,
    marginUs: MARGIN_US,
    holdsUs: HOLDS_US,
  };
  const asked: number[] = [];
  const figures = await collectMessageFigures(async (k) => {
    asked.push(k);
    return hop(
      await jobPart(
        { job: root.job, finalReport: undefined } as unknown as JobRecord,
        partRequest(k, opts),
        ask,
      ),
    );
  }, opts);
  const req = partRequest(0, opts);
  assert.equal(req.window, 100);
  assert.deepEqual(asked, [0, 1]); // the stream's end known from part 0
  // Every hop's reply was encoded, under the cap: leaf, proxies, root.
  assert.equal(hops, 2 * 1111 - 11); // the silent proxy and its leaves, part 1
  assert.ok(largest < MAX_MESSAGE_BYTES / 2, `largest ${largest} bytes`);
  assert.deepEqual(figures.missing, [DEAF]);
  const want = bruteFromReduced(reduce(req.window, req.size), 1000, {
    window: req.window,
    percentile: PCT,
    marginUs: MARGIN_US,
    holdsUs: HOLDS_US,
  });
  assertFigures(figures, want);
  // What the data holds, so the comparison is not vacuous.
  assert.ok(figures.lost > 0 && figures.negative > 0);
  // Part 1 (seqs 32,700 to 39,999) lacks the silent subtree's 10 leaves:
  // all its 7,300 messages are lost, so 99 % of messages are never fair.
  assert.ok(figures.lost >= 7300 && figures.lostShare < 0.3);
  assert.equal(figures.fairness.hold99Us, null);
  assert.ok(figures.latency.p50Us !== null);
  assert.ok(figures.fairness.adaptive.judged > 0);
  assert.ok(figures.boundUs > 0);
});
