/**
 * The results schema cannot drift from the results types: `FULL` is a
 * results document with every optional field present, typed so that the
 * compiler demands any field added to the types (`Full<Results>`); the
 * schema must describe exactly its fields at every level (a field on one
 * side only fails), refuse any other (`additionalProperties: false`), and
 * accept it.
 */
import assert from "node:assert/strict";
import type { ProbeStats } from "../proto/codec.ts";
import type { MessageFigures } from "./message_figures.ts";
import type { Results } from "./results.ts";
import { RESULTS_SCHEMA, resultsSchemaErrors } from "./results_schema.ts";
import { RESULTS_VERSION } from "./version.ts";

/** `T` with every optional field required, all the way down. */
type Full<T> = T extends readonly (infer U)[] ? Full<U>[]
  : T extends object ? {
      [
        K in keyof T as [Exclude<T[K], undefined>] extends [never] ? never : K
      ]-?: Full<Exclude<T[K], undefined>>;
    }
  : T;

const STATS: Full<ProbeStats> = {
  received: 1000,
  lost: 2,
  duplicates: 0,
  reordered: 1,
  malformed: 0,
  warmup: 100,
  negative: 0,
  hops: 1,
  endSeen: true,
  minUs: 40,
  p25Us: 50,
  p50Us: 60,
  p75Us: 70,
  p90Us: 80,
  p99Us: 90,
  p999Us: 95,
  maxUs: 99,
  meanUs: 61,
  stddevUs: 9,
  series: [{ t: 0, count: 1000, p50Us: 60, p90Us: 80, stddevUs: 9 }],
  histogram: "HISTFAAAAB",
  timestamps: "KERNEL",
  offsetUs: -12,
  offsetBoundUs: 30,
  offsetSamples: 10,
  seriesDropped: 3,
  partial: false,
};
const SENDER = {
  sent: 1100,
  children: 2,
  lateShare: 0.01,
  latenessP50Us: 5,
  latenessP99Us: 50,
  latenessMaxUs: 80,
  sendErrors: 1,
  partial: false,
};
const STAGE = {
  depth: 0,
  parent: "10.0.0.1:9000",
  batch: 1,
  candidates: [{
    addr: "10.0.0.2:9000",
    stats: STATS,
    score: 80,
    clipped: 2,
    kept: true,
    error: "",
  }],
  sender: SENDER,
  startedUs: 1,
  finishedUs: 2,
  round: 1,
  error: "a candidate failed",
  offsetDoubt: "the cut is closer than the offsets' bounds",
};
const ESTIMATE = { mean: 80, ci: 4 };
const DIST = {
  p50Us: 60,
  p90Us: 80,
  p99Us: 95,
  p999Us: null,
  maxUs: null,
  histogram: "HISTFAAAAB",
};
const MESSAGES: Full<MessageFigures> = {
  messages: 30000,
  receivers: 4,
  lost: 12,
  lostShare: 0.0004,
  neverReceived: 1,
  negative: 2,
  corrected: true,
  boundUs: 40,
  latency: DIST,
  best: DIST,
  window: DIST,
  fairness: {
    holds: [{ holdUs: 100, fairShare: 0.98 }],
    hold99Us: 120,
    hold999Us: null,
    adaptive: {
      windowMessages: 10,
      percentile: 97,
      marginUs: 25,
      judged: 29990,
      fairShare: 0.96,
    },
  },
  missing: ["10.0.0.3:9000"],
  uncorrected: ["10.0.0.2:9000"],
  failedParts: [3],
  error: "part 3: no answer",
};

