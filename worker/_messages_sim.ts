/**
 * A simulated evaluation tree for the per-message figures (issue #19), in
 * process: a tree of depth D and fanout F of evaluation jobs (root MCAST,
 * PROXY, leaf CHILD) whose leaves' delays are drawn from a seeded hash, and
 * whose parts are built, merged, encoded and decoded hop by hop by the code
 * the workers run (`jobPart`). Shared by `worker/messages_scale_test.ts`
 * (checked against the brute force) and `tests/bench/messages.ts` (sizes
 * and the manager's CPU at the exchange's size).
 *
 * Per edge a true clock offset (±200 µs, in the delays) and the one the
 * echoes measured (the true one ± 2 µs), the latter in the parent job's
 * `peers`, as the manager writes them.
 *
 * @module
 */
import { NOT_RECEIVED } from "../core/message_log.ts";
import {
  leafPart,
  type MessagePart,
  partFromWire,
  partToWire,
} from "../core/message_parts.ts";
import { seeded } from "../core/_message_testing.ts";
import {
  decode,
  emptyJob,
  encode,
  type Job,
  type PartRequest,
} from "../proto/codec.ts";
import type { JobRecord } from "./jobs.ts";
import { jobPart } from "./messages.ts";

/** What to simulate. */
export interface SimOptions {
  depth: number;
  fanout: number;
  /** The measured stream: seqs `[first, first + count)`. */
  first: number;
  count: number;
  /** Seed of the offsets (default 19). */
  seed?: number;
  /** Leaves (by index) whose delay tail is 1.5 ms longer 0.5 % of the time. */
  stragglers?: readonly number[];
  /** Leaves that lose 0.2 % of the messages. */
  lossy?: readonly number[];
  /** A leaf whose offset was measured 80 µs too large (its delays go negative). */
  skewedLeaf?: number;
  /** A worker (by owner name, e.g. `w-1-4`) that does not answer part `part`. */
  deaf?: { owner: string; part: number };
  /** Draw every leaf's delays once and keep them (count x leaves x 4 bytes). */
  keep?: boolean;
}

/** A node of the simulated tree. */
export interface SimNode {
  job: Job;
  /** Leaves: their index. */
  leaf?: number;
  children: SimNode[];
}

/** The simulated tree; see the module doc. */
export class MessageTreeSim {
  readonly root: SimNode;
  readonly byId = new Map<string, SimNode>();
  /** Per leaf, the sum of the measured offsets along its path, ns. */
  readonly leafReported: number[] = [];
  /** Leaves in the tree. */
  leaves = 0;
  /** The largest hop message encoded so far, bytes; and how many. */
  largest = 0;
  hops = 0;
  #o: SimOptions;
  #rnd: () => number;
  #leafTrue: number[] = [];
  #stragglers: Set<number>;
  #lossy: Set<number>;
  #kept: Int32Array | undefined;

  constructor(o: SimOptions) {
    this.#o = o;
    this.#rnd = seeded(o.seed ?? 19);
    this.#stragglers = new Set(o.stragglers ?? []);
    this.#lossy = new Set(o.lossy ?? []);
    this.root = this.#build("w", o.depth, 0, 0);
    const index = (n: SimNode) => {
      this.byId.set(n.job.id, n);
      n.children.forEach(index);
    };
    index(this.root);
    if (o.keep) {
      this.#kept = new Int32Array(this.leaves * o.count);
      for (let l = 0; l < this.leaves; l++) {
        for (let i = 0; i < o.count; i++) {
          this.#kept[l * o.count + i] = this.raw(l, o.first + i);
        }
      }
    }
  }

