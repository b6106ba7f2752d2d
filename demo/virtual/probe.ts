/**
 * A virtual probe: what a probe process gives the worker's job table
 * (`worker/jobs.ts` `ProbeRunner`), answered from the network model. It
 * reads the same flags the worker builds for a real probe, prints the same
 * ready line at once, lasts the stream's time for real (the manager's
 * deadlines expect it) doing nothing meanwhile, and at the end prints the
 * result line the real probe would print, computed from the model (a
 * receiver's statistics with `probes/stats.ts`, a leaf's per-message log
 * with `probes/messages.ts`, so the worker reads and merges it unchanged).
 * SIGTERM ends it with the messages sent so far (exit 130), SIGKILL
 * without a result.
 *
 * @module
 */
import { joinHostPort, splitHostPort } from "../../core/cli.ts";
import type { ProbeKind, ProbeRun, ProbeRunner } from "../../worker/jobs.ts";
import { END_COPIES } from "../../probes/defaults.ts";
import { MessageBook } from "../../probes/messages.ts";
import { LatencyStats } from "../../probes/stats.ts";
import type { Stream, StreamNode, StreamRegistry } from "./streams.ts";

/** The probe flags the virtual probe reads (the rest are accepted and ignored). */
interface Flags {
  values: Map<string, string>;
  record: boolean;
}

/** The job table's probe runner for the VM `vm` of a pool. */
export function virtualRunner(reg: StreamRegistry, vm: number): ProbeRunner {
  return (kind, args) => new VirtualProbe(reg, vm, kind, _flags(args));
}

function _flags(args: string[]): Flags {
  const values = new Map<string, string>();
  let record = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--record") record = true;
    else if (a.startsWith("--") && i + 1 < args.length) {
      values.set(a.slice(2), args[++i]!);
    }
  }
  return { values, record };
}

class VirtualProbe implements ProbeRun {
  readonly pid = 0;
  #reg: StreamRegistry;
  #vm: number;
  #kind: ProbeKind;
  #flags: Flags;
  #node: StreamNode | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #finish: (reason: "end" | "no_stream" | "interrupted" | "killed") => void =
    () => {};

  constructor(reg: StreamRegistry, vm: number, kind: ProbeKind, f: Flags) {
    this.#reg = reg;
    this.#vm = vm;
    this.#kind = kind;
    this.#flags = f;
  }

  #num(flag: string, fallback: number): number {
    const v = Number(this.#flags.values.get(flag));
    return Number.isFinite(v) ? v : fallback;
  }

