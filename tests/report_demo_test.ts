/**
 * `treecast demo` end to end: the manager writes the report (and the leaf
 * CSV) beside the results and ends by naming the report, and the report
 * shows at a glance which trees hold the emulated stragglers.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Results } from "../manager/results.ts";
import { MAIN, runTreecast } from "./helpers/run.ts";
import { assertResultsSchema } from "./helpers/schema.ts";

/**
 * Pids of local demo workers of this checkout (`main.ts worker --bind
 * 127.0.0.1:0`; other checkouts on the machine may run tests meanwhile).
 */
function demoWorkers(): Set<number> {
  const out = new Set<number>();
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const cmd = Deno.readTextFileSync(`/proc/${e.name}/cmdline`);
      if (
        cmd.includes([MAIN, "worker", "--bind", "127.0.0.1:0"].join("\x00"))
      ) {
        out.add(Number(e.name));
      }
    } catch { /* gone meanwhile */ }
  }
  return out;
}

const count = (s: string, sub: string) => s.split(sub).length - 1;

Deno.test({
  name: "treecast demo ends by naming its report, which marks the stragglers",
  fn: async () => {
    const out = await Deno.makeTempDir({ prefix: "treecast-demo-" });
    const before = demoWorkers();
    try {
      const r = await runTreecast(["demo", "--out", out], {
        timeoutMs: 180_000,
      });
      assert.equal(r.code, 0, r.stderr);
      const last = r.stdout.trimEnd().split("\n").at(-1)!;
      const m = last.match(/^Report: (.+\/report\.html)$/);
      assert.ok(m, `the last line names the report: ${last}`);
      const dir = m[1]!.replace(/\/report\.html$/, "");
      const results: Results = JSON.parse(
        await Deno.readTextFile(`${dir}/results.json`),
      );
      assertResultsSchema(results);
      assert.equal(results.status, "complete");
      const left = [...demoWorkers()].filter((p) => !before.has(p));
      assert.deepEqual(left, [], "the demo left workers running");
      assert.ok((await Deno.stat(`${dir}/leaves.csv`)).size > 0);
      assert.ok((await Deno.stat(`${dir}/messages.csv`)).size > 0);
      const html = await Deno.readTextFile(m[1]!);
      let slowTrees = 0;
      for (const t of results.trees) {
        const row = html.match(
          new RegExp(`<tr data-tree="${t.name}"[^>]*>[\\s\\S]*?</tr>`),
        )?.[0];
        assert.ok(row, `a summary row for ${t.name}`);
        const listed = Number(row.match(/data-stragglers="(\d+)"/)![1]);
        assert.equal(listed, t.stragglers.length, t.name);
        const section = html.match(
          new RegExp(
            `<section class="tree"[^>]*data-tree="${t.name}">[\\s\\S]*?</section>`,
          ),
        )![0];
        const drawing = section.match(
          /<figure class="drawing">[\s\S]*?<figcaption>/,
        )![0];
        assert.equal(count(drawing, "SLOW"), t.stragglers.length, t.name);
        if (t.type !== "BEST" && t.stragglers.length > 0) slowTrees++;
      }
      assert.ok(slowTrees > 0, "a WORST or RANDOM tree holds a straggler");
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});
