/**
 * Encoding and validated decoding of control-plane messages.
 *
 * `treecast.proto` is the single source of truth: it is imported as text
 * (embedded by `deno compile`, never read from disk at run time) and parsed
 * once by protobufjs. The TypeScript types below mirror it; `codec_test.ts`
 * checks that every field of the schema is known here and vice versa.
 *
 * @module
 */
import protobuf from "protobufjs";
import PROTO_TEXT from "./treecast.proto" with { type: "text" };
import { checkHello, checkHosts, checkRun, unsetRun } from "./field_checks.ts";
import {
  checkPart,
  checkPartRequest,
  type MessagePartWire,
  type PartRequest,
} from "./part_check.ts";

export {
  BOOT_ID_MAX,
  ROSTER_KEY_BYTES,
  ROSTER_TAG_BYTES,
  RUN_ID_MAX,
  validBootId,
} from "./field_checks.ts";
export {
  MAX_PART_NAMES,
  MAX_PART_SIZE,
  type MessagePartWire,
  type PartRequest,
} from "./part_check.ts";

/** Message types, as named in the schema (TYPE_UNSPECIFIED is never valid). */
export type MsgType =
  | "ACK"
  | "CONNECT"
  | "COMMAND"
  | "REPORT"
  | "ERR"
  | "STOP";
/** Job kinds and roles. */
export type Flag = "NONE" | "PARENT" | "CHILD" | "MCAST" | "PROXY";
/** A probe's I/O backend (AUTO: the worker chooses). */
export type Io = "AUTO" | "NATIVE" | "DENO";
/** Where a receiver's arrival times come from. */
export type Timestamps = "TIMESTAMPS_UNSPECIFIED" | "KERNEL" | "USER";

/** CONNECT payload. */
export interface Hello {
  protocol: number;
  program: string;
  capabilities: string[];
  hostname: string;
  emulate: string;
  /** The worker process's random id ("" from a manager). */
  incarnation: string;
  /** The worker kernel's view of its clock (absent from a manager). */
  clock?: KernelClock;
  /**
   * The worker's boot id ("" when unknown, absent from older peers): workers
   * with the same one read one clock. At most {@link BOOT_ID_MAX} printable
   * ASCII characters.
   */
  bootId?: string;
  /** From a manager: its run's id (see `treecast.proto`). */
  run?: string;
  /** From a manager: its run's roster key, {@link ROSTER_KEY_BYTES} bytes. */
  rosterKey?: Uint8Array;
  /** From a worker under CURVE: its relay port (absent: none). */
  relayPort?: number;
}

/** What a worker's kernel says of its clock (see `treecast.proto`). */
export interface KernelClock {
  known: boolean;
  synced: boolean;
  maxerrorUs: number;
  esterrorUs: number;
  emulated: boolean;
}

/** A node and the tree below it; hedged trees only: `hedges`, `hedgeSenders` (see the proto). */
export interface Subtree {
  addr: string;
  children: Subtree[];
  hedges?: string[];
  hedgeSenders?: string[];
}

/** A phase (1: relay below, hold; 2: start, also sending `to`) of a hedged relay (`worker/hedge.ts`). */
export interface HedgeStep {
  phase: number;
  key: string;
  to: string[];
}

/** COMMAND payload. Durations in milliseconds. */
export interface Command {
  flag: Flag;
  instr: string;
  layer: number;
  select: number;
  rate: number;
  dur: number;
  timeout: number;
  addrs: string[];
  warmup: number;
  size: number;
  record: boolean;
  subtrees: Subtree[];
  io: Io;
  timestamps: Timestamps;
  /** Hosts the stream of a CHILD/PROXY comes from (each an IP or a name; checked by decode). */
  senders: string[];
  /** A phase of a hedged relay; absent for the one-phase relay. */
  hedge?: HedgeStep;
  /** The run the command belongs to ("" when none: it may name no worker). */
  run?: string;
  /** One {@link ROSTER_TAG_BYTES}-byte tag per worker address named (`core/roster.ts`). */
  rosterTags?: Uint8Array;
  /** Each named worker's relay port, in the tags' order (0: none; empty: no CURVE). */
  relayPorts?: number[];
}

/** One point of a receiver's per-second series. */
export interface SeriesPoint {
  t: number;
  count: number;
  p50Us: number;
  p90Us: number;
  stddevUs: number;
}

