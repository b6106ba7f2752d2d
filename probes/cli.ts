/**
 * CLI shells of the probes: `treecast parent`, `treecast child`,
 * `treecast proxy`. Each turns flags into typed options, runs its core, and
 * writes JSON lines on stdout (one object per line, each with `"event"`):
 * child and proxy first `{"event":"ready",...}` with the bound address, then
 * every probe one `{"event":"result",...}`. Warnings and errors go to stderr.
 *
 * Exit codes: 0 done; 2 usage error; 1 runtime failure (an `error:` line on
 * stderr, and the result line with what was measured); 130 interrupted by
 * SIGINT/SIGTERM (partial result line printed).
 *
 * @module
 */
import {
  type Command,
  type CommandSpec,
  Interrupted,
  type Io,
  parseHostPort,
  parseHostPortList,
  parseNumber,
  parseSeconds,
  required,
  runCommand,
  stdio,
  UsageError,
} from "../core/cli.ts";
import { runChild } from "./child.ts";
import {
  DEADLINE_GRACE_S,
  DEADLINE_GRACE_SHARE,
  IDLE_TIMEOUT_S,
  LATE_THRESHOLD_US,
  MAX_DATAGRAM_BYTES,
  MESSAGES_MAX,
  START_TIMEOUT_S,
} from "./defaults.ts";
import { parseEmulation } from "./emulate.ts";
import {
  checkTimestamps,
  type IoMode,
  parseIoMode,
  parseTimestampMode,
  resolveIo,
  type TimestampMode,
} from "./io.ts";
import type { MessageLogSpec } from "./messages.ts";
import type { StopReason } from "./net.ts";
import { runParent } from "./parent.ts";
import { runProxy } from "./proxy.ts";
import { FROM_FLAG, FROM_HELP, parseSources } from "./sources.ts";
import { HEADER_BYTES } from "./wire.ts";

/** The largest `--messages-max` (400 MB of entries). */
const MESSAGES_MAX_LIMIT = 100_000_000;

const TIMEOUTS =
  `Timeouts: --timeout is the wait for the first datagram (a stream that never
starts is an error, exit 1). Once started, the stream ends at END, or when no
datagram came for ${IDLE_TIMEOUT_S} s (or 10 mean gaps if longer), or at
duration + max(${DEADLINE_GRACE_S} s, ${DEADLINE_GRACE_SHARE} x duration) after its first datagram.`;

const EMULATE =
  `--emulate delay=D,jitter=J[,loss=P][,seed=N] emulates a slow VM: each datagram
is dropped with probability P, else gets an extra delay uniform in [D-J, D+J]
(clamped at 0) added to its emu_ns. Nothing sleeps; the result says "emulated".
offset=O (signed, e.g. -300us) fakes a skewed clock: this probe's clock reads
O ahead, for its delays and for the echoes its sender measures offsets with.`;

const IO =
  `--io picks the I/O backend: native (Linux x86_64/arm64: libc through FFI,
needs --allow-ffi; the hot loop in a Worker thread, recvmmsg/sendmmsg, kernel
receive timestamps), deno (Deno's UDP sockets, user-space timestamps), or auto
(native where it can run, else deno). The result says "io" and "timestamps".`;

const TS =
  `--timestamps on a receiver: kernel (the kernel's arrival time of each datagram,
native I/O only), user (the time the receive call returned) or auto (kernel
where native I/O gives them, else user).`;

const TS_FLAG = {
  type: "string",
  arg: "MODE",
  help: "Receive timestamps: auto, kernel or user",
  defaultText: "auto",
} as const;

const IO_FLAG = {
  type: "string",
  arg: "MODE",
  help: "I/O backend: auto, native or deno (see above)",
  defaultText: "auto",
} as const;

const OUTPUT =
  `Output: JSON lines on stdout ("ready" with the bound address, then "result"
with counts, latency_us by nearest rank, a per-second series and the HdrHistogram
of delays in ns as compressed base64); logs on stderr.`;

