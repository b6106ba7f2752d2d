/**
 * What each probe role is told and what it answers: the options of a child,
 * proxy and parent, and their result lines (without `event` and `probe`).
 * Shared by both I/O backends (`child.ts`, `proxy.ts`, `parent.ts` and
 * `native/`) and the cores they hand datagrams to (`receive.ts`,
 * `sender.ts`), so none of them imports another for its types.
 *
 * @module
 */
import type { HostPort } from "../core/cli.ts";
import type { PeerOffset } from "./echo.ts";
import type { EmulationParams } from "./emulate.ts";
import type { IoKind, IoMode, TimestampKind, TimestampMode } from "./io.ts";
import type { StopReason } from "./net.ts";
import type { MessageLogSpec, MessagesReport } from "./messages.ts";
import type { RecordReport } from "./recorder.ts";

/** What a child is told to do. */
export interface ChildOptions {
  bind: HostPort;
  /** Expected stream duration, s (the deadline derives from it). */
  duration: number;
  /** Wait for the first datagram, s. */
  timeout?: number;
  /** Least idle time that ends a started stream, s. */
  idle?: number;
  emulate?: EmulationParams | null;
  /** I/O backend (default auto). */
  io?: IoMode;
  /** Receive timestamps (default auto: the kernel's where native I/O gives them). */
  timestamps?: TimestampMode;
  /** Keep the per-message log and write it there at the end (`--messages`). */
  messages?: MessageLogSpec;
  /** The senders it takes datagrams from (`--from`; port 0: pinned); none: any. */
  from?: readonly HostPort[];
}

/** How a child runs: cancellation and the readiness callback. */
export interface RunContext {
  signal?: AbortSignal;
  /** Called once bound, with the actual address (e.g. `127.0.0.1:40123`). */
  onReady?: (bind: string) => void;
}

/** A child's result line (without `event` and `probe`). */
export interface ChildResult extends RecordReport {
  bind: string;
  stop: StopReason;
  /** What failed, or null. */
  error: string | null;
  io: IoKind;
  /** Where the arrival times came from: the kernel (SO_TIMESTAMPNS) or user space. */
  timestamps: TimestampKind;
  /** Datagrams not of the format. */
  malformed: number;
  /** Datagrams from a sender `from` does not admit, dropped. */
  foreign: number;
  /** Datagrams dropped by the emulated loss. */
  dropped: number;
  /** Echoes sent back to the sender (one datagram in `ECHO_EVERY`, `probes/WIRE.md`). */
  echoes: number;
  emulated: EmulationParams | null;
  /** Seconds from the first datagram to the last. */
  elapsed_s: number;
  /** The per-message log written (with `--messages`). */
  messages?: MessagesReport;
}

/** What a proxy is told to do. */
export interface ProxyOptions {
  bind: HostPort;
  to: readonly HostPort[];
  /** Expected stream duration, s; none means no deadline. */
  duration?: number | null;
  /** Wait for the first datagram, s. */
  timeout?: number;
  /** Least idle time that ends a started stream, s. */
  idle?: number;
  /** Also measure the stream like a child. */
  record?: boolean;
  emulate?: EmulationParams | null;
  /** I/O backend (default auto). */
  io?: IoMode;
  /** Receive timestamps (default auto: the kernel's where native I/O gives them). */
  timestamps?: TimestampMode;
  /** The senders it takes the stream from (`--from`; port 0: pinned); none: any. */
  from?: readonly HostPort[];
}

/** A proxy's result line (without `event` and `probe`); the record fields only with `record`. */
export interface ProxyResult extends Partial<RecordReport> {
  bind: string;
  stop: StopReason;
  error: string | null;
  io: IoKind;
  /** Where the arrival times came from (with `record`): the kernel or user space. */
  timestamps: TimestampKind;
  children: number;
  /** Datagrams of the format that arrived. */
  datagrams: number;
  /** Datagrams forwarded to the children (each counted once; END repeats not counted). */
  forwarded: number;
  /** Datagrams dropped by the emulated loss. */
  dropped: number;
  malformed: number;
  /** Datagrams from a sender `from` does not admit, dropped (a child's echo is not one). */
  foreign: number;
  send_errors: number;
  /** Copies of a seq already forwarded (from a hedge parent), dropped. */
  duplicates_dropped: number;
  end_seen: boolean;
  /** Most hops seen on an arriving datagram. */
  hops: number;
  emulated: EmulationParams | null;
  elapsed_s: number;
  /** Echoes sent back to the parent. */
  echoes: number;
  /** Each child's clock offset from its echoes, in `to` order. */
  peers: PeerOffset[];
  /** Echoes that came from no child (or of no datagram it forwarded). */
  stray_echoes: number;
}

/** What a parent is told to do. */
export interface ParentOptions {
  to: readonly HostPort[];
  /** Address to send from (default: the wildcard of the targets' family, port 0). */
  bind?: HostPort;
  /** Packets per second to each child. */
  rate: number;
  /** Measured stream duration, s. */
  duration: number;
  /** Warm-up before it, s (default 0). */
  warmup?: number;
  /** Datagram size, bytes (default and minimum: the 24-byte header). */
  size?: number;
  /** I/O backend (default auto). */
  io?: IoMode;
}

/** A parent's result line (without `event` and `probe`). */
export interface ParentResult {
  /** Datagrams sent to each child, WARMUP and END copies included. */
  sent: number;
  children: number;
  /** Share of scheduled packets sent more than `LATE_THRESHOLD_US` (`defaults.ts`) late. */
  late_share: number;
  /** Lateness of the scheduled packets (END copies after the first excluded), µs. */
  lateness_us: { p50: number | null; p99: number | null; max: number | null };
  rate: number;
  duration: number;
  /** WARMUP packets in `sent`. */
  warmup: number;
  size: number;
  /** Sends that failed (all children counted). */
  send_errors: number;
  /** "end", or "interrupted" when the signal stopped it early (END was still sent). */
  stop: "end" | "interrupted";
  /** Seconds from the first due time to the last END. */
  elapsed_s: number;
  io: IoKind;
  /** A sender takes user-space send timestamps. */
  timestamps: "user";
  /** Echoes received from the children (`probes/WIRE.md`). */
  echoes: number;
  /** Echoes from no child. */
  stray_echoes: number;
  /** Each child's clock offset from its echoes, in `to` order. */
  peers: PeerOffset[];
}
