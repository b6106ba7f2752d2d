import assert from "node:assert/strict";
import {
  type Entry,
  int,
  oneOf,
  parseYaml,
  type Place,
  record,
  secs,
  str,
  suggest,
} from "./yaml_read.ts";

/** The error the tests' loader throws: its message is `line:col field: reason`. */
class TestError extends Error {
  constructor(reason: string, readonly at: Place) {
    super(`${at.line}:${at.col} ${at.field || "-"}: ${reason}`);
  }
}

/** Reads `text` with `read`, returning the value or the error's message. */
function read<T>(
  text: string,
  read: (c: ReturnType<typeof parseYaml>["c"], e: Entry) => T,
): T | string {
  const error = (reason: string, at: Place) => new TestError(reason, at);
  try {
    const { c, top } = parseYaml(text, { file: "t.yaml", error });
    return read(c, top);
  } catch (e) {
    assert.ok(e instanceof TestError, `not the loader's error: ${e}`);
    assert.equal(e.at.file, "t.yaml");
    return e.message;
  }
}

const schema = record({ name: str, count: int(1, 9), wait: secs(0, 60) });

Deno.test("a mapping is read in document order with values and places", () => {
  const got = read("count: 3\nname: a\nwait: 500ms\n", schema);
  assert.ok(typeof got !== "string");
  assert.deepEqual(got.v, { count: 3, name: "a", wait: 0.5 });
  assert.deepEqual(Object.keys(got.at), ["count", "name", "wait"]);
});

Deno.test("errors are the loader's own, at line:col with the field", () => {
  const cases: [string, string][] = [
    ["a: [1", "1:6 -: YAML syntax error: "],
    [
      "name: a\nnmae: b\n",
      '2:1 nmae: unknown key "nmae", did you mean "name"?',
    ],
    ["count: 10\n", "1:8 count: must be a whole number from 1 to 9, got 10"],
    [
      "count: '3'\n",
      '1:8 count: must be a whole number from 1 to 9, got "3" (a string: drop the quotes)',
    ],
    [
      'wait: "2m"\n',
      '1:7 wait: must be at most 60 seconds, got "2m" (120 seconds)',
    ],
    [
      "wait:\n",
      '1:1 wait: must be seconds such as 10, "10s" or "500ms", got nothing',
    ],
    ["- 1\n", "1:1 -: must be a mapping, got a list"],
  ];
  for (const [text, want] of cases) {
    const got = read(text, schema);
    assert.ok(
      typeof got === "string" && got.startsWith(want),
      `${text}: ${got}`,
    );
  }
});

Deno.test("oneOf takes aliases and hints at one clear near miss only", () => {
  const kind = oneOf("kind", ["BEST", "WORST"], { GOOD: "BEST" });
  assert.equal(read("GOOD", kind), "BEST");
  assert.equal(
    read("BSET", kind),
    '1:1 -: unknown kind "BSET", did you mean "BEST"? (allowed: BEST, WORST)',
  );
  assert.equal(suggest("WROST", ["BEST", "WORST"]), ', did you mean "WORST"?');
  // Equally near to two options, or too far from any: no hint.
  assert.equal(suggest("ab", ["ac", "ad"]), "");
  assert.equal(suggest("xyz", ["BEST", "WORST"]), "");
});
