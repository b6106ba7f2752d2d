import assert from "node:assert/strict";
import type { Io } from "../core/cli.ts";
import {
  FigureAccumulator,
  type MessageFigures,
} from "../core/message_figures.ts";
import { leafPart, mergeParts, NOT_RECEIVED } from "../core/message_parts.ts";
import { leafDelays } from "../core/results.ts";
import { DEMO_RESULTS } from "../tests/fixtures/results_demo.ts";
import { loadResults, reportPathFor, runReportCommand } from "./cli.ts";

const SNAP = new URL("../tests/fixtures/", import.meta.url);
const UPDATE = Deno.env.get("UPDATE_SNAPSHOTS") === "1";

/** Compares `text` with a snapshot file; UPDATE_SNAPSHOTS=1 rewrites it. */
async function assertSnapshot(name: string, text: string): Promise<void> {
  const file = new URL(name, SNAP);
  if (UPDATE) return await Deno.writeTextFile(file, text);
  assert.equal(
    text,
    await Deno.readTextFile(file),
    `Snapshot ${name} differs (UPDATE_SNAPSHOTS=1 rewrites it)`,
  );
}

async function run(args: string[]) {
  let out = "", err = "";
  const io: Io = { out: (t) => void (out += t), err: (t) => void (err += t) };
  const code = await runReportCommand(args, io);
  return { code, out, err };
}

async function tempResults(text?: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "treecast-report-" });
  const path = `${dir}/results.json`;
  await Deno.writeTextFile(path, text ?? await Deno.readTextFile(DEMO_RESULTS));
  return path;
}

Deno.test("report writes report.html beside the results and names it", async () => {
  const path = await tempResults();
  const r = await run([path]);
  assert.equal(r.code, 0, r.err);
  const out = reportPathFor(path);
  assert.equal(out, path.replace(/results\.json$/, "report.html"));
  assert.equal(r.out, `Report: ${out}\n`);
  assert.equal(r.err, "");
  assert.match(await Deno.readTextFile(out), /^<!DOCTYPE html>/);
  await Deno.remove(path.replace(/\/results\.json$/, ""), { recursive: true });
});

Deno.test("report -o and --out choose the file", async () => {
  const path = await tempResults();
  const dir = path.replace(/\/results\.json$/, "");
  for (const flag of ["-o", "--out"]) {
    const out = `${dir}/x${flag}.html`;
    const r = await run([path, flag, out]);
    assert.equal(r.code, 0, r.err);
    assert.ok((await Deno.stat(out)).size > 10_000);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("report of a missing file is a usage error naming it", async () => {
  const r = await run(["/nonexistent/results.json"]);
  assert.equal(r.code, 2);
  const errors = r.err.split("\n").filter((l) => l.startsWith("error:"));
  assert.deepEqual(errors, [
    'error: Cannot read results "/nonexistent/results.json": no such file',
  ]);
  assert.equal(r.out, "");
  await assertSnapshot("report_usage_error.txt", r.err);
});

Deno.test("report of a file that is not results is a usage error", async () => {
  for (
    const [text, why] of [
      ["{ nope", /not JSON/],
      ['{"format": "something else"}', /do not fit the results schema/],
    ] as const
  ) {
    const path = await tempResults(text);
    const r = await run([path]);
    assert.equal(r.code, 2);
    const errors = r.err.split("\n").filter((l) => l.startsWith("error:"));
    assert.equal(errors.length, 1);
    assert.ok(errors[0]!.includes(`"${path}"`), errors[0]!);
    assert.match(errors[0]!, why);
    await Deno.remove(path.replace(/\/results\.json$/, ""), {
      recursive: true,
    });
  }
});

Deno.test("report without a file, or with two, is a usage error", async () => {
  assert.equal((await run([])).code, 2);
  assert.equal((await run(["a.json", "b.json"])).code, 2);
});

Deno.test("report into a missing folder fails at run time (exit 1)", async () => {
  const path = await tempResults();
  const r = await run([path, "-o", "/nonexistent/dir/report.html"]);
  assert.equal(r.code, 1);
  assert.match(
    r.err,
    /^error: Cannot write report "\/nonexistent\/dir\/report\.html"/,
  );
  await Deno.remove(path.replace(/\/results\.json$/, ""), { recursive: true });
});

Deno.test("loadResults accepts the demo fixture (results format 1), formats 2 and 3, nothing else", async () => {
  const r = await loadResults(DEMO_RESULTS.pathname);
  assert.equal(r.trees.length, 4);
  assert.equal(r.versions.results, 1);
  for (
    const [v, ok] of [[2, true], [3, true], [4, false], [0, false]] as const
  ) {
    const path = await tempResults(
      JSON.stringify({ ...r, versions: { ...r.versions, results: v } }),
    );
    if (ok) assert.equal((await loadResults(path)).versions.results, v);
    else await assert.rejects(loadResults(path), /versions\/results/);
    await Deno.remove(path.replace(/\/results\.json$/, ""), {
      recursive: true,
    });
  }
});

Deno.test("loadResults accepts a format 3 evaluation with per-message figures and a lossy worst leaf, and refuses a malformed one", async () => {
  const r = await loadResults(DEMO_RESULTS.pathname);
  const doc = structuredClone(r);
  doc.versions.results = 3;
  const ev = doc.trees[0]!.evaluations[0]!;
  ev.messages = figures();
  ev.worstLeaf = {
    ...leafDelays(ev.worstLeaf)!,
    lossShare: 0.05,
    p90SentUs: 900,
  };
  const path = await tempResults(JSON.stringify(doc));
  const back = await loadResults(path);
  assert.deepEqual(back.trees[0]!.evaluations[0]!.messages, ev.messages);
  const bad = structuredClone(doc);
  // deno-lint-ignore no-explicit-any
  (bad.trees[0]!.evaluations[0]!.messages as any).latency.p99Us = "slow";
  await Deno.writeTextFile(path, JSON.stringify(bad));
  await assert.rejects(loadResults(path), /messages\/latency\/p99Us/);
  await Deno.remove(path.replace(/\/results\.json$/, ""), { recursive: true });
});

/** Figures of a small evaluation: 4 receivers, 100 messages, one lost. */
function figures(): MessageFigures {
  const leaves = Array.from({ length: 4 }, (_, r) => ({
    addr: `leaf${r}`,
    part: leafPart(
      {
        firstSeq: 0,
        delaysNs: Int32Array.from(
          { length: 100 },
          (_, i) =>
            r === 0 && i === 50 ? NOT_RECEIVED : 40_000 + r * 1000 + i * 10,
        ),
      },
      10,
      97,
      { startSeq: 0, endSeq: 100 },
    ),
  }));
  const acc = new FigureAccumulator({
    receivers: 4,
    corrected: false,
    windowMessages: 10,
    percentile: 97,
  });
  acc.add(
    mergeParts(leaves, { correct: false, window: 10, firstSeq: 0 }),
    0,
    100,
  );
  return acc.figures();
}

Deno.test("report --help matches its snapshot", async () => {
  const r = await run(["--help"]);
  assert.equal(r.code, 0);
  assert.match(r.out, /^Usage: treecast report RESULTS\.json \[-o FILE\]/);
  await assertSnapshot("report_help.txt", r.out);
});
