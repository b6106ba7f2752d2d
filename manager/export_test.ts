import assert from "node:assert/strict";
import { leafDelays } from "../core/results.ts";
import { demoResults } from "../tests/fixtures/results_demo.ts";
import {
  csvField,
  LEAF_COLUMNS,
  leafCsv,
  leafCsvPathFor,
  MESSAGE_COLUMNS,
  messageCsv,
  writeLeafCsv,
  writeMessageCsv,
} from "./export.ts";
import { figuresOf, spread } from "../tests/fixtures/message_figures.ts";

/** A small RFC 4180 reader, to read back what leafCsv wrote. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [], field = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') field += '"', i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") row.push(field), field = "";
    else if (c === "\n") row.push(field), rows.push(row), row = [], field = "";
    else field += c;
  }
  assert.equal(field + row.join(""), "", "text ends with a newline");
  return rows;
}

Deno.test("csvField quotes commas, quotes and line breaks only", () => {
  assert.equal(csvField("plain"), "plain");
  assert.equal(csvField(12.5), "12.5");
  assert.equal(csvField(true), "true");
  assert.equal(csvField(undefined), "");
  assert.equal(csvField("a,b"), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField("two\nlines"), '"two\nlines"');
  assert.equal(csvField("cr\r"), '"cr\r"');
});

Deno.test("csvField defuses text a spreadsheet would run as a formula; numbers, negative ones too, stay numbers", () => {
  assert.equal(
    csvField('=HYPERLINK("http://x")'),
    '"\'=HYPERLINK(""http://x"")"',
  );
  assert.equal(csvField("+1+cmd|' /C calc'!A0"), "'+1+cmd|' /C calc'!A0");
  assert.equal(csvField("-2+3"), "'-2+3");
  assert.equal(csvField("@SUM(A1)"), "'@SUM(A1)");
  assert.equal(csvField("\t=1"), "'\t=1");
  assert.equal(csvField("\r=1"), '"\'\r=1"');
  assert.equal(csvField(-35), "-35");
  assert.equal(csvField(-0.5), "-0.5");
  assert.equal(csvField("delay=2ms"), "delay=2ms");
});

Deno.test("leafCsv: a formula in a tree name goes out as text, a negative delay as a number", () => {
  const r = demoResults();
  const t = r.trees[0]!;
  t.name = "=1+1";
  const leaf = t.evaluations[0]!.nodes.find((n) =>
    n.role === "leaf" && n.stats
  )!;
  leaf.stats!.minUs = -42;
  const rows = parseCsv(leafCsv(r));
  const col = (name: (typeof LEAF_COLUMNS)[number]) =>
    LEAF_COLUMNS.indexOf(name);
  const row = rows.find((x) =>
    x[col("leaf")] === leaf.addr &&
    x[col("run")] === `${t.evaluations[0]!.run}` && x[col("tree")] === "'=1+1"
  )!;
  assert.ok(row, "the tree's rows carry its name as text");
  assert.equal(row[col("min_us")], "-42");
});

Deno.test("leafCsv: a row per tree, run and leaf, with every column", () => {
  const r = demoResults();
  const rows = parseCsv(leafCsv(r));
  assert.deepEqual(rows[0], [...LEAF_COLUMNS]);
  const leaves = r.trees.flatMap((t) =>
    t.evaluations.flatMap((e) => e.nodes.filter((n) => n.role === "leaf"))
  );
  assert.equal(rows.length - 1, leaves.length);
  for (const row of rows) assert.equal(row.length, LEAF_COLUMNS.length);
  const col = (name: (typeof LEAF_COLUMNS)[number]) =>
    LEAF_COLUMNS.indexOf(name);
  // The WORST tree's worst leaf is an emulated straggler.
  const t = r.trees[2]!;
  const w = leafDelays(t.evaluations[0]!.worstLeaf)!;
  const row = rows.find((x) =>
    x[col("tree")] === t.name && x[col("leaf")] === w.addr
  )!;
  assert.equal(row[col("worst")], "true");
  assert.equal(row[col("emulated")], "delay=3000us,jitter=150us");
  assert.equal(Number(row[col("p90_us")]), w.p90Us);
  assert.equal(Number(row[col("stddev_us")]), w.stddevUs);
  assert.equal(row[col("run")], "1");
  assert.equal(row[col("strategy")], "P90");
  assert.equal(row[col("error")], "");
  // The raw line quotes the emulation, which holds a comma.
  assert.match(leafCsv(r), /,"delay=3000us,jitter=150us",true,/);
});

Deno.test("leafCsv: a leaf without statistics keeps its row, empty, with why", () => {
  const r = demoResults();
  r.trees = [r.trees[0]!];
  const leaf = r.trees[0]!.evaluations[0]!.nodes.find((n) =>
    n.role === "leaf"
  )!;
  delete leaf.stats;
  leaf.error = 'Worker "x" did not answer, REPORT timed out';
  const rows = parseCsv(leafCsv(r));
  const row = rows.find((x) => x[5] === leaf.addr)!;
  assert.equal(row[LEAF_COLUMNS.indexOf("p90_us")], "");
  assert.equal(row.at(-1), leaf.error);
});

Deno.test("writeLeafCsv writes leaves.csv beside the results", async () => {
  const dir = await Deno.makeTempDir({ prefix: "treecast-export-" });
  try {
    const path = await writeLeafCsv(demoResults(), `${dir}/results.json`);
    assert.equal(path, `${dir}/leaves.csv`);
    assert.equal(leafCsvPathFor("results.json"), "leaves.csv");
    assert.equal(await Deno.readTextFile(path), leafCsv(demoResults()));
    const names = [...Deno.readDirSync(dir)].map((e) => e.name);
    assert.deepEqual(names, ["leaves.csv"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("messageCsv: a row per tree and evaluation run with its per-message figures, a fair-share column per hold, a null quantile empty", () => {
  const r = demoResults();
  const [a, b] = r.trees;
  a!.evaluations[0]!.messages = figuresOf(
    spread(100, 10, 40),
    spread(100, 5, 5),
  );
  // 2 of 100 messages lost: p99 falls among them.
  b!.evaluations[0]!.messages = figuresOf(
    spread(98, 10, 40),
    spread(98, 5, 5),
    {
      lost: 2,
    },
  );
  b!.name = "=HYPERLINK(1)";
  const rows = parseCsv(messageCsv(r));
  const head = rows[0]!;
  const holds = a!.evaluations[0]!.messages!.fairness.holds;
  assert.deepEqual(head, [
    ...MESSAGE_COLUMNS,
    ...holds.map((h) => `fair_${h.holdUs}us`),
    "error",
  ]);
  const evaluations = r.trees.flatMap((t) => t.evaluations);
  assert.equal(rows.length - 1, evaluations.length);
  for (const row of rows) assert.equal(row.length, head.length);
  const cell = (row: string[], name: string) => row[head.indexOf(name)]!;
  const [ra, rb] = [rows[1]!, rows[2]!];
  const m = a!.evaluations[0]!.messages!;
  assert.equal(cell(ra, "tree"), a!.name);
  assert.equal(cell(ra, "round"), "0");
  assert.equal(Number(cell(ra, "messages")), 100);
  assert.equal(Number(cell(ra, "latency_p99_us")), m.latency.p99Us);
  assert.equal(Number(cell(ra, "window_p50_us")), m.window.p50Us);
  assert.equal(Number(cell(ra, "hold99_us")), m.fairness.hold99Us);
  // 10 + 30 i / 99 <= 20 for i <= 33: 34 of the 100 messages by 20 µs.
  assert.equal(Number(cell(ra, "fair_20us")), 0.34);
  assert.equal(cell(ra, "error"), "");
  assert.equal(cell(rb, "tree"), "'=HYPERLINK(1)");
  assert.equal(cell(rb, "lost"), "2");
  assert.equal(Number(cell(rb, "lost_share")), 0.02);
  assert.equal(cell(rb, "latency_p99_us"), "");
  assert.equal(cell(rb, "latency_max_us"), "");
  assert.ok(Number(cell(rb, "latency_p90_us")) > 0);
  // An evaluation without figures keeps its row, empty, with why.
  const rest = rows[3]!;
  assert.equal(cell(rest, "latency_p50_us"), "");
  assert.equal(cell(rest, "error"), "no per-message figures");
});

Deno.test("writeMessageCsv writes messages.csv beside the results", async () => {
  const dir = await Deno.makeTempDir({ prefix: "treecast-export-" });
  try {
    const r = demoResults();
    const path = writeMessageCsv(r, `${dir}/results.json`);
    assert.equal(path, `${dir}/messages.csv`);
    assert.equal(await Deno.readTextFile(path), messageCsv(r));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