const MESSAGES =
  `--messages PATH keeps the one-way delay of every measured message (signed,
ns, the smallest over its copies) and writes them to PATH when the stream ends,
however it ends (core/message_log.ts: by seq, -2^31 for not received). The
range: from the first measured seq (after the last WARMUP seen) to one before
END's seq; with --rate (and --warmup, the part of --duration before the
measured stream) it is the one the parent sends, so a stream cut short or never
started reads as not received. At most --messages-max entries (seqs from 0,
warm-up included; with --rate, rate x duration + 1%); later ones are counted in
the result's "messages" {path, first_seq, count, dropped}, not kept.`;

const childSpec = {
  name: "child",
  summary: "Receive a probe stream and measure its one-way delays",
  synopsis:
    "child --bind HOST:PORT --duration S [--from HOST[:PORT][,...]] [--timeout S] [--emulate SPEC] [--io MODE] [--timestamps MODE] [--messages PATH [--messages-max N] [--rate PPS] [--warmup S]]",
  description:
    `${FROM_HELP}\n\n${TIMEOUTS}\n\n${EMULATE}\n\n${IO}\n${TS}\n\n${MESSAGES}\n\n${OUTPUT}`,
  flags: {
    bind: {
      type: "string",
      arg: "HOST:PORT",
      help: "Address to receive on (port 0: any free port)",
    },
    duration: { type: "string", arg: "S", help: "Expected stream duration" },
    from: FROM_FLAG,
    timeout: {
      type: "string",
      arg: "S",
      help: "Wait for the first datagram",
      defaultText: `${START_TIMEOUT_S}s`,
    },
    emulate: {
      type: "string",
      arg: "SPEC",
      help: "Emulate a slow VM (see above)",
    },
    io: IO_FLAG,
    timestamps: TS_FLAG,
    messages: {
      type: "string",
      arg: "PATH",
      help: "Write the per-message log there (see above)",
    },
    "messages-max": {
      type: "string",
      arg: "N",
      help: "Entries of the log at most",
      defaultText: String(MESSAGES_MAX),
    },
    rate: {
      type: "string",
      arg: "PPS",
      help: "The stream's rate (sizes the log, gives its range)",
    },
    warmup: {
      type: "string",
      arg: "S",
      help: "The stream's warm-up, part of --duration (with --rate)",
      defaultText: "0",
    },
  },
} satisfies CommandSpec;

const proxySpec = {
  name: "proxy",
  summary:
    "Forward a probe stream to children (hops + 1), optionally measuring it",
  synopsis:
    "proxy --bind HOST:PORT --to HOST:PORT[,...] [--from HOST[:PORT][,...]] [--duration S] [--timeout S] [--record] [--emulate SPEC] [--io MODE] [--timestamps MODE]",
  description:
    `Forwards every datagram of the probe format to all children, END too, then exits.\n\n${FROM_HELP}\nA child's echo is never foreign.\n\n${TIMEOUTS}\nWithout --duration there is no deadline.\n\n${EMULATE}\n\n${IO}\n${TS}\n\n${OUTPUT}`,
  flags: {
    bind: {
      type: "string",
      arg: "HOST:PORT",
      help: "Address to receive on (port 0: any free port)",
    },
    to: {
      type: "string",
      arg: "HOST:PORT[,...]",
      help: "Children to forward to",
    },
    from: FROM_FLAG,
    duration: { type: "string", arg: "S", help: "Expected stream duration" },
    timeout: {
      type: "string",
      arg: "S",
      help: "Wait for the first datagram",
      defaultText: `${START_TIMEOUT_S}s`,
    },
    record: { type: "boolean", help: "Also measure the stream like a child" },
    emulate: {
      type: "string",
      arg: "SPEC",
      help: "Emulate a slow VM (see above)",
    },
    io: IO_FLAG,
    timestamps: TS_FLAG,
  },
} satisfies CommandSpec;

