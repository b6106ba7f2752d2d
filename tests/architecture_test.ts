/** ARCHITECTURE.md stays a true map: it names every module outside tests/. */
import assert from "node:assert/strict";
import { projectModules } from "./helpers/module_graph.ts";

const ROOT = new URL("../", import.meta.url);

/** The modules (non-test `.ts` files outside `tests/`) `doc` does not name by their path. */
export function unnamedModules(
  modules: readonly string[],
  doc: string,
): string[] {
  return modules.filter((m) =>
    !m.startsWith("tests/") && !doc.includes(`\`${m}\``)
  );
}

Deno.test("unnamedModules: a module is named only by its whole path in backquotes", () => {
  const doc = "`core/cli.ts` and `worker/worker.ts`, but not cli.ts";
  assert.deepEqual(
    unnamedModules([
      "core/cli.ts",
      "worker/cli.ts",
      "worker/worker.ts",
      "tests/x.ts",
    ], doc),
    ["worker/cli.ts"],
  );
});

Deno.test("ARCHITECTURE.md names every module outside tests/ by its path", () => {
  const doc = Deno.readTextFileSync(new URL("ARCHITECTURE.md", ROOT));
  assert.deepEqual(unnamedModules(projectModules(ROOT), doc), []);
});
