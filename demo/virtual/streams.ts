/**
 * What the virtual probes of one pool share (they live in one process):
 * which probe address belongs to which VM, who streams to whom (a
 * sender's `--to` list, known when its job starts, after the jobs below
 * it), and each started stream's per-message delays along its tree paths.
 *
 * A stream starts when a `parent` job starts: every probe reachable down
 * the `--to` edges hears of it, with the node above it. A node's delays are
 * its upstream node's plus one hop of the model (`model.ts`), computed once
 * per node when first asked, so every leaf under one proxy sees the same
 * arrival at that proxy, loss included: per-message figures come out as a
 * real tree would give them.
 *
 * @module
 */
import type { ProbeKind } from "../../worker/jobs.ts";
import { mix, type NetworkModel } from "./model.ts";

/** The first port of the probes' virtual addresses (nothing binds them). */
const FIRST_PORT = 20_000;
const LAST_PORT = 65_535;

/** A stream's shape and when it started. */
export interface Stream {
  /** The model's stream number: from the root's VM, its targets' and a count. */
  id: number;
  rate: number;
  /** WARMUP messages (seqs `[0, warmup)`), then `measured` ones; END is seq `warmup + measured`. */
  warmup: number;
  measured: number;
  /** `Date.now()` at its start, ms. */
  t0: number;
  /** How long it is sent, ms (warm-up included). */
  lengthMs: number;
}

/** A virtual probe as the registry knows it. */
export interface StreamNode {
  readonly port: number;
  readonly vm: number;
  readonly kind: ProbeKind;
  /** Ports of the probes it sends to. */
  readonly to: readonly number[];
  /** Called when a stream that reaches it starts. */
  readonly onStream: (s: Stream) => void;
  /** The node it receives from (set at the stream's start). */
  up?: StreamNode;
  stream?: Stream;
  /** Proxies between the stream's root and it. */
  hops?: number;
  /** Per seq, the delay at this node, ns (NaN: lost); computed once. */
  delays?: Float64Array;
}

/** The shared registry of one pool's virtual probes. */
export class StreamRegistry {
  readonly model: NetworkModel;
  #nodes = new Map<number, StreamNode>();
  #port = FIRST_PORT;
  #seen = new Map<number, number>();

  constructor(model: NetworkModel) {
    this.model = model;
  }

  /** Registers a probe of `vm`; its node, with a fresh port. */
  add(
    vm: number,
    kind: ProbeKind,
    to: number[],
    onStream: (s: Stream) => void,
  ): StreamNode {
    const span = LAST_PORT - FIRST_PORT + 1;
    for (let i = 0; i < span && this.#nodes.has(this.#port); i++) {
      this.#port = this.#port === LAST_PORT ? FIRST_PORT : this.#port + 1;
    }
    if (this.#nodes.has(this.#port)) throw new Error("No virtual port left");
    const node: StreamNode = { port: this.#port, vm, kind, to, onStream };
    this.#nodes.set(node.port, node);
    this.#port = this.#port === LAST_PORT ? FIRST_PORT : this.#port + 1;
    return node;
  }

  /** Forgets a probe that ended (the nodes below keep their link to it). */
  remove(node: StreamNode): void {
    if (this.#nodes.get(node.port) === node) this.#nodes.delete(node.port);
  }

  /** Probes registered now. */
  get size(): number {
    return this.#nodes.size;
  }

  /**
   * Starts a stream at `root` (a parent job): `rate` messages per second,
   * `warmupS` of WARMUP, then `durationS` measured. Every probe down its
   * edges hears of it.
   */
  start(
    root: StreamNode,
    shape: { rate: number; warmupS: number; durationS: number },
  ): Stream {
    const targets = root.to.map((p) => this.#nodes.get(p)?.vm ?? -1).sort((
      a,
      b,
    ) => a - b);
    // The same root and targets again (another run) is another stream.
    const key = mix(root.vm, ...targets);
    const n = (this.#seen.get(key) ?? 0) + 1;
    this.#seen.set(key, n);
    const stream: Stream = {
      id: mix(key, n),
      rate: shape.rate,
      warmup: Math.round(shape.rate * shape.warmupS),
      measured: Math.round(shape.rate * shape.durationS),
      t0: Date.now(),
      lengthMs: (shape.warmupS + shape.durationS) * 1000,
    };
    root.stream = stream;
    root.hops = 0;
    const queue = [root];
    for (let node = queue.shift(); node; node = queue.shift()) {
      for (const port of node.to) {
        const below = this.#nodes.get(port);
        if (!below || below.stream || below.kind === "parent") continue;
        below.up = node;
        below.stream = stream;
        below.hops = node.hops! + (node.kind === "proxy" ? 1 : 0);
        queue.push(below);
        below.onStream(stream);
      }
    }
    return stream;
  }

  /** The per-seq delays at `node` of its stream, ns (NaN: lost); END's seq included. */
  delaysAt(node: StreamNode): Float64Array {
    if (node.delays) return node.delays;
    const s = node.stream!;
    const n = s.warmup + s.measured + 1;
    node.delays = node.up
      ? this.model.hop(node.up.vm, node.vm, s.id, this.delaysAt(node.up))
      : new Float64Array(n);
    return node.delays;
  }
}
