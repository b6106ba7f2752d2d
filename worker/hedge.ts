/**
 * The relay of a hedged tree (issue #22, `manager/hedge.ts`): a proxy A
 * also forwards to the children of its siblings (its hedge children), whose
 * probe addresses only their own parent's worker learns, from their ACKs,
 * after they started. The worker G that relays to A and its siblings is the
 * one that hears of all of them, so G relays in two phases:
 *
 * 1. To every child, the relayed command with `hedge {phase 1, key}`: the
 *    child relays below as usual (so every probe under it listens), starts
 *    no probe of its own, keeps the jobs below ({@link HeldRelays}) and
 *    answers with them (each with its probe address and owner). Its
 *    children's subtrees carry `hedgeSenders`: the hosts of their hedge
 *    parents (the host of each hedge parent's control address, which is its
 *    probe host unless the worker runs with `--probe-host`), which the
 *    probes below take datagrams from besides their parent (`--from`).
 * 2. Once every phase 1 has ended, to every child `hedge {phase 2, key,
 *    to}`: `to` the probe addresses of its hedge children; the child starts
 *    its probe forwarding to its own children and to those.
 *
 * A child whose phase 1 fails is a lost subtree, as in the one-phase relay;
 * a hedge child that never started is left out of `to`. A held relay whose
 * phase 2 never comes is stopped after the command's timeout.
 *
 * @module
 */
import { splitHostPort } from "../core/cli.ts";
import type { Command, HedgeStep, Job, Subtree } from "../proto/codec.ts";

/** The two phases of one hedged relay at G; see the module doc. */
export class HedgedRelay {
  readonly #subs: Subtree[];
  readonly #key: string;
  /** Probe address by control address of every grandchild heard of. */
  readonly #probes = new Map<string, string>();
  #left: number;
  readonly #all: Promise<void>;
  #done!: () => void;

  private constructor(subs: Subtree[], key: string) {
    this.#subs = subs;
    this.#key = key;
    this.#left = subs.length;
    this.#all = new Promise((r) => this.#done = r);
  }

  /** The hedged relay of `cmd`, or null when none of its subtrees hedges. */
  static of(cmd: Command): HedgedRelay | null {
    if (!cmd.subtrees.some((s) => (s.hedges ?? []).length > 0)) return null;
    return new HedgedRelay(cmd.subtrees, crypto.randomUUID());
  }

  /** Phase 1 of the command relayed to child `i`: its subtrees with their hedge senders. */
  hold(i: number, relayed: Command): Command {
    const subtrees = relayed.subtrees.map((c) => {
      const from = this.#subs.filter((s, j) =>
        j !== i && (s.hedges ?? []).includes(c.addr)
      ).map((s) => splitHostPort(s.addr).hostname);
      return from.length > 0 ? { ...c, hedgeSenders: from } : c;
    });
    return { ...relayed, subtrees, hedge: this.#step(1, []) };
  }

  /**
   * Notes child `i`'s phase-1 answer (`held`: its job with the jobs below;
   * null when it failed); resolves once every child's phase 1 has ended.
   */
  heard(held: Job | null): Promise<void> {
    for (const d of held?.deps ?? []) {
      if (d.addr !== "") this.#probes.set(d.owner, d.addr);
    }
    if (--this.#left === 0) this.#done();
    return this.#all;
  }

  /** Phase 2 of the command relayed to child `i`: its hedge children's probe addresses. */
  start(i: number, relayed: Command): Command {
    const to = (this.#subs[i]!.hedges ?? []).map((h) => this.#probes.get(h))
      .filter((a): a is string => a !== undefined);
    return { ...relayed, hedge: this.#step(2, to) };
  }

  #step(phase: number, to: string[]): HedgeStep {
    return { phase, key: this.#key, to };
  }
}

/** Relays held by phase 1 at a child A, until their phase 2 (or timeout). */
export class HeldRelays {
  readonly #held = new Map<
    string,
    { deps: Job[]; timer: ReturnType<typeof setTimeout> }
  >();

  /** Holds `deps` under `key` from `src`; `expire` runs if phase 2 never takes them within `ms`. */
  put(src: string, key: string, deps: Job[], ms: number, expire: () => void) {
    const k = `${src}\n${key}`;
    const old = this.#held.get(k);
    if (old) clearTimeout(old.timer);
    const timer = setTimeout(() => {
      this.#held.delete(k);
      expire();
    }, ms);
    this.#held.set(k, { deps, timer });
  }

  /** The jobs phase 1 of `key` from `src` started; throws when none is held. */
  take(src: string, key: string): Job[] {
    const k = `${src}\n${key}`;
    const h = this.#held.get(k);
    if (!h) {
      throw new Error(
        `No relay held under hedge key "${key}" from "${src}" (phase 1 ` +
          "never came, or it expired)",
      );
    }
    clearTimeout(h.timer);
    this.#held.delete(k);
    return h.deps;
  }

  /** Forgets every held relay (the worker closes); returns their jobs. */
  clear(): Job[] {
    const out = [...this.#held.values()];
    this.#held.clear();
    for (const h of out) clearTimeout(h.timer);
    return out.flatMap((h) => h.deps);
  }
}
