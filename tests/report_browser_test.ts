/**
 * The report in a real browser: headless Chromium (Debian's package,
 * installed when missing; without it and without apt the tests fail, naming
 * what to install) opens a report of the demo results from disk.
 * The page must log no error, request nothing but itself, and draw
 * something (a screenshot that is not one flat colour).
 *
 * Set REPORT_SCREENSHOT=FILE to keep the screenshot.
 *
 * @module
 */
import assert from "node:assert/strict";
import { decode } from "fast-png";
import { demoResults } from "./fixtures/results_demo.ts";
import { writeReport } from "../report/report.ts";
import { checkPage, ensureChromium } from "./report_chromium.ts";

/** Distinct colours among the pixels of a PNG, and the share not white. */
function pixels(png: Uint8Array): { colours: number; inked: number } {
  const img = decode(png);
  const ch = img.channels;
  const data = img.data;
  const seen = new Set<number>();
  let inked = 0;
  for (let i = 0; i < data.length; i += ch) {
    const [r, g, b] = [data[i]!, data[i + 1]!, data[i + 2]!];
    seen.add((r << 16) | (g << 8) | b);
    if (r < 240 || g < 240 || b < 240) inked++;
  }
  return { colours: seen.size, inked: inked / (data.length / ch) };
}

Deno.test({
  name: "the report opens offline in Chromium: no errors, no requests, drawn",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const chromium = await ensureChromium();
    const dir = await Deno.makeTempDir({ prefix: "treecast-report-" });
    try {
      const file = `${dir}/report.html`;
      await writeReport(demoResults(), file);
      const url = `file://${file}`;
      const page = await checkPage(chromium, url);
      assert.deepEqual(page.errors, []);
      assert.deepEqual(
        page.requests.filter((u) =>
          !u.startsWith("file:") && !u.startsWith("data:")
        ),
        [],
      );
      assert.deepEqual(page.requests, [url]);
      const { colours, inked } = pixels(page.png);
      assert.ok(colours > 50, `only ${colours} colours: a blank page?`);
      assert.ok(inked > 0.05, `only ${(inked * 100).toFixed(1)}% inked`);
      const keep = Deno.env.get("REPORT_SCREENSHOT");
      if (keep) await Deno.writeFile(keep, page.png);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "the browser check catches a page that fetches, throws or is blank",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const chromium = await ensureChromium();
    const dir = await Deno.makeTempDir({ prefix: "treecast-report-" });
    try {
      const file = `${dir}/bad.html`;
      // A loopback address that nothing serves: the request is still seen.
      await Deno.writeTextFile(
        file,
        `<!DOCTYPE html><html><body>` +
          `<img style="display:none" src="http://127.0.0.1:9/x.png">` +
          `<script>console.error("boom"); undefinedFunction();</script>` +
          `</body></html>`,
      );
      const page = await checkPage(
        chromium,
        `file://${file}`,
        { width: 400, height: 300 },
      );
      assert.ok(page.requests.some((u) => u.startsWith("http://127.0.0.1:9/")));
      assert.ok(
        page.errors.some((e) => e.includes("boom")),
        page.errors.join(),
      );
      assert.ok(page.errors.some((e) => e.includes("undefinedFunction")));
      const blank = pixels(page.png);
      assert.ok(
        blank.colours <= 2 && blank.inked < 0.01,
        JSON.stringify(blank),
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
