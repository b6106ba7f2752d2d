import { checkPage } from "./report_chromium.ts";
const t0 = Date.now();
const r = await checkPage("/usr/bin/chromium", "file:///tmp/report.html", {
  fullPage: true,
});
console.log(r.errors, r.requests, r.png.length, Date.now() - t0);
Deno.writeFileSync("/tmp/report_full.png", r.png);