  run(
    onOut: (line: string) => void,
    onErr: (line: string) => void,
  ): Promise<number> {
    const f = this.#flags.values;
    const to = (f.get("to") ?? "").split(",").filter((a) => a !== "").map((
      a,
    ) => splitHostPort(a).port);
    const host = splitHostPort(f.get("bind") ?? "127.0.0.1:0").hostname;
    const ended = new Promise<number>((resolve) => {
      this.#finish = (reason) => {
        clearTimeout(this.#timer);
        this.#finish = () => {};
        const node = this.#node!;
        this.#reg.remove(node);
        if (reason === "killed") return resolve(137);
        const result = this.#result(node, reason, host);
        onOut(JSON.stringify(result));
        if (result.error) onErr(`error: ${result.error}`);
        resolve(reason === "interrupted" ? 130 : result.error ? 1 : 0);
      };
    });
    const node = this.#reg.add(this.#vm, this.#kind, to, (s) => this.#heard(s));
    this.#node = node;
    onOut(JSON.stringify({
      event: "ready",
      probe: this.#kind,
      bind: joinHostPort({ hostname: host, port: node.port }),
    }));
    if (this.#kind === "parent") {
      const s = this.#reg.start(node, {
        rate: this.#num("rate", 1000),
        warmupS: this.#num("warmup", 0),
        durationS: this.#num("duration", 1),
      });
      this.#timer = setTimeout(() => this.#finish("end"), s.lengthMs);
    } else {
      const timeoutS = this.#num("timeout", this.#num("duration", 1) + 5);
      this.#timer = setTimeout(
        () => this.#finish("no_stream"),
        timeoutS * 1000,
      );
    }
    return ended;
  }

  /** A stream reaching this receiver started: end with it. */
  #heard(s: Stream): void {
    clearTimeout(this.#timer);
    const left = s.t0 + s.lengthMs - Date.now();
    this.#timer = setTimeout(() => this.#finish("end"), Math.max(0, left));
  }

  kill(signal: Deno.Signal): void {
    this.#finish(signal === "SIGKILL" ? "killed" : "interrupted");
  }

  /** The result line the real probe would print. */
  #result(
    node: StreamNode,
    reason: "end" | "no_stream" | "interrupted",
    host: string,
  ): Record<string, unknown> & { error: string | null } {
    const s = node.stream;
    const bind = joinHostPort({ hostname: host, port: node.port });
    const elapsed = s ? Math.max(0, Date.now() - s.t0) / 1000 : 0;
    // Messages sent by now: all of them unless interrupted.
    const sent = !s
      ? 0
      : reason === "end"
      ? s.warmup + s.measured + 1
      : Math.min(s.warmup + s.measured, Math.floor(elapsed * s.rate));
    const common = {
      event: "result",
      probe: this.#kind,
      io: this.#flags.values.get("io") ?? "deno",
      elapsed_s: elapsed,
    };
    if (this.#kind === "parent") {
      return {
        ...common,
        sent: sent + (reason === "end" ? END_COPIES - 1 : END_COPIES),
        children: node.to.length,
        late_share: 0,
        lateness_us: { p50: 0, p99: 0, max: 0 },
        rate: s?.rate ?? 0,
        duration: this.#num("duration", 0),
        warmup: s?.warmup ?? 0,
        size: this.#num("size", 24),
        send_errors: 0,
        stop: reason === "end" ? "end" : "interrupted",
        timestamps: "user",
        echoes: 0,
        stray_echoes: 0,
        peers: [],
        error: null,
      };
    }
    const stop = reason === "interrupted"
      ? "interrupted"
      : s
      ? "end"
      : "no_stream";
    const error = stop === "no_stream"
      ? `No stream arrived at "${bind}" within ${this.#num("timeout", 0)} s`
      : null;
    const recv = {
      bind,
      stop,
      error,
      timestamps: this.#flags.values.get("timestamps") ?? "user",
      malformed: 0,
      dropped: 0,
      echoes: 0,
      emulated: null,
    };
    const measured = s ? this.#measure(node, s, sent) : undefined;
    if (this.#kind === "child") {
      return { ...common, ...recv, ...measured?.record, ...measured?.extra };
    }
    return {
      ...common,
      ...recv,
      ...(this.#flags.record ? measured?.record : {}),
      children: node.to.length,
      datagrams: measured?.datagrams ?? 0,
      forwarded: measured?.datagrams ?? 0,
      send_errors: 0,
      end_seen: measured?.record.end_seen ?? false,
      hops: node.hops ?? 0,
      peers: [],
      stray_echoes: 0,
    };
  }

  /** A receiver's statistics over seqs `[0, sent)` of its stream. */
  #measure(node: StreamNode, s: Stream, sent: number) {
    const delays = this.#reg.delaysAt(node);
    const path = this.#flags.values.get("messages");
    const book = path === undefined ? null : new MessageBook({
      path,
      rate: this.#num("rate", s.rate),
      warmup: this.#num("warmup", 0),
    }, this.#num("duration", s.lengthMs / 1000));
    const stats = new LatencyStats();
    const end = s.warmup + s.measured;
    let received = 0, warm = 0, datagrams = 0, reordered = 0;
    let first: number | null = null, last: number | null = null;
    let latest = -Infinity;
    for (let m = 0; m < Math.min(sent, end); m++) {
      const d = delays[m]!;
      if (Number.isNaN(d)) continue;
      datagrams++;
      if (m < s.warmup) {
        warm++;
        continue;
      }
      const arrivalNs = (m * 1e9) / s.rate + d;
      if (arrivalNs < latest) reordered++;
      latest = Math.max(latest, arrivalNs);
      first ??= m;
      last = m;
      received++;
      stats.record(d, Math.floor((m - s.warmup) / s.rate));
      book?.note(m, d);
    }
    const endSeen = sent > end;
    if (endSeen) datagrams++;
    const expected = Math.max(0, Math.min(sent, end) - s.warmup);
    const record = {
      received,
      lost: Math.max(0, (endSeen ? s.measured : expected) - received),
      duplicates: 0,
      reordered,
      warmup: warm,
      end_seen: endSeen,
      hops: node.hops ?? 0,
      first_seq: first,
      last_seq: last,
      negative: stats.negative,
      latency_us: stats.summary(),
      series: stats.series(),
      series_dropped: stats.seriesDropped,
      histogram: stats.encodedHistogram(),
    };
    const extra = book
      ? {
        messages: book.write({
          warmupMax: s.warmup - 1,
          measuredMin: first,
          measuredMax: last,
          endSeq: endSeen ? end : -1,
        }),
      }
      : {};
    return { record, extra, datagrams };
  }
}
