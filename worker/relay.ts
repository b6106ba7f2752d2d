/**
 * A worker's requests to the layer below: the COMMAND relayed to each worker
 * below (their probes must listen before this one sends), STOP of the jobs
 * below, and REPORT of a job below. One REQ client per worker below (and
 * retry count); every deadline grows with the layers below the worker asked
 * (`core/defaults.ts` `relayedDeadlineMs`).
 *
 * @module
 */
import {
  PROBE_START_MS,
  relayedDeadlineMs,
  relayRetries,
} from "../core/defaults.ts";
import type { Node } from "../core/node.ts";
import { relayedPorts, relayedTags } from "../core/roster.ts";
import { type CurveClientKeys, ReqClient } from "../core/transport.ts";
import {
  type Command,
  emptyJob,
  type Job,
  type Report,
} from "../proto/codec.ts";
import { HedgedRelay } from "./hedge.ts";
import { BadAnswer, RelayError } from "./relay_errors.ts";
import { height, probeAddrProblem } from "./validate.ts";

/** Options of a {@link Relay}. */
export interface RelayOptions {
  /** Deadline of each relayed request attempt, ms (scaled by the layers below). */
  timeoutMs: number;
  /** CURVE keys for the workers below (they share the worker key pair). */
  curve?: CurveClientKeys | undefined;
}

/** The requests one worker (`node`) sends to the workers below it. */
export class Relay {
  #node: Node;
  #timeoutMs: number;
  #curve: CurveClientKeys | undefined;
  #clients = new Map<string, ReqClient>();
  /**
   * Where each worker below is reached: its name resolved once per run, at
   * its relay port when it has one (`roster.ts`).
   */
  #targets = new Map<string, string>();

  constructor(node: Node, opts: RelayOptions) {
    this.#node = node;
    this.#timeoutMs = opts.timeoutMs;
    this.#curve = opts.curve;
  }

  /**
   * Deadline of a request relayed to a worker with `layers` layers below it;
   * a COMMAND's also covers the probe start at every layer.
   */
  #deadline(layers: number, startMs = 0): number {
    return relayedDeadlineMs(this.#timeoutMs, layers, startMs);
  }

  /**
   * The REQ socket to the worker at `addr` (reached where the run pinned it),
   * with `layers` layers below it.
   */
  #client(addr: string, layers: number): ReqClient {
    const retries = relayRetries(layers);
    const target = this.#targets.get(addr) ?? addr;
    const key = `${retries}/${target}`;
    let c = this.#clients.get(key);
    if (!c) {
      c = new ReqClient(target, {
        timeoutMs: this.#timeoutMs,
        retries,
        ...(this.#curve ? { curve: this.#curve } : {}),
      });
      this.#clients.set(key, c);
    }
    return c;
  }

