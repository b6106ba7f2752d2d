/**
 * Fixture messages, one per message kind, for the golden byte tests
 * (`codec_test.ts` compares them with `testdata/*.hex`).
 *
 * @module
 */
import {
  emptyCommand,
  emptyJob,
  type Message,
  type ProbeStats,
} from "./codec.ts";

const TS = 1715280981565948;

/** Bytes from hex digits (spaces ignored). */
function _bytes(hex: string): Uint8Array {
  const h = hex.replace(/\s/g, "");
  return Uint8Array.from(
    { length: h.length / 2 },
    (_, i) => parseInt(h.slice(2 * i, 2 * i + 2), 16),
  );
}

/** One message of each kind, with every field that kind uses. */
export const FIXTURES: Record<string, Message> = {
  connect: {
    id: 0,
    ts: TS,
    type: "CONNECT",
    data: {
      src: "manager@lab",
      dst: "127.0.0.1:9101",
      hello: {
        protocol: 1,
        program: "0.1.0",
        capabilities: [],
        hostname: "lab",
        emulate: "",
        incarnation: "",
        bootId: "",
      },
    },
  },
  connect_ack: {
    id: 0,
    ts: TS + 80,
    type: "ACK",
    data: {
      src: "127.0.0.1:9101",
      dst: "manager@lab",
      hello: {
        protocol: 1,
        program: "0.1.0",
        capabilities: [
          "parent",
          "child",
          "proxy",
          "emulate",
          "io:native",
          "io:deno",
          "ts:kernel",
          "ts:user",
        ],
        hostname: "vm1",
        emulate: "delay=2ms",
        incarnation: "5f3c9a1e04b2",
        bootId: "3d9a6f0e-7b21-4c58-a4e3-91f0c2b86d17",
      },
    },
  },
  command: {
    id: 1,
    ts: TS + 1000,
    type: "COMMAND",
    data: {
      src: "manager@lab",
      dst: "127.0.0.1:9101",
      command: emptyCommand({
        flag: "MCAST",
        instr: "BEST-P90 run 1",
        layer: 2,
        select: 2,
        rate: 10000,
        dur: 30000,
        timeout: 40000,
        addrs: ["127.0.0.1:9102", "127.0.0.1:9103"],
        warmup: 1000,
        size: 24,
        subtrees: [
          {
            addr: "127.0.0.1:9102",
            children: [{ addr: "127.0.0.1:9104", children: [] }],
          },
          { addr: "127.0.0.1:9103", children: [] },
        ],
        io: "NATIVE",
        timestamps: "KERNEL",
      }),
    },
  },
  report: {
    id: 2,
    ts: TS + 2000,
    type: "REPORT",
    data: {
      src: "manager@lab",
      dst: "127.0.0.1:9101",
      report: {
        job: emptyJob({ id: "5f3c9a1e04b2.1", owner: "127.0.0.1:9101" }),
        complete: false,
      },
    },
  },
  report_ack: {
    id: 2,
    ts: TS + 2100,
    type: "ACK",
    data: {
      src: "127.0.0.1:9101",
      dst: "manager@lab",
      report: {
        complete: true,
        job: emptyJob({
          flag: "PARENT",
          owner: "127.0.0.1:9101",
          id: "5f3c9a1e04b2.1",
          pid: 4242,
          end: true,
          params: [10000, 10000, 1000, 24, 1],
          io: "NATIVE",
          sender: {
            sent: 101000,
            children: 2,
            lateShare: 0.001,
            latenessP50Us: 3,
            latenessP99Us: 40.5,
            latenessMaxUs: 310,
          },
          deps: [
            emptyJob({
              flag: "CHILD",
              owner: "127.0.0.1:9102",
              id: "7d01be22c9a0.3",
              pid: 4300,
              end: true,
              addr: "127.0.0.1:40001",
              io: "NATIVE",
              stats: {
                received: 100000,
                lost: 2,
                duplicates: 0,
                reordered: 1,
                malformed: 0,
                warmup: 10000,
                negative: 0,
                hops: 0,
                endSeen: true,
                minUs: 20.5,
                p25Us: 30,
                p50Us: 35.25,
                p75Us: 41,
                p90Us: 50,
                p99Us: 80,
                p999Us: 120,
                maxUs: 900,
                meanUs: 37.5,
                stddevUs: 9.75,
                series: [{
                  t: 0,
                  count: 10000,
                  p50Us: 35,
                  p90Us: 50,
                  stddevUs: 9.5,
                }],
                histogram:
                  "HISTFAAAAB94nJNpmSzMwMDAyQABzFAaRoPEGZnRRBlBJAAiWwJD",
                timestamps: "KERNEL",
                offsetUs: -12.25,
                offsetBoundUs: 8.5,
                offsetSamples: 1100,
              },
            }),
          ],
          peers: [{
            addr: "127.0.0.1:40001",
            offsetUs: -12.25,
            boundUs: 8.5,
            samples: 1100,
          }],
        }),
      },
    },
  },
  report_part: {
    id: 6,
    ts: TS + 6000,
    type: "REPORT",
    data: {
      src: "manager@lab",
      dst: "127.0.0.1:9101",
      report: {
        job: emptyJob({ id: "5f3c9a1e04b2.1" }),
        complete: false,
        partRequest: {
          index: 1,
          size: 32700,
          correct: true,
          window: 100,
          percentile: 97,
        },
      },
    },
  },
  report_part_ack: {
    id: 6,
    ts: TS + 6100,
    type: "ACK",
    data: {
      src: "127.0.0.1:9101",
      dst: "manager@lab",
      report: {
        job: emptyJob({ id: "5f3c9a1e04b2.1", owner: "127.0.0.1:9101" }),
        complete: true,
        // Seqs 4-6, windows of 2 (windows 2 and 3); little-endian arrays.
        part: {
          firstSeq: 4,
          count: 3,
          // 1000, -5, not received (INT32_MIN)
          worstNs: _bytes("e8030000 fbffffff 00000080"),
          // 900, -5, not received
          bestNs: _bytes("84030000 fbffffff 00000080"),
          receivers: _bytes("0200 0100 0000"),
          leaves: 2,
          window: 2,
          // 950, -5
          windowMaxNs: _bytes("b6030000 fbffffff"),
          boundNs: 12500,
          missing: ["127.0.0.1:9107"],
          uncorrected: [],
          startSeq: 4,
          endSeq: 7,
        },
      },
    },
  },
  stop: {
    id: 4,
    ts: TS + 4000,
    type: "STOP",
    data: {
      src: "manager@lab",
      dst: "127.0.0.1:9101",
      report: { job: emptyJob({ id: "" }), complete: false },
    },
  },
  err_relay: {
    id: 5,
    ts: TS + 5000,
    type: "ERR",
    data: {
      src: "127.0.0.1:9101",
      dst: "manager@lab",
      error: {
        flag: "CHILD",
        desc: 'Cannot start the child job on "127.0.0.1:9105": no answer',
        addr: "127.0.0.1:9105",
        code: "ERROR_CODE_UNSPECIFIED",
      },
    },
  },
  err: {
    id: 3,
    ts: TS + 3000,
    type: "ERR",
    data: {
      src: "127.0.0.1:9101",
      dst: "manager@lab",
      error: {
        flag: "CHILD",
        desc: 'Field "rate" must be at most 1000000, got 2000000',
        addr: "",
        code: "ERROR_CODE_UNSPECIFIED",
      },
    },
  },
};

/** A receiver's statistics with worst-leaf p90 `p90Us` and the others in proportion (tests). */
export function probeStats(p90Us: number): ProbeStats {
  return {
    received: 1000,
    lost: 0,
    duplicates: 0,
    reordered: 0,
    malformed: 0,
    warmup: 0,
    negative: 0,
    hops: 0,
    endSeen: true,
    minUs: p90Us / 2,
    p25Us: p90Us / 2,
    p50Us: p90Us * 0.8,
    p75Us: p90Us * 0.9,
    p90Us,
    p99Us: p90Us,
    p999Us: p90Us,
    maxUs: p90Us,
    meanUs: p90Us * 0.8,
    stddevUs: 10,
    series: [],
    histogram: "",
    timestamps: "USER",
  };
}