const FULL: Full<Results> = {
  format: "treecast-results",
  versions: { program: "0.1.0", protocol: 1, results: RESULTS_VERSION },
  name: "FULL",
  status: "complete",
  error: "none",
  startedUs: 1,
  finishedUs: 2,
  host: { hostname: "h", os: "linux", arch: "x86_64", deno: "2.9.6" },
  script: { file: "s.yaml", text: "name: FULL", seed: 1 },
  workers: [{
    addr: "10.0.0.1:9000",
    status: "ok",
    rttUs: 100,
    offsetUs: 3,
    offsetBoundUs: 50,
    hello: {
      protocol: 1,
      program: "0.1.0",
      capabilities: ["io:native"],
      hostname: "w1",
      emulate: "",
      incarnation: "ab12",
      clock: {
        known: true,
        synced: true,
        maxerrorUs: 100,
        esterrorUs: 10,
        emulated: false,
      },
      bootId: "8c1f3e52-0a4b-4c1e-9d0f-3b7a6e2d1c90",
    },
    error: "",
  }],
  io: "NATIVE",
  timestamps: "KERNEL",
  mismatches: [{
    addr: "10.0.0.2:9000",
    tree: "BEST",
    during: "stage",
    detail: "user timestamps",
  }],
  testbed: {
    kind: "netns",
    straggle: "cpu",
    subnet: "198.18.7.0/24",
    probeIo: "deno",
    stragglers: [{ addr: "10.0.0.3:9000", how: "cpu", detail: "20%" }],
  },
  lost: [{
    addr: "10.0.0.3:9000",
    atUs: 3,
    during: "evaluation",
    tree: "BEST",
    detail: "no answer",
    reason: "paused",
    readmittedUs: 4,
  }],
  rootProbe: {
    stages: [STAGE],
    scores: { "10.0.0.1:9000": 80, "10.0.0.2:9000": null },
    chosen: ["10.0.0.1:9000"],
    startedUs: 1,
    finishedUs: 2,
  },
  allToAll: [{
    root: "10.0.0.1:9000",
    rootIndex: 0,
    addrs: ["10.0.0.2:9000", "10.0.0.3:9000"],
    limit: 3,
    rounds: 1,
    delaysUs: [[null, 50], [60, null]],
    packets: 2000,
    startedUs: 1,
    finishedUs: 2,
    errors: { "10.0.0.2:9000>10.0.0.3:9000": "timeout" },
  }],
  summary: {
    confidence: 0.95,
    random: "RANDOM",
    worst: "WORST",
    rows: [{
      kind: "BEST",
      tree: "BEST",
      type: "BEST",
      round: 0,
      n: 3,
      silent: 1,
      p90Us: ESTIMATE,
      p50Us: ESTIMATE,
      meanUs: ESTIMATE,
      vsRandomPct: -20,
      vsWorstPct: -40,
      probing: { packets: 2000, ms: 1500 },
    }],
  },
  trees: [{
    name: "BEST",
    type: "BEST",
    strategy: { name: "P90", weights: { p90: 1 } },
    root: "10.0.0.1:9000",
    rootIndex: 0,
    parallel: true,
    depth: 1,
    fanout: 2,
    nodes: ["10.0.0.1:9000", "10.0.0.2:9000", null],
    edges: [["10.0.0.1:9000", "10.0.0.2:9000"]],
    hedge: 1,
    hedges: [["10.0.0.3:9000", "10.0.0.4:9000"]],
    stages: [STAGE],
    evaluations: [{
      run: 1,
      round: 1,
      startedUs: 1,
      finishedUs: 2,
      nodes: [{
        addr: "10.0.0.2:9000",
        role: "proxy",
        depth: 1,
        stats: STATS,
        forward: {
          forwarded: 900,
          dropped: 1,
          malformed: 0,
          sendErrors: 0,
          partial: false,
        },
        sender: SENDER,
        emulate: "",
        error: "",
      }],
      missing: ["10.0.0.3:9000"],
      silent: [{ addr: "10.0.0.3:9000", reason: "lost" }],
      worstLeaf: {
        addr: "10.0.0.2:9000",
        p90Us: 80,
        p50Us: 60,
        meanUs: 61,
        stddevUs: 9,
        lossShare: 0.002,
        p90SentUs: 81,
        negative: 3,
      },
      messages: MESSAGES,
      error: "",
    }, {
      run: 2,
      round: 1,
      startedUs: 3,
      finishedUs: 4,
      nodes: [],
      missing: [],
      silent: [],
      worstLeaf: { addr: "10.0.0.3:9000", silent: "nothing arrived" },
      messages: MESSAGES,
      error: "",
    }],
    stragglers: ["10.0.0.3:9000"],
    placement: { costUs: 120, iterations: 7 },
    rebuilds: [{
      round: 1,
      parent: "10.0.0.1:9000",
      worstLeaf: "10.0.0.2:9000",
      before: ["10.0.0.2:9000"],
      after: ["10.0.0.3:9000"],
      ms: 900,
      finishedUs: 5,
    }],
    buildMs: 1000,
    evaluationMs: 2000,
    status: "complete",
    error: "",
  }],
};

type Schema = {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  items?: Schema;
  definitions?: Record<string, Schema>;
};

/**
 * Every difference between the fields of `doc` and those the schema
 * describes: at every object, the schema's properties must be the fields
 * the document has there (the fields of every value that reaches one
 * schema node, e.g. both kinds of worst leaf), and must refuse others.
 */