const parentSpec = {
  name: "parent",
  summary: "Send a paced probe stream to children",
  synopsis:
    "parent --to HOST:PORT[,...] --rate PPS --duration S [--bind HOST:PORT] [--warmup S] [--size BYTES] [--io MODE]",
  description:
    `Sends on an absolute schedule; a packet due while late goes out at once and its
lateness is recorded. WARMUP packets come first, then the measured ones, then END
(sent 3 times). The result line has "sent" per child, "late_share" (sent more than
${LATE_THRESHOLD_US} µs late) and "lateness_us" {p50, p99, max}.
It sleeps to each due time, never spins.\n\n${IO}`,
  flags: {
    to: { type: "string", arg: "HOST:PORT[,...]", help: "Children to send to" },
    rate: { type: "string", arg: "PPS", help: "Packets per second" },
    duration: { type: "string", arg: "S", help: "Measured stream duration" },
    bind: {
      type: "string",
      arg: "HOST:PORT",
      help: "Address to send from (port 0: any free port)",
      defaultText: "0.0.0.0:0 or [::]:0, as the children's family",
    },
    warmup: {
      type: "string",
      arg: "S",
      help: "Warm-up before it (WARMUP packets)",
      defaultText: "0",
    },
    size: {
      type: "string",
      arg: "BYTES",
      help: `Datagram size, ${HEADER_BYTES}..${MAX_DATAGRAM_BYTES}`,
      defaultText: String(HEADER_BYTES),
    },
    io: IO_FLAG,
  },
} satisfies CommandSpec;

/** Builds the child command writing to `io` (tests pass their own). */
export function createChildCommand(io: Io = stdio): Command {
  return {
    spec: childSpec,
    run: (args) =>
      runCommand(childSpec, args, async ({ values: v }) => {
        const opts = {
          bind: parseHostPort("bind", required("bind", v.bind)),
          duration: parseSeconds("duration", required("duration", v.duration), {
            min: 0.001,
          }),
          ...(v.timeout !== undefined
            ? { timeout: parseSeconds("timeout", v.timeout, { min: 0.001 }) }
            : {}),
          emulate: v.emulate !== undefined ? parseEmulation(v.emulate) : null,
          ..._receiveIo(v.io, v.timestamps),
          ...(v.messages !== undefined
            ? { messages: _messages(v.messages, v) }
            : {}),
          ..._from(v.from),
        };
        const result = await _withSignals((signal) =>
          runChild(opts, {
            signal,
            onReady: (bind) =>
              _line(io, { event: "ready", probe: "child", bind }),
          })
        );
        return _finish(io, "child", result);
      }, io),
  };
}

/** Builds the proxy command writing to `io`. */
export function createProxyCommand(io: Io = stdio): Command {
  return {
    spec: proxySpec,
    run: (args) =>
      runCommand(proxySpec, args, async ({ values: v }) => {
        const opts = {
          bind: parseHostPort("bind", required("bind", v.bind)),
          to: parseHostPortList("to", required("to", v.to)),
          duration: v.duration !== undefined
            ? parseSeconds("duration", v.duration, { min: 0.001 })
            : null,
          ...(v.timeout !== undefined
            ? { timeout: parseSeconds("timeout", v.timeout, { min: 0.001 }) }
            : {}),
          record: v.record,
          emulate: v.emulate !== undefined ? parseEmulation(v.emulate) : null,
          ..._receiveIo(v.io, v.timestamps),
          ..._from(v.from),
        };
        const result = await _withSignals((signal) =>
          runProxy(opts, {
            signal,
            onReady: (bind) =>
              _line(io, { event: "ready", probe: "proxy", bind }),
          })
        );
        return _finish(io, "proxy", result);
      }, io),
  };
}