  /**
   * Relays `cmd` one layer down, its stream to come from host `sender`,
   * each worker below reached at its `targets` entry (its address as the
   * run resolved it, `roster.ts`) and given the run's tags of its subtree;
   * resolves to the started jobs, in addrs order. A lost subtree of an
   * evaluation is an ended job naming why; a lost child of a PARENT (or
   * every subtree lost) stops what started and throws {@link RelayError}.
   */
  async command(
    cmd: Command,
    sender: string,
    targets: ReadonlyMap<string, string> = new Map(),
  ): Promise<Job[]> {
    for (const [addr, target] of targets) this.#targets.set(addr, target);
    const hedged = HedgedRelay.of(cmd);
    const settled = await Promise.allSettled(cmd.addrs.map(async (addr, i) => {
      const sub = cmd.subtrees[i] ?? { addr, children: [] };
      const h = height(sub);
      const { hedge: _, ...base } = cmd;
      let command: Command = {
        ...base,
        flag: h > 0 ? "PROXY" : "CHILD",
        layer: h,
        addrs: sub.children.map((c) => c.addr),
        subtrees: h > 0 ? sub.children : [],
        senders: [sender, ...sub.hedgeSenders ?? []],
      };
      command.rosterTags = relayedTags(cmd, command);
      command.relayPorts = relayedPorts(cmd, command);
      const send = async (command: Command) =>
        (await this.#node.request(
          this.#client(addr, h),
          () => this.#node.message("COMMAND", addr, { command }),
          { timeoutMs: this.#deadline(h, PROBE_START_MS) },
        )).reply;
      if (hedged !== null && h > 0) {
        let held: Job | null = null; // two phases (hedge.ts)
        try {
          held = (await send(hedged.hold(i, command))).data.report?.job ?? null;
        } finally {
          await hedged.heard(held);
        }
        command = hedged.start(i, command);
      } else if (hedged !== null) await hedged.heard(null);
      const reply = await send(command);
      const job = reply.data.report?.job;
      if (!job || !job.addr) {
        throw new Error(`Worker "${addr}" answered without a probe address`);
      }
      // The owner is the address this worker reaches it at (for REPORT).
      const started = { ...job, owner: addr };
      // The address goes into this worker's probe flags (--to): it must be
      // a probe address, nothing else.
      const bad = probeAddrProblem(job.addr);
      if (bad) throw new BadAnswer(started, `Worker "${addr}" answered ${bad}`);
      return started;
    }));
    const jobs: Job[] = [];
    const failures: { addr: string; why: string }[] = [];
    const strays: Job[] = [];
    settled.forEach((r, i) => {
      const addr = cmd.addrs[i]!;
      if (r.status === "fulfilled") return void jobs.push(r.value);
      const why = r.reason instanceof Error
        ? r.reason.message
        : String(r.reason);
      if (r.reason instanceof BadAnswer) strays.push(r.reason.job);
      failures.push({ addr, why });
      // A lost subtree of an evaluation is reported, not fatal: the stream
      // goes to the rest of the tree.
      jobs.push(emptyJob({
        flag: (cmd.subtrees[i]?.children.length ?? 0) > 0 ? "PROXY" : "CHILD",
        owner: addr,
        end: true,
        error: `Lost: ${why}`,
      }));
    });
    // Started, but with an address this worker will not send to.
    await this.stop(strays);
    const first = failures[0];
    if (
      first && (cmd.flag === "PARENT" || failures.length === cmd.addrs.length)
    ) {
      await this.stop(jobs.filter((j) => j.id !== ""));
      throw new RelayError(
        first.addr,
        `Cannot start the ${
          cmd.flag === "PARENT" ? "child" : "subtree"
        } job on "${first.addr}": ${first.why}`,
      );
    }
    return jobs;
  }

  /** Sends STOP for each job below to its owner; failures are ignored. */
  async stop(deps: Job[]): Promise<void> {
    await Promise.allSettled(
      deps.filter((d) => d.id !== "" && !d.end).map((d) =>
        this.#node.request(
          this.#client(d.owner, _layers(d)),
          () =>
            this.#node.message("STOP", d.owner, {
              report: { job: emptyJob({ id: d.id }), complete: false },
            }),
          { timeoutMs: this.#deadline(_layers(d)) },
        )
      ),
    );
  }

  /** REPORT to the owner of `dep` (its job named), with `ask` added. */
  async ask(dep: Job, ask: Partial<Report> = {}): Promise<Report> {
    const { reply } = await this.#node.request(
      this.#client(dep.owner, _layers(dep)),
      () =>
        this.#node.message("REPORT", dep.owner, {
          report: { job: emptyJob({ id: dep.id }), complete: false, ...ask },
        }),
      { timeoutMs: this.#deadline(_layers(dep)) },
    );
    const report = reply.data.report;
    if (!report) throw new Error("answered without a report");
    return report;
  }

  /** Closes every socket to the workers below. */
  close(): void {
    for (const c of this.#clients.values()) c.close();
    this.#clients.clear();
  }
}

/** Layers of workers below a job's owner (its `params` end with the layer). */
function _layers(job: Job): number {
  return job.params[4] ?? 0;
}