function drift(schema: Schema, doc: unknown): string[] {
  const seen = new Map<Schema, { at: string; keys: Set<string> }>();
  const problems: string[] = [];
  const resolve = (s: Schema): Schema =>
    s.$ref === undefined
      ? s
      : resolve(schema.definitions![s.$ref.replace("#/definitions/", "")]!);
  const walk = (s: Schema, v: unknown, at: string) => {
    s = resolve(s);
    if (Array.isArray(v)) {
      if (s.items === undefined) {
        problems.push(`${at}: the schema has no items`);
      } else v.forEach((x, i) => walk(s.items!, x, `${at}/${i}`));
    } else if (typeof v === "object" && v !== null) {
      const entries = Object.entries(v);
      if (s.properties !== undefined) {
        const node = seen.get(s) ?? { at, keys: new Set() };
        seen.set(s, node);
        for (const [k, x] of entries) {
          node.keys.add(k);
          if (k in s.properties) walk(s.properties[k]!, x, `${at}/${k}`);
        }
      } else if (typeof s.additionalProperties === "object") {
        for (const [k, x] of entries) {
          walk(s.additionalProperties, x, `${at}/${k}`);
        }
      } else problems.push(`${at}: the schema describes none of its fields`);
    }
  };
  walk(schema, doc, "");
  for (const [s, { at, keys }] of seen) {
    const described = Object.keys(s.properties!);
    const only = (a: Iterable<string>, b: Set<string>) =>
      [...a].filter((k) => !b.has(k)).sort();
    const typeOnly = only(keys, new Set(described));
    const schemaOnly = only(described, keys);
    if (typeOnly.length) {
      problems.push(`${at || "/"}: not in the schema: ${typeOnly.join(", ")}`);
    }
    if (schemaOnly.length) {
      problems.push(
        `${at || "/"}: only in the schema: ${schemaOnly.join(", ")}`,
      );
    }
    if (s.additionalProperties !== false) {
      problems.push(`${at || "/"}: the schema accepts fields it does not name`);
    }
  }
  for (const [s, at] of describing(schema, "#")) {
    if (!seen.has(s)) {
      problems.push(`${at}: no field of the document reaches it`);
    }
  }
  return problems;
}

/** Every schema node that lists properties, with where it is in the schema. */
function describing(s: Schema, at: string): [Schema, string][] {
  const out: [Schema, string][] = s.properties ? [[s, at]] : [];
  for (const [k, x] of Object.entries(s)) {
    if (typeof x !== "object" || x === null || Array.isArray(x)) continue;
    if (k === "properties" || k === "definitions") {
      for (const [name, y] of Object.entries(x as Record<string, Schema>)) {
        out.push(...describing(y, `${at}/${k}/${name}`));
      }
    } else out.push(...describing(x as Schema, `${at}/${k}`));
  }
  return out;
}

Deno.test("results schema: names exactly the types' fields, at every level", () => {
  assert.deepEqual(drift(RESULTS_SCHEMA as Schema, FULL), []);
});

Deno.test("results schema: accepts a document with every field", () => {
  assert.deepEqual(resultsSchemaErrors(FULL), []);
});

Deno.test("results schema: refuses a field the types do not have, at any depth", () => {
  const doc = structuredClone(FULL) as Full<Results> & { extra?: number };
  doc.extra = 1;
  assert.deepEqual(resultsSchemaErrors(doc), [
    "/ must NOT have additional properties",
  ]);
  const deep: Full<Results> = JSON.parse(JSON.stringify(FULL));
  Object.assign(deep.trees[0]!.evaluations[0]!.nodes[0]!.stats, { p95Us: 1 });
  assert.deepEqual(resultsSchemaErrors(deep), [
    "/trees/0/evaluations/0/nodes/0/stats must NOT have additional properties",
  ]);
});

Deno.test("results schema: the drift check fails on a field on one side only", () => {
  const doc = structuredClone(FULL) as unknown as Record<string, unknown>;
  doc.extra = 1;
  delete doc.testbed;
  assert.deepEqual(drift(RESULTS_SCHEMA as Schema, doc), [
    "/: not in the schema: extra",
    "/: only in the schema: testbed",
    "#/definitions/testbed: no field of the document reaches it",
    "#/definitions/testbed/properties/stragglers/items: no field of the document reaches it",
  ]);
});

Deno.test("results schema: its title and versions are core/version.ts's", () => {
  assert.equal(
    RESULTS_SCHEMA.title,
    `treecast results file (format version ${RESULTS_VERSION})`,
  );
  // The report reads every format up to the one written.
  assert.deepEqual(
    RESULTS_SCHEMA.properties.versions.properties.results.enum,
    Array.from({ length: RESULTS_VERSION }, (_, i) => i + 1),
  );
});