  #build(name: string, depth: number, trueSum: number, repSum: number) {
    const node: SimNode = {
      job: emptyJob({ id: `${name}.0`, owner: name, end: true }),
      children: [],
    };
    const skewed = (n: SimNode) =>
      n.leaf !== undefined && n.leaf === this.#o.skewedLeaf;
    if (depth === 0) {
      node.leaf = this.leaves++;
      node.job.flag = "CHILD";
      this.#leafTrue[node.leaf] = trueSum;
      this.leafReported[node.leaf] = repSum + (skewed(node) ? 80_000 : 0);
      return node;
    }
    node.job.flag = depth === this.#o.depth ? "MCAST" : "PROXY";
    for (let i = 0; i < this.#o.fanout; i++) {
      const off = Math.round((this.#rnd() - 0.5) * 400_000); // ±200 µs
      const err = Math.round((this.#rnd() - 0.5) * 4_000); // the estimate's error
      const child = this.#build(
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
        offsetUs: (off + err) / 1000 + (skewed(child) ? 80 : 0),
        boundUs: 1 + this.#rnd() * 9,
        samples: 10,
      });
    }
    return node;
  }

  /** Leaf `l`'s raw delay of `seq`, ns (its clock minus the root's), or NOT_RECEIVED. */
  raw(l: number, seq: number): number {
    let h = Math.imul(l + 1, 0x9e3779b1) ^ Math.imul(seq + 7, 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
    h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
    const u = ((h ^ (h >>> 15)) >>> 0) / 4294967296;
    if (this.#lossy.has(l) && u < 0.002) return NOT_RECEIVED;
    const v = (u * 1_000_003) % 1;
    let d = 40_000 + (l % 37) * 500 - 20_000 * Math.log(1 - v * 0.999);
    if (this.#stragglers.has(l) && u > 0.995) d += 1_500_000;
    return Math.round(d + this.#leafTrue[l]!);
  }

  /** Leaf `l`'s raw delays of seqs `[lo, hi)` (within the stream), a fresh array. */
  delays(l: number, lo: number, hi: number): Int32Array {
    const { first, count } = this.#o;
    if (this.#kept) {
      const at = l * count - first;
      return this.#kept.slice(at + lo, at + Math.max(lo, hi));
    }
    const out = new Int32Array(Math.max(0, hi - lo));
    for (let i = 0; i < out.length; i++) out[i] = this.raw(l, lo + i);
    return out;
  }

  /** The leaves below the worker named `owner`. */
  leavesBelow(owner: string): number[] {
    const out: number[] = [];
    const mark = (n: SimNode) =>
      n.leaf !== undefined ? out.push(n.leaf) : n.children.forEach(mark);
    mark(this.byId.get(`${owner}.0`)!);
    return out;
  }

  /** A part encoded as the ACK a worker sends (recorded in `largest` and `hops`). */
  encodeReply(part: MessagePart): Uint8Array {
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
    this.largest = Math.max(this.largest, bytes.length);
    this.hops++;
    return bytes;
  }

  /** A reply's part, decoded as its receiver does. */
  static decodeReply(bytes: Uint8Array): MessagePart {
    return partFromWire(decode(bytes).data.report!.part!);
  }

  /** One hop up: the part encoded, recorded, decoded. */
  hop(part: MessagePart): MessagePart {
    return MessageTreeSim.decodeReply(this.encodeReply(part));
  }

  /** The worker owning `dep` answers part `req` (a hop up to its parent). */
  ask = async (dep: Job, req: PartRequest): Promise<MessagePart> => {
    const node = this.byId.get(dep.id)!;
    const deaf = this.#o.deaf;
    if (deaf && node.job.owner === deaf.owner && req.index === deaf.part) {
      throw new Error(`Worker "${deaf.owner}" did not answer`);
    }
    if (node.leaf !== undefined) {
      const { first, count } = this.#o;
      const lo = Math.max(req.index * req.size, first);
      const hi = Math.min((req.index + 1) * req.size, first + count);
      return this.hop(
        leafPart(
          { firstSeq: lo, delaysNs: this.delays(node.leaf, lo, hi) },
          req.window,
          req.percentile,
          { startSeq: first, endSeq: first + count },
        ),
      );
    }
    return this.hop(await this.jobPart(node, req));
  };

  /** A proxy's or the root's part `req`, merged from its children (not encoded). */
  jobPart(node: SimNode, req: PartRequest): Promise<MessagePart> {
    const rec = {
      job: node.job,
      finalReport: undefined,
    } as unknown as JobRecord;
    return jobPart(rec, req, this.ask);
  }
}
