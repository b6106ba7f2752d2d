import assert from "node:assert/strict";
import {
  type Command,
  decode,
  emptyCommand,
  emptyJob,
  encode,
  type Subtree,
} from "../proto/codec.ts";
import { HedgedRelay, HeldRelays } from "./hedge.ts";
import { CommandError, validateCommand } from "./validate.ts";

const SELF = "10.0.0.1:9000";
const leaf = (addr: string): Subtree => ({ addr, children: [] });
/** The root's command of a depth-2, fanout-2 tree; A's and B's hedges as given. */
const mcast = (a: string[], b: string[]): Command =>
  emptyCommand({
    flag: "MCAST",
    layer: 2,
    rate: 100,
    dur: 1000,
    addrs: ["10.0.0.2:9000", "10.0.0.3:9000"],
    subtrees: [
      {
        addr: "10.0.0.2:9000",
        children: [leaf("10.0.0.4:9000"), leaf("10.0.0.5:9000")],
        hedges: a,
      },
      {
        addr: "10.0.0.3:9000",
        children: [leaf("10.0.0.6:9000"), leaf("10.0.0.7:9000")],
        hedges: b,
      },
    ],
  });

Deno.test("hedges naming children of the node's siblings pass", () => {
  validateCommand(
    mcast(["10.0.0.6:9000", "10.0.0.7:9000"], ["10.0.0.4:9000"]),
    SELF,
  );
});

Deno.test("a hedge outside the tree, to the node's own parent or child, or to a sibling itself is refused naming the field", () => {
  const cases: [string[], string, RegExp][] = [
    [["10.0.0.9:9000"], "subtrees[0].hedges[0]", /not a child of a sibling/],
    [[SELF], "subtrees[0].hedges[0]", /own parent/],
    [["10.0.0.4:9000"], "subtrees[0].hedges[0]", /already this node's child/],
    [["10.0.0.3:9000"], "subtrees[0].hedges[0]", /not a child of a sibling/],
  ];
  for (const [hedges, field, why] of cases) {
    assert.throws(
      () => validateCommand(mcast(hedges, []), SELF),
      (e) =>
        e instanceof CommandError && e.field === field && why.test(e.message),
      hedges.join(),
    );
  }
  // Deeper: a leaf's hedge (it has no sibling with children).
  const deep = mcast([], []);
  deep.subtrees[0]!.children[0]!.hedges = ["10.0.0.6:9000"];
  assert.throws(
    () => validateCommand(deep, SELF),
    (e) =>
      e instanceof CommandError &&
      e.field === "subtrees[0].children[0].hedges[0]",
  );
});

Deno.test("a hedge phase is for PROXY only, phase 1 or 2, its destinations probe addresses", () => {
  const proxy = (hedge: NonNullable<Command["hedge"]>) =>
    emptyCommand({
      flag: "PROXY",
      layer: 1,
      rate: 100,
      dur: 1000,
      addrs: ["10.0.0.4:9000"],
      hedge,
    });
  validateCommand(proxy({ phase: 2, key: "k", to: ["10.0.0.6:40000"] }));
  const bad: [Command, string][] = [
    [proxy({ phase: 3, key: "k", to: [] }), "hedge.phase"],
    [proxy({ phase: 1, key: "", to: [] }), "hedge.key"],
    [proxy({ phase: 1, key: "k", to: ["10.0.0.6:4"] }), "hedge.to"],
    [proxy({ phase: 2, key: "k", to: ["10.0.0.6:0"] }), "hedge.to[0]"],
    [{ ...mcast([], []), hedge: { phase: 1, key: "k", to: [] } }, "hedge"],
  ];
  for (const [cmd, field] of bad) {
    assert.throws(
      () => validateCommand(cmd),
      (e) => e instanceof CommandError && e.field === field,
      field,
    );
  }
});

Deno.test("a hedge sender that is not a host is refused on decode", () => {
  const cmd = mcast([], []);
  cmd.subtrees[0]!.children[0]!.hedgeSenders = ["--to"];
  const bytes = encode({
    id: 1,
    ts: 1,
    type: "COMMAND",
    data: { src: "m", dst: SELF, command: cmd },
  });
  assert.throws(
    () => decode(bytes),
    /subtrees\[0\]\.children\[0\]\.hedgeSenders\[0\] "--to" is not a host/,
  );
});

Deno.test("the relaying worker's two phases: hold names each grandchild's hedge senders, start gives each proxy its hedge children's probe addresses", async () => {
  const cmd = mcast(["10.0.0.6:9000", "10.0.0.7:9000"], ["10.0.0.4:9000"]);
  const r = HedgedRelay.of(cmd)!;
  assert.equal(HedgedRelay.of(mcast([], [])), null);
  const relayed = (i: number): Command => ({
    ...cmd,
    flag: "PROXY",
    layer: 1,
    subtrees: cmd.subtrees[i]!.children,
  });
  const a = r.hold(0, relayed(0)), b = r.hold(1, relayed(1));
  assert.equal(a.hedge!.phase, 1);
  assert.deepEqual(a.subtrees.map((s) => s.hedgeSenders), [
    ["10.0.0.3"],
    undefined,
  ]);
  assert.deepEqual(b.subtrees.map((s) => s.hedgeSenders), [["10.0.0.2"], [
    "10.0.0.2",
  ]]);
  const dep = (owner: string, addr: string) => emptyJob({ owner, addr });
  let both = false;
  const first = r.heard(emptyJob({
    deps: [dep("10.0.0.4:9000", "10.0.0.4:41000"), dep("10.0.0.5:9000", "")],
  })).then(() => both = true);
  await Promise.resolve();
  assert.equal(both, false, "phase 2 waits for every phase 1");
  await r.heard(emptyJob({
    deps: [
      dep("10.0.0.6:9000", "10.0.0.6:42000"),
      dep("10.0.0.7:9000", "10.0.0.7:43000"),
    ],
  }));
  await first;
  assert.deepEqual(r.start(0, relayed(0)).hedge!.to, [
    "10.0.0.6:42000",
    "10.0.0.7:43000",
  ]);
  assert.deepEqual(r.start(1, relayed(1)).hedge!.to, ["10.0.0.4:41000"]);
  assert.equal(r.start(1, relayed(1)).hedge!.key, a.hedge!.key);
});

Deno.test("a held relay is taken once by its key and sender; unheld or expired keys are refused", async () => {
  const held = new HeldRelays();
  const jobs = [emptyJob({ id: "x.1" })];
  held.put("g", "k", jobs, 60_000, () => {});
  assert.throws(() => held.take("other", "k"), /No relay held/);
  assert.deepEqual(held.take("g", "k"), jobs);
  assert.throws(() => held.take("g", "k"), /No relay held/);
  const expired = Promise.withResolvers<void>();
  held.put("g", "k2", jobs, 1, expired.resolve);
  await expired.promise;
  assert.throws(() => held.take("g", "k2"), /No relay held/);
});