/** A receiver's delay statistics (microseconds). */
export interface ProbeStats {
  received: number;
  lost: number;
  duplicates: number;
  reordered: number;
  malformed: number;
  warmup: number;
  negative: number;
  hops: number;
  endSeen: boolean;
  minUs: number;
  p25Us: number;
  p50Us: number;
  p75Us: number;
  p90Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
  meanUs: number;
  stddevUs: number;
  series: SeriesPoint[];
  histogram: string;
  timestamps: Timestamps;
  /** This receiver's clock minus its sender's, from echoes (absent without). */
  offsetUs?: number;
  /** The offset's error bound, µs. */
  offsetBoundUs?: number;
  /** Echoes the offset is from. */
  offsetSamples?: number;
  /** Seconds of the per-second series beyond its cap, counted, not kept. */
  seriesDropped?: number;
  /** The probe stopped before its stream ended: the figures cover part of it. */
  partial?: boolean;
}

/** One sender-child pair's clock offset, from the child's echoes. */
export interface PeerClock {
  /** The child's probe address (its Job.addr). */
  addr: string;
  offsetUs: number;
  boundUs: number;
  samples: number;
}

/** A sender's schedule keeping. */
export interface SenderStats {
  sent: number;
  children: number;
  lateShare: number;
  latenessP50Us: number;
  latenessP99Us: number;
  latenessMaxUs: number;
  /** Sends that failed (every child counted). */
  sendErrors?: number;
  /** Stopped before the end of its stream. */
  partial?: boolean;
}

/** A proxy's forwarding counts. */
export interface ForwardStats {
  forwarded: number;
  dropped: number;
  malformed: number;
  /** Forwards that failed (every child counted). */
  sendErrors?: number;
  /** Stopped before its stream ended. */
  partial?: boolean;
}

/** A job's state and results. */
export interface Job {
  flag: Flag;
  owner: string;
  id: string;
  pid: number;
  instr: string;
  end: boolean;
  largest: boolean;
  ret: number;
  deps: Job[];
  output: string[];
  params: number[];
  addr: string;
  stats?: ProbeStats;
  sender?: SenderStats;
  forward?: ForwardStats;
  error: string;
  started: number;
  expectedEnd: number;
  emulate: string;
  ended: number;
  io: Io;
  /** A sender's clock offsets to its children. */
  peers: PeerClock[];
}

/** REPORT payload. */
export interface Report {
  job: Job;
  complete: boolean;
  /** Request: a part of the job's per-message figures. */
  partRequest?: PartRequest;
  /** Reply: the part asked for. */
  part?: MessagePartWire;
}

/** What kind of failure an ERR reports (see `treecast.proto`). */
export type ErrorCode =
  | "ERROR_CODE_UNSPECIFIED"
  | "NO_SUCH_JOB"
  | "OTHER_INCARNATION";

/** ERR payload. */
export interface ErrorBody {
  flag: Flag;
  desc: string;
  /** The worker the error is about ("" when none). */
  addr: string;
  code: ErrorCode;
}

/** Routing and exactly one payload (none is allowed only on a bare ACK). */
export interface Metadata {
  src: string;
  dst: string;
  command?: Command;
  report?: Report;
  error?: ErrorBody;
  hello?: Hello;
}

/** One control-plane message. `ts` in microseconds since the epoch. */
export interface Message {
  id: number;
  ts: number;
  type: MsgType;
  data: Metadata;
}

/** Bytes that are not a valid message; `desc` is what an ERR reply says. */
export class DecodeError extends Error {
  override name = "DecodeError";
}

const _root = protobuf.parse(PROTO_TEXT, { keepCase: false }).root;
const _Message = _root.lookupType("treecast.Message");
/** The parsed schema (for tests and tools). */
export const SCHEMA: protobuf.Root = _root;

const _PAYLOAD: Record<MsgType, (keyof Metadata)[]> = {
  CONNECT: ["hello"],
  COMMAND: ["command"],
  REPORT: ["report"],
  ERR: ["error"],
  STOP: ["report"],
  ACK: ["hello", "report", "error", "command"],
};

/** Encodes a message. Throws if it does not fit the schema. */
export function encode(msg: Message): Uint8Array {
  const pb = _Message.fromObject({ ...msg, data: unsetRun(msg.data) });
  const err = _Message.verify(pb);
  if (err) throw new Error(`Cannot encode message: ${err}`);
  return _Message.encode(pb).finish();
}

