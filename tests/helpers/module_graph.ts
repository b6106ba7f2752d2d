/**
 * The project's module graph and the rings in it (modules that import each
 * other, directly or around a ring, so none can be read or changed alone).
 *
 * The graph comes from `deno info --json`, run on a throwaway entry that
 * imports every module of the project except the unit tests (`*_test.ts`):
 * main.ts and everything it reaches, and the modules it does not reach
 * (benchmarks, `tests/chaos.ts`, helpers, the native probe's Worker).
 * Type-only and dynamic imports are edges too; npm packages are not
 * followed.
 *
 * @module
 */

/** Each module's imports (paths relative to the project root). */
export type ModuleGraph = ReadonlyMap<string, readonly string[]>;

/**
 * The rings of `graph` (pure): every set of two or more modules that reach
 * one another through imports, and every module importing itself; each
 * ring's modules sorted, the rings sorted by their first module. Tarjan's
 * strongly connected components.
 */
export function findRings(graph: ModuleGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const rings: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const ring: string[] = [];
    for (let w = ""; w !== v;) {
      w = stack.pop()!;
      onStack.delete(w);
      ring.push(w);
    }
    if (ring.length > 1 || (graph.get(v) ?? []).includes(v)) {
      rings.push(ring.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return rings.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/**
 * One way around `ring` (pure): the shortest import path from its first
 * module back to itself through its modules, e.g. `a.ts -> b.ts -> a.ts`.
 */
export function ringPath(graph: ModuleGraph, ring: readonly string[]): string {
  const start = ring[0]!;
  const inRing = new Set(ring);
  const from = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const v = queue[i]!;
    for (const w of graph.get(v) ?? []) {
      if (w === start) {
        const path = [start];
        for (let u: string | undefined = v; u !== undefined; u = from.get(u)) {
          path.splice(1, 0, u);
          if (u === start) break;
        }
        return path.slice(1).concat(start).join(" -> ");
      }
      if (inRing.has(w) && !from.has(w)) {
        from.set(w, v);
        queue.push(w);
      }
    }
  }
  throw new Error(`${ring.join(", ")} is not a ring`);
}

/** The project's `.ts` modules except unit tests, relative to `root`. */
export function projectModules(root: URL): string[] {
  const skip = new Set([".git", "node_modules", "results", "dist"]);
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(new URL(dir || ".", root))) {
      const path = dir + e.name;
      if (e.isDirectory && !skip.has(e.name)) walk(path + "/");
      else if (e.isFile && path.endsWith(".ts") && !path.endsWith("_test.ts")) {
        out.push(path);
      }
    }
  };
  walk("");
  return out.sort();
}

interface InfoModule {
  specifier: string;
  dependencies?: {
    code?: { specifier: string };
    type?: { specifier: string };
  }[];
}

/**
 * The module graph of `modules` and everything they import, from one
 * `deno info --json` (run with this Deno), keeping only the project's own
 * files under `root`.
 */
export async function projectGraph(
  root: URL,
  modules: readonly string[],
): Promise<ModuleGraph> {
  const dir = await Deno.makeTempDir({ prefix: "treecast-graph-" });
  try {
    const entry = `${dir}/entry.ts`;
    await Deno.writeTextFile(
      entry,
      modules.map((m) => `import "${new URL(m, root)}";\n`).join(""),
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "info",
        "--json",
        "--config",
        new URL("deno.json", root).pathname,
        entry,
      ],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    if (!out.success) {
      throw new Error(
        `deno info failed: ${new TextDecoder().decode(out.stderr)}`,
      );
    }
    const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
      modules: InfoModule[];
    };
    const own = (s: string) =>
      s.startsWith(root.href) && !s.includes("/node_modules/")
        ? s.slice(root.href.length)
        : null;
    const graph = new Map<string, string[]>();
    for (const m of info.modules) {
      const from = own(m.specifier);
      if (from === null) continue;
      const to = new Set<string>();
      for (const d of m.dependencies ?? []) {
        for (const s of [d.code?.specifier, d.type?.specifier]) {
          const path = s === undefined ? null : own(s);
          if (path !== null) to.add(path);
        }
      }
      graph.set(from, [...to].sort());
    }
    return graph;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