/** Builds the parent command writing to `io`. */
export function createParentCommand(io: Io = stdio): Command {
  return {
    spec: parentSpec,
    run: (args) =>
      runCommand(parentSpec, args, async ({ values: v }) => {
        const opts = {
          to: parseHostPortList("to", required("to", v.to)),
          ...(v.bind !== undefined
            ? { bind: parseHostPort("bind", v.bind) }
            : {}),
          rate: parseNumber("rate", required("rate", v.rate), {
            min: 0.001,
            max: 1e6,
          }),
          duration: parseSeconds("duration", required("duration", v.duration), {
            min: 0.001,
          }),
          warmup: v.warmup !== undefined ? parseSeconds("warmup", v.warmup) : 0,
          size: v.size !== undefined
            ? parseNumber("size", v.size, {
              min: HEADER_BYTES,
              max: MAX_DATAGRAM_BYTES,
              integer: true,
            })
            : HEADER_BYTES,
          io: _io(v.io),
        };
        const result = await _withSignals((signal) =>
          runParent(opts, {
            signal,
            // Bound and about to send: what a worker waits for before its ACK.
            onReady: (bind) =>
              io.out(
                JSON.stringify({ event: "ready", probe: "parent", bind }) +
                  "\n",
              ),
          })
        );
        return _finish(io, "parent", result);
      }, io),
  };
}

/** `treecast parent`. */
export const parentCommand: Command = createParentCommand();
/** `treecast child`. */
export const childCommand: Command = createChildCommand();
/** `treecast proxy`. */
export const proxyCommand: Command = createProxyCommand();

/** A child's `--messages PATH` with the flags that shape its log. */
function _messages(path: string, v: Record<string, unknown>): MessageLogSpec {
  if (path === "") throw new UsageError('Flag "--messages" needs a path');
  const [max, rate, warmup] = [v["messages-max"], v.rate, v.warmup] as (
    | string
    | undefined
  )[];
  const limit = { min: 1, max: MESSAGES_MAX_LIMIT, integer: true };
  return {
    path,
    ...(max !== undefined
      ? { max: parseNumber("messages-max", max, limit) }
      : {}),
    ...(rate !== undefined
      ? { rate: parseNumber("rate", rate, { min: 0.001, max: 1e6 }) }
      : {}),
    ...(warmup !== undefined ? { warmup: parseSeconds("warmup", warmup) } : {}),
  };
}

/** A receiver's `--from`, when given. */
function _from(text: string | undefined) {
  return text !== undefined ? { from: parseSources("from", text) } : {};
}

/** The `--io` value, checked now (a backend that cannot run here is an error before any bind). */
function _io(text: string | undefined): IoMode {
  const mode = text === undefined ? "auto" : parseIoMode(text);
  resolveIo(mode);
  return mode;
}

/** A receiver's `--io` and `--timestamps`, checked together. */
function _receiveIo(
  io: string | undefined,
  ts: string | undefined,
): { io: IoMode; timestamps: TimestampMode } {
  const mode = _io(io);
  const timestamps = ts === undefined ? "auto" : parseTimestampMode(ts);
  checkTimestamps(mode, timestamps);
  return { io: mode, timestamps };
}

/** Runs `body` with SIGINT/SIGTERM turned into an abort of its signal. */
async function _withSignals<T>(
  body: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const ac = new AbortController();
  const abort = () => ac.abort();
  const signals: Deno.Signal[] = Deno.build.os === "windows"
    ? ["SIGINT"]
    : ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, abort);
  try {
    return await body(ac.signal);
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, abort);
  }
}

const WHY: Partial<Record<StopReason, string>> = {
  idle: "no datagram arrived for a while",
  deadline: "it outlasted its deadline",
};

/** Prints the result line; warns or fails as the result says; returns the exit code. */
function _finish(
  io: Io,
  probe: string,
  result: {
    stop: string;
    error?: string | null;
    end_seen?: boolean;
    bind?: string;
  },
): number {
  _line(io, { event: "result", probe, ...result });
  if (result.error) throw new Error(result.error);
  if (result.stop === "interrupted") throw new Interrupted();
  const why = WHY[result.stop as StopReason];
  if (why && !result.end_seen) {
    io.err(`warning: Stream at "${result.bind}" ended without END: ${why}\n`);
  }
  return 0;
}

function _line(io: Io, obj: Record<string, unknown>): void {
  io.out(JSON.stringify(obj) + "\n");
}