/** Decodes and validates a message; throws {@link DecodeError} with a description. */
export function decode(bytes: Uint8Array): Message {
  let raw: protobuf.Message;
  try {
    raw = _Message.decode(bytes);
  } catch (e) {
    throw new DecodeError(
      `Malformed message (${bytes.length} bytes): ${
        (e as Error).message.split("\n")[0]
      }`,
    );
  }
  const obj = _Message.toObject(raw, {
    longs: Number,
    enums: String,
    defaults: true,
    arrays: true,
  });
  _checkEnums(_Message, obj, "message");
  _dropNulls(obj);
  const msg = obj as Message;
  if (msg.type === ("TYPE_UNSPECIFIED" as MsgType)) {
    throw new DecodeError("Message has no type");
  }
  if (!obj.data) {
    throw new DecodeError(`${msg.type} message has no data (Metadata)`);
  }
  const wanted = _PAYLOAD[msg.type];
  const present = wanted.filter((k) => msg.data[k] !== undefined);
  if (msg.type !== "ACK" && present.length === 0) {
    throw new DecodeError(
      `${msg.type} message is missing its ${wanted[0]} payload`,
    );
  }
  const stray = (["command", "report", "error", "hello"] as const).find((k) =>
    msg.data[k] !== undefined && !wanted.includes(k)
  );
  if (stray) {
    throw new DecodeError(`${msg.type} message carries a ${stray} payload`);
  }
  checkHello(msg.data.hello, (d) => new DecodeError(d));
  checkRun(msg.data, (d) => new DecodeError(d));
  if ((msg.type === "REPORT" || msg.type === "STOP") && !msg.data.report?.job) {
    throw new DecodeError(`${msg.type} message is missing report.job`);
  }
  const report = msg.data.report;
  const fail = (desc: string) => new DecodeError(desc);
  if (report?.partRequest) checkPartRequest(report.partRequest, fail);
  if (report?.part) report.part = checkPart(report.part, fail);
  if (msg.data.command) checkHosts(msg.type, msg.data.command, fail);
  return msg;
}

function _checkEnums(
  type: protobuf.Type,
  obj: Record<string, unknown>,
  path: string,
): void {
  for (const field of type.fieldsArray) {
    const v = obj[field.name];
    if (v === null || v === undefined) continue;
    const rt = field.resolvedType;
    if (rt instanceof protobuf.Enum) {
      if (typeof v !== "string") {
        throw new DecodeError(
          `Unknown ${rt.name} value ${v} in ${path}.${field.name}`,
        );
      }
    } else if (rt instanceof protobuf.Type) {
      const items = field.repeated ? v as Record<string, unknown>[] : [v];
      items.forEach((item, i) =>
        _checkEnums(
          rt,
          item as Record<string, unknown>,
          `${path}.${field.name}${field.repeated ? `[${i}]` : ""}`,
        )
      );
    }
  }
}

function _dropNulls(obj: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(obj)) {
    if (v === null) delete obj[k];
    else if (ArrayBuffer.isView(v)) continue; // bytes
    else if (Array.isArray(v)) {
      v.forEach((x) => typeof x === "object" && _dropNulls(x));
    } else if (typeof v === "object") {
      _dropNulls(v as Record<string, unknown>);
    }
  }
}

/** The time now in microseconds since the epoch, as `Message.ts` carries it. */
export function nowUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/** A Job with every field at its default; override what you know. */
export function emptyJob(fields: Partial<Job> = {}): Job {
  return {
    flag: "NONE",
    owner: "",
    id: "",
    pid: 0,
    instr: "",
    end: false,
    largest: false,
    ret: 0,
    deps: [],
    output: [],
    params: [],
    addr: "",
    error: "",
    started: 0,
    expectedEnd: 0,
    emulate: "",
    ended: 0,
    io: "AUTO",
    peers: [],
    ...fields,
  };
}

/** A Command with every field at its default; override what you know. */
export function emptyCommand(fields: Partial<Command> = {}): Command {
  return {
    flag: "NONE",
    instr: "",
    layer: 0,
    select: 0,
    rate: 0,
    dur: 0,
    timeout: 0,
    addrs: [],
    warmup: 0,
    size: 0,
    record: false,
    subtrees: [],
    io: "AUTO",
    timestamps: "TIMESTAMPS_UNSPECIFIED",
    senders: [],
    run: "",
    rosterTags: new Uint8Array(),
    relayPorts: [],
    ...fields,
  };
}
