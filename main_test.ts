import assert from "node:assert/strict";
import { COMMANDS } from "./main.ts";

Deno.test("the table's names and summaries are the commands' own", async () => {
  for (const entry of COMMANDS) {
    const cmd = await entry.load();
    assert.equal(cmd.spec.name, entry.name);
    assert.equal(cmd.spec.summary, entry.summary);
  }
});
