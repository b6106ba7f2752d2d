/**
 * The manager's side of the `messages` bench section (#19), in a process of
 * its own: the root's replies (bytes) of a simulated evaluation decoded and
 * accumulated by `collectMessageFigures`, first as a stream ten times as
 * long (each part's seqs shifted, as a longer stream's parts come; RSS and
 * V8's live heap after a full GC before each part), then three times as
 * they are (process CPU time of each, /proc/self/stat).
 *
 *     deno run -A --v8-flags=--expose-gc tests/bench/messages_replay.ts FILE RATE SECONDS RECEIVERS
 *
 * reads FILE (each reply a u32 length, then its bytes) and prints one JSON
 * line ({@link Replay}).
 *
 * @module
 */
import type { MessagePart } from "../../core/message_parts.ts";
import {
  collectMessageFigures,
  type CollectOptions,
  partRequest,
} from "../../manager/messages.ts";
import { MessageTreeSim } from "../../worker/_messages_sim.ts";
import { cpuSeconds } from "./_procs.ts";
import { r1, r3 } from "./_util.ts";

/** The stream is replayed this many times over, for the memory. */
const REPEATS = 10;

const rssMib = () => r1(Deno.memoryUsage().rss / 2 ** 20);
/** V8's live heap after a full GC, MiB (the replay runs with --expose-gc). */
const liveMib = () => {
  (globalThis as { gc?: () => void }).gc?.();
  return r3(Deno.memoryUsage().heapUsed / 2 ** 20);
};

/** A part of a stream `shift` seqs later. */
function _shifted(p: MessagePart, shift: number): MessagePart {
  return {
    ...p,
    firstSeq: p.firstSeq + shift,
    startSeq: p.startSeq + shift,
    endSeq: p.endSeq + shift,
  };
}

/** The manager's options of the figures. */
export const figureOptions = (
  rate: number,
  receivers: number,
): CollectOptions => ({
  rate,
  receivers,
  correct: true,
});

/** What the manager's process measured (see {@link _replay}). */
export interface Replay {
  cpu_runs_s: number[];
  wall_s: number;
  rss_mib: number[];
  live_mib: number[];
  messages: number;
  parts: number;
}

/**
 * The manager alone, in this process: the root's replies `replies` (bytes)
 * decoded and accumulated by `collectMessageFigures`, first as a stream
 * ten times as long (RSS before each part), then three times as they are
 * (process CPU time of each).
 */
async function _replay(
  replies: Uint8Array[],
  rate: number,
  seconds: number,
  receivers: number,
): Promise<Replay> {
  const opts = figureOptions(rate, receivers);
  const S = partRequest(0, opts).size;
  const end = rate + seconds * rate;
  const span = Math.ceil(end / S) * S; // whole parts: windows never straddle
  const rss: number[] = [rssMib()], live: number[] = [liveMib()];
  const long = await collectMessageFigures((k) => {
    live.push(liveMib());
    rss.push(rssMib());
    const copy = Math.floor(k / replies.length);
    const p = _shifted(
      MessageTreeSim.decodeReply(replies[k % replies.length]!),
      copy * span,
    );
    // The stream's extent: all ten copies (the seqs between two copies,
    // past the original's end, are judged lost).
    p.endSeq = end + (REPEATS - 1) * span;
    return Promise.resolve(p);
  }, opts);
  live.push(liveMib());
  rss.push(rssMib());
  const cpu: number[] = [];
  let wall = 0;
  for (let i = 0; i < 3; i++) {
    const c0 = cpuSeconds(Deno.pid)!, t0 = performance.now();
    await collectMessageFigures(
      (k) => Promise.resolve(MessageTreeSim.decodeReply(replies[k]!)),
      opts,
    );
    cpu.push(r3(cpuSeconds(Deno.pid)! - c0));
    wall = Math.max(wall, performance.now() - t0);
  }
  return {
    cpu_runs_s: cpu,
    wall_s: r3(wall / 1000),
    rss_mib: rss,
    live_mib: live,
    messages: long.messages,
    parts: replies.length,
  };
}

/** Replies as one file: each a u32 length, then its bytes. */
function _pack(replies: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(
    replies.reduce((a, r) => a + 4 + r.length, 0),
  );
  const v = new DataView(out.buffer);
  let at = 0;
  for (const r of replies) {
    v.setUint32(at, r.length, true);
    out.set(r, at + 4);
    at += 4 + r.length;
  }
  return out;
}

function _unpack(b: Uint8Array): Uint8Array[] {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: Uint8Array[] = [];
  for (let at = 0; at < b.length;) {
    const n = v.getUint32(at, true);
    out.push(b.slice(at + 4, at + 4 + n));
    at += 4 + n;
  }
  return out;
}

/** {@link _replay} in a process of its own (a fresh heap: the manager's). */
export async function replayApart(
  replies: Uint8Array[],
  rate: number,
  seconds: number,
  receivers: number,
): Promise<Replay> {
  const file = await Deno.makeTempFile({ suffix: ".parts" });
  try {
    await Deno.writeFile(file, _pack(replies));
    const o = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--v8-flags=--expose-gc",
        new URL(import.meta.url).pathname,
        file,
        String(rate),
        String(seconds),
        String(receivers),
      ],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    if (!o.success) throw new Error("The manager's replay process failed");
    return JSON.parse(new TextDecoder().decode(o.stdout));
  } finally {
    await Deno.remove(file);
  }
}

if (import.meta.main) {
  const [file, rate, seconds, receivers] = Deno.args;
  const replies = _unpack(await Deno.readFile(file!));
  console.log(JSON.stringify(
    await _replay(replies, Number(rate), Number(seconds), Number(receivers)),
  ));
}
