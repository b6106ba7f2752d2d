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
function raw(l: number, seq: number): number {
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

/** Every leaf's delays, generated once (1,000 x 30,000), leaf by leaf. */
const RAW = new Int32Array(1000 * COUNT);
for (let l = 0; l < 1000; l++) {
  for (let i = 0; i < COUNT; i++) RAW[l * COUNT + i] = raw(l, FIRST + i);
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
    const at = l * COUNT - FIRST;
    const delaysNs = RAW.slice(at + lo, at + Math.max(lo, hi));
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
  // Leaf by leaf (the delays are stored so), each message's worst, best, count.
  const worst = new Float64Array(COUNT).fill(-Infinity);
  const best = new Float64Array(COUNT).fill(Infinity);
  const count = new Int32Array(COUNT);
  const scratch = new Float64Array(window);
  for (let l = 0; l < nextLeaf; l++) {
    const rep = leafReported[l]!;
    const end = deaf.has(l) ? deafFrom - FIRST : COUNT;
    for (let i = 0; i < end; i++) {
      const d = RAW[l * COUNT + i]!;
      if (d === NOT_RECEIVED) continue;
      const c = d - rep;
      if (c > worst[i]!) worst[i] = c;
      if (c < best[i]!) best[i] = c;
      count[i]!++;
    }
    // Its percentile per window, in the root's clock.
    for (let w = 0; w * window < end; w++) {
      let k = 0;
      for (let i = w * window; i < (w + 1) * window; i++) {
        const d = RAW[l * COUNT + i]!;
        if (d !== NOT_RECEIVED) scratch[k++] = d - rep;
      }
      if (k === 0) continue;
      const v = percentileOf([...scratch.subarray(0, k)], PCT);
      const key = (FIRST + w * window) / window;
      r.windowMax.set(key, Math.max(r.windowMax.get(key) ?? -Infinity, v));
    }
  }
  r.worst = [...worst];
  r.best = [...best];
  r.count = [...count];
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
