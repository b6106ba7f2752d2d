import assert from "node:assert/strict";
import { type Command, emptyCommand } from "../proto/codec.ts";
import {
  CommandError,
  commandIo,
  type IoOffer,
  validateCommand,
} from "./validate.ts";

const ok = (f: Partial<Command> = {}): Command =>
  emptyCommand({
    flag: "PARENT",
    layer: 1,
    rate: 1000,
    dur: 1000,
    addrs: ["127.0.0.1:9101", "127.0.0.1:9102"],
    ...f,
  });

Deno.test("valid commands pass", () => {
  validateCommand(ok());
  validateCommand(emptyCommand({ flag: "CHILD", rate: 1, dur: 1 }));
  validateCommand(ok({
    flag: "MCAST",
    layer: 2,
    subtrees: [
      {
        addr: "127.0.0.1:9101",
        children: [{ addr: "127.0.0.1:9103", children: [] }],
      },
      { addr: "127.0.0.1:9102", children: [] },
    ],
  }));
});

const BAD: [string, Partial<Command>, string][] = [
  ["no job kind", { flag: "NONE" }, "flag"],
  ["rate 0", { rate: 0 }, "rate"],
  ["rate too high", { rate: 2_000_000 }, "rate"],
  ["duration 0", { dur: 0 }, "dur"],
  ["duration over an hour", { dur: 3_600_001 }, "dur"],
  ["negative warmup", { warmup: -1 }, "warmup"],
  ["layer too deep", { layer: 17 }, "layer"],
  ["size below the header", { size: 10 }, "size"],
  ["a shell command as address", { addrs: ["$(reboot):1"] }, "addrs[0]"],
  ["an address with a command after it", {
    addrs: ["127.0.0.1:9101; rm -rf /"],
  }, "addrs[0]"],
  ["port out of range", { addrs: ["127.0.0.1:70000"] }, "addrs[0]"],
  ["repeated address", { addrs: ["127.0.0.1:1", "127.0.0.1:1"] }, "addrs"],
  ["too many addresses", {
    addrs: Array.from(
      { length: 1025 },
      (_, i) => `10.0.${i >> 8}.${i & 255}:1`,
    ),
  }, "addrs"],
  ["PARENT without children", { addrs: [] }, "addrs"],
  ["PARENT at layer 0", { layer: 0 }, "layer"],
  ["CHILD with children", { flag: "CHILD", layer: 0 }, "addrs"],
  ["a label too long", { instr: "x".repeat(201) }, "instr"],
  ["subtrees not matching addrs", {
    subtrees: [{ addr: "127.0.0.1:9", children: [] }, {
      addr: "127.0.0.1:9102",
      children: [],
    }],
  }, "subtrees[0].addr"],
  ["a subtree deeper than the layer", {
    subtrees: [
      {
        addr: "127.0.0.1:9101",
        children: [{ addr: "127.0.0.1:9103", children: [] }],
      },
      { addr: "127.0.0.1:9102", children: [] },
    ],
  }, "subtrees[0]"],
  ["a bad address deep in a subtree", {
    layer: 2,
    subtrees: [
      { addr: "127.0.0.1:9101", children: [{ addr: "sh -c x", children: [] }] },
      { addr: "127.0.0.1:9102", children: [] },
    ],
  }, "subtrees[0].children[0].addr"],
  ["an address repeated across subtrees", {
    layer: 3,
    subtrees: [
      {
        addr: "127.0.0.1:9101",
        children: [{
          addr: "127.0.0.1:9103",
          children: [{ addr: "127.0.0.1:9102", children: [] }],
        }],
      },
      { addr: "127.0.0.1:9102", children: [] },
    ],
  }, "subtrees[1].addr"],
  ["an address repeated below itself", {
    layer: 2,
    subtrees: [
      {
        addr: "127.0.0.1:9101",
        children: [{ addr: "127.0.0.1:9101", children: [] }],
      },
      { addr: "127.0.0.1:9102", children: [] },
    ],
  }, "subtrees[0].children[0].addr"],
];

for (const [name, fields, field] of BAD) {
  Deno.test(`a command with ${name} is refused naming "${field}"`, () => {
    assert.throws(
      () => validateCommand(ok(fields)),
      (e) =>
        e instanceof CommandError && e.field === field &&
        e.message.startsWith(`Field "${field}"`),
    );
  });
}

Deno.test("a command naming the worker itself, in addrs or deep in a subtree, is refused naming the field", () => {
  const self = "127.0.0.1:9100";
  const cases: [Partial<Command>, string][] = [
    [{ addrs: ["127.0.0.1:9101", self] }, "addrs[1]"],
    [{
      layer: 2,
      subtrees: [
        { addr: "127.0.0.1:9101", children: [{ addr: self, children: [] }] },
        { addr: "127.0.0.1:9102", children: [] },
      ],
    }, "subtrees[0].children[0].addr"],
  ];
  for (const [fields, field] of cases) {
    assert.throws(
      () => validateCommand(ok(fields), self),
      (e) =>
        e instanceof CommandError && e.field === field &&
        /this worker's own address/.test(e.message),
    );
  }
  validateCommand(ok(), self); // others only: fine
});

Deno.test("the probe's I/O backend: the command's, or the worker's best for AUTO", () => {
  const both = {
    io: ["native", "deno"],
    timestamps: ["kernel", "user"],
  } as const;
  const nativeUser = { io: ["native", "deno"], timestamps: ["user"] } as const;
  const deno = { io: ["deno"], timestamps: ["user"] } as const;
  const c = (io: Command["io"], timestamps: Command["timestamps"]) =>
    emptyCommand({ flag: "CHILD", rate: 1, dur: 1, io, timestamps });
  const ok: [Command, IoOffer, string][] = [
    [c("AUTO", "TIMESTAMPS_UNSPECIFIED"), both, "native/kernel"],
    [c("AUTO", "TIMESTAMPS_UNSPECIFIED"), nativeUser, "native/user"],
    [c("AUTO", "TIMESTAMPS_UNSPECIFIED"), deno, "deno/user"],
    [c("NATIVE", "KERNEL"), both, "native/kernel"],
    // Native forced to user timestamps, to compare with workers that lack kernel ones.
    [c("NATIVE", "USER"), both, "native/user"],
    [c("NATIVE", "USER"), nativeUser, "native/user"],
    [c("DENO", "USER"), both, "deno/user"],
  ];
  for (const [cmd, offer, want] of ok) {
    const r = commandIo(cmd, offer);
    assert.equal(
      `${r.io}/${r.timestamps}`,
      want,
      `${cmd.io}/${cmd.timestamps}`,
    );
  }
  const refused: [Command, IoOffer, string][] = [
    [c("NATIVE", "KERNEL"), deno, "io"],
    [c("NATIVE", "KERNEL"), nativeUser, "timestamps"],
    [c("DENO", "KERNEL"), both, "timestamps"],
  ];
  for (const [cmd, offer, field] of refused) {
    assert.throws(
      () => commandIo(cmd, offer),
      (e) => e instanceof CommandError && e.field === field,
      `${cmd.io}/${cmd.timestamps} on ${JSON.stringify(offer)}`,
    );
  }
});
