/**
 * The network model of a virtual pool (`treecast demo --virtual N`): every
 * draw is a pure function of the seed and what it is about (a VM, a link, a
 * stream, a message), so any node computes a message's delay without
 * talking to another, and one seed gives the same network every run.
 *
 * Per VM `v` (drawn once from the seed, kept for the whole run: Bobtail,
 * NSDI'13, measured slow EC2 VMs staying slow):
 * - a base one-way delay share `base_v`, uniform in 20-60 µs;
 * - a jitter distribution: lognormal with median `med_v` uniform in 4-12 µs
 *   and sigma uniform in 0.5-0.9, plus rare spikes (probability 0.002 per
 *   message) from a Pareto of scale 50 µs and index 1.5 (capped at 5 ms);
 * - a straggler (a share of the VMs, default 5 %) has a tail `k_v` uniform
 *   in 2-10: above its median, each jitter draw lies `k_v` times farther
 *   from the median (its median stays, its tail is 2-10x worse), and it
 *   loses `k_v` times as many messages.
 *
 * One message `m` of stream `s` over the link `a -> b` takes
 * `base_a + base_b + pair(a, b) + tx_a(s, m) + rx_b(s, m)`: `pair` uniform
 * in 0-30 µs per unordered pair, `tx` and `rx` draws of the sender's and
 * the receiver's jitter. The sender's `tx` is the same for all its children
 * (a hiccup of a proxy delays its whole subtree). The receiver loses the
 * message with probability {@link LOSS} (× `k_v` for a straggler); a
 * message lost on the way is lost for the whole subtree below.
 *
 * @module
 */

/** Per-message loss at a receiver that is no straggler. */
export const LOSS = 1e-4;
/** Default share of stragglers. */
export const STRAGGLER_SHARE = 0.05;
const SPIKE_P = 0.002;
const SPIKE_SCALE_US = 50;
const SPIKE_INDEX = 1.5;
const SPIKE_CAP_US = 5000;

/** One virtual VM's draws. */
export interface Vm {
  index: number;
  baseUs: number;
  /** Median of its jitter, µs. */
  medianUs: number;
  sigma: number;
  /** 1, or 2-10 for a straggler. */
  tail: number;
  straggler: boolean;
}

/** What a model is made from. */
export interface ModelOptions {
  seed: number;
  vms: number;
  /** Share of stragglers in [0, 1) (default {@link STRAGGLER_SHARE}). */
  stragglers?: number;
  /** Per-message loss at a receiver that is no straggler (default {@link LOSS}). */
  loss?: number;
}

/** A 32-bit mix of a list of integers (murmur3's finaliser over a running hash). */
export function mix(...xs: number[]): number {
  let h = 0x9e3779b9;
  for (const x of xs) {
    h = Math.imul(h ^ (x | 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** A uniform draw in (0, 1) for the integers `xs`. */
export function uniform(...xs: number[]): number {
  return (mix(...xs) + 0.5) / 4294967296;
}

/** Tags that keep the draws of different quantities apart. */
const enum Tag {
  Base = 1,
  Median,
  Sigma,
  Straggler,
  Tail,
  Pair,
  Tx,
  Rx,
  Loss,
}

/** The seeded network; see the module doc. */
export class NetworkModel {
  readonly seed: number;
  readonly vms: readonly Vm[];
  readonly loss: number;

  constructor(o: ModelOptions) {
    this.seed = o.seed;
    this.loss = o.loss ?? LOSS;
    const share = o.stragglers ?? STRAGGLER_SHARE;
    const count = Math.round(share * o.vms);
    // The stragglers: the `count` VMs of the lowest draws (exactly `count`).
    const order = Array.from({ length: o.vms }, (_, i) => i).sort((a, b) =>
      uniform(o.seed, Tag.Straggler, a) - uniform(o.seed, Tag.Straggler, b)
    );
    const slow = new Set(order.slice(0, count));
    this.vms = Array.from({ length: o.vms }, (_, i) => {
      const u = (t: Tag) => uniform(o.seed, t, i);
      const straggler = slow.has(i);
      return {
        index: i,
        baseUs: 20 + 40 * u(Tag.Base),
        medianUs: 4 + 8 * u(Tag.Median),
        sigma: 0.5 + 0.4 * u(Tag.Sigma),
        tail: straggler ? 2 + 8 * u(Tag.Tail) : 1,
        straggler,
      };
    });
  }

  /** The indexes of the stragglers, ascending. */
  stragglers(): number[] {
    return this.vms.filter((v) => v.straggler).map((v) => v.index);
  }

  /**
   * The delays, ns, of messages `[0, n)` of stream `stream` over the link
   * `a -> b`, added to `upstream` (the delays at `a`; NaN: lost before);
   * NaN where lost.
   */
  hop(
    a: number,
    b: number,
    stream: number,
    upstream: Float64Array,
  ): Float64Array {
    const va = this.vms[a]!;
    const vb = this.vms[b]!;
    const lo = Math.min(a, b);
    const hi = Math.max(a, b);
    const baseUs = va.baseUs + vb.baseUs +
      30 * uniform(this.seed, Tag.Pair, lo, hi);
    const loss = Math.min(1, this.loss * vb.tail);
    const out = new Float64Array(upstream.length);
    for (let m = 0; m < out.length; m++) {
      const up = upstream[m]!;
      if (
        Number.isNaN(up) || uniform(this.seed, Tag.Loss, stream, b, m) < loss
      ) {
        out[m] = NaN;
        continue;
      }
      const us = baseUs + this.#jitter(va, Tag.Tx, stream, m) +
        this.#jitter(vb, Tag.Rx, stream, m);
      out[m] = up + us * 1000;
    }
    return out;
  }

  /** One jitter draw of `vm` for message `m` of `stream`, µs. */
  #jitter(vm: Vm, tag: Tag, stream: number, m: number): number {
    const s = this.seed;
    const i = vm.index;
    // Box-Muller: a standard normal from two uniforms.
    const z = Math.sqrt(-2 * Math.log(uniform(s, tag, i, stream, m, 1))) *
      Math.cos(2 * Math.PI * uniform(s, tag, i, stream, m, 2));
    let x = vm.medianUs * Math.exp(vm.sigma * z);
    const spike = uniform(s, tag, i, stream, m, 3);
    if (spike < SPIKE_P) {
      // Pareto by inversion, reusing the spike draw rescaled into (0, 1).
      const v = spike / SPIKE_P;
      x += Math.min(SPIKE_CAP_US, SPIKE_SCALE_US * v ** (-1 / SPIKE_INDEX));
    }
    return x <= vm.medianUs ? x : vm.medianUs + (x - vm.medianUs) * vm.tail;
  }
}
