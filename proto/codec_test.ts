import assert from "node:assert/strict";
import protobuf from "protobufjs";
import {
  decode,
  DecodeError,
  emptyCommand,
  emptyJob,
  encode,
  type Message,
  SCHEMA,
} from "./codec.ts";
import { FIXTURES } from "./_fixtures.ts";

const _hex = (b: Uint8Array) =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const _fromHex = (h: string) =>
  new Uint8Array(h.match(/../g)!.map((x) => parseInt(x, 16)));
const _golden = (name: string) =>
  Deno.readTextFileSync(new URL(`./testdata/${name}.hex`, import.meta.url))
    .replace(/\s/g, "");

for (const [name, msg] of Object.entries(FIXTURES)) {
  Deno.test(`golden ${name}: encode gives the fixture bytes`, () => {
    assert.equal(_hex(encode(msg)), _golden(name));
  });
  Deno.test(`golden ${name}: decoding the fixture bytes gives the object`, () => {
    assert.deepEqual(decode(_fromHex(_golden(name))), msg);
  });
}

Deno.test("every message kind has a golden fixture", () => {
  const types = new Set(Object.values(FIXTURES).map((m) => m.type));
  assert.deepEqual([...types].sort(), [
    "ACK",
    "COMMAND",
    "CONNECT",
    "ERR",
    "REPORT",
    "STOP",
  ]);
});

Deno.test("the TypeScript defaults know every field of the schema", () => {
  const fields = (t: string) =>
    SCHEMA.lookupType(`treecast.${t}`).fieldsArray.map((f) => f.name).sort();
  const optional = ["stats", "sender", "forward"];
  assert.deepEqual(
    fields("Job"),
    [...Object.keys(emptyJob()), ...optional].sort(),
  );
  assert.deepEqual(
    fields("Command"),
    [...Object.keys(emptyCommand()), "hedge"].sort(),
  );
});

const _raw = (obj: Record<string, unknown>) => {
  const T = SCHEMA.lookupType("treecast.Message");
  return T.encode(T.fromObject(obj)).finish();
};

const BAD: [string, Uint8Array, RegExp][] = [
  [
    "truncated bytes",
    _fromHex(_golden("command")).slice(0, 20),
    /Malformed message/,
  ],
  ["garbage", new Uint8Array([0xff, 0xff, 0xff, 0xff]), /Malformed message/],
  ["empty", new Uint8Array(), /no type/],
  [
    "unknown type",
    _raw({ type: 9, data: { src: "a" } }),
    /Unknown Type value 9/,
  ],
  [
    "unknown flag deep in a job",
    _raw({
      type: 1,
      data: { report: { job: { deps: [{ flag: 42 }] } } },
    }),
    /Unknown Flag value 42 in message\.data\.report\.job\.deps\[0\]\.flag/,
  ],
  ["no metadata", _raw({ type: 2 }), /CONNECT message has no data/],
  [
    "CONNECT without hello",
    _raw({ type: 2, data: { src: "a" } }),
    /missing its hello/,
  ],
  [
    "COMMAND without command",
    _raw({ type: 3, data: { src: "a" } }),
    /missing its command/,
  ],
  [
    "REPORT without job",
    _raw({ type: 4, data: { report: { complete: true } } }),
    /report\.job/,
  ],
  ["ERR without error", _raw({ type: 5, data: {} }), /missing its error/],
  ...["-x", "a b", "$(reboot)", "10.0.0.1:5000:x/", ""].map((
    h,
  ): [string, Uint8Array, RegExp] => [
    `a COMMAND whose sender is "${h}", not a host`,
    _raw({ type: 3, data: { command: { senders: ["h", h] } } }),
    /command\.senders\[1\] .* is not a host/,
  ]),
  [
    "a hello's boot id of 65 characters",
    _raw({ type: 2, data: { hello: { bootId: "a".repeat(65) } } }),
    /hello\.bootId is not up to 64 printable ASCII characters \(65 characters\)/,
  ],
  [
    "a hello's boot id with a newline",
    _raw({ type: 1, data: { hello: { bootId: "3d9a\n6f0e" } } }),
    /hello\.bootId is not up to 64 printable ASCII/,
  ],
  [
    "CONNECT carrying a command",
    _raw({ type: 2, data: { command: { rate: 1 } } }),
    /missing its hello|carries a command/,
  ],
];
/** The golden part reply with `part` fields replaced. */
const _badPart = (fields: Record<string, unknown>) => {
  const report = FIXTURES.report_part_ack!.data.report!;
  return _raw({
    type: 1,
    data: { report: { ...report, part: { ...report.part, ...fields } } },
  });
};
BAD.push(
  [
    "a part whose worst array is short of its count",
    _badPart({ worstNs: new Uint8Array(8) }),
    /report\.part\.worstNs" holds 8 bytes for 3 messages/,
  ],
  [
    "a part whose receivers array is too long",
    _badPart({ receivers: new Uint8Array(8) }),
    /report\.part\.receivers" holds 8 bytes for 3 messages/,
  ],
  [
    "a part whose windows do not match its seqs",
    _badPart({ window: 1 }),
    /report\.part\.windowMaxNs" holds 8 bytes for 3 windows/,
  ],
  [
    "a part over the size limit",
    _badPart({ count: 40_000 }),
    /report\.part\.count" must be at most 32768/,
  ],
  [
    "a part request with a window that does not divide its size",
    _raw({
      type: 4,
      data: {
        report: {
          job: {},
          partRequest: { size: 100, window: 30, percentile: 97 },
        },
      },
    }),
    /part_request\.window" must divide size 100, got 30/,
  ],
);
for (const [name, bytes, re] of BAD) {
  Deno.test(`decode rejects ${name} with a typed error`, () => {
    assert.throws(
      () => decode(bytes),
      (e) => e instanceof DecodeError && re.test(e.message),
    );
  });
}

Deno.test("the schema is parsed from the embedded text, not read at run time", async () => {
  const src = await Deno.readTextFile(new URL("./codec.ts", import.meta.url));
  assert.match(src, /with \{ type: "text" \}/);
  assert.doesNotMatch(src, /readTextFile|readFile|protobuf\.load/);
  assert.ok(SCHEMA instanceof protobuf.Root);
});

Deno.test("a hello's run and roster key and a command's run and tags come through; wrong sizes are refused", () => {
  const hello = {
    ...FIXTURES.connect!.data.hello!,
    run: "0123456789abcdef",
    rosterKey: new Uint8Array(32).fill(1),
  };
  const connect = { ...FIXTURES.connect!, data: { src: "m", dst: "w", hello } };
  assert.deepEqual(decode(encode(connect)).data.hello, hello);
  const command = emptyCommand({
    flag: "PARENT",
    addrs: ["w:1", "w:2"],
    run: "0123456789abcdef",
    rosterTags: new Uint8Array(16).fill(2),
  });
  const cmd = { ...FIXTURES.command!, data: { src: "m", dst: "w", command } };
  assert.deepEqual(decode(encode(cmd)).data.command, command);
  const bad: [Message, RegExp][] = [
    [
      {
        ...connect,
        data: {
          ...connect.data,
          hello: { ...hello, rosterKey: new Uint8Array(31) },
        },
      },
      /hello\.rosterKey has 31 bytes, not 32/,
    ],
    [
      {
        ...connect,
        data: { ...connect.data, hello: { ...hello, run: "x".repeat(33) } },
      },
      /hello\.run is not up to 32 printable ASCII characters/,
    ],
    [
      {
        ...cmd,
        data: {
          ...cmd.data,
          command: { ...command, rosterTags: new Uint8Array(12) },
        },
      },
      /command\.rosterTags has 12 bytes, not a multiple of 8/,
    ],
  ];
  for (const [msg, want] of bad) {
    assert.throws(
      () => decode(encode(msg)),
      (e) => e instanceof DecodeError && want.test(e.message),
    );
  }
});

Deno.test("a worker's relay port and a command's relay ports come through; a port above 65535 is refused; a hello without one has none", () => {
  const hello = { ...FIXTURES.connect!.data.hello!, relayPort: 9001 };
  const connect = { ...FIXTURES.connect!, data: { src: "w", dst: "m", hello } };
  assert.deepEqual(decode(encode(connect)).data.hello, hello);
  const none = {
    ...connect,
    data: { ...connect.data, hello: { ...hello, relayPort: 0 } },
  };
  assert.equal("relayPort" in decode(encode(none)).data.hello!, false);
  const command = emptyCommand({
    flag: "PARENT",
    addrs: ["w:1", "w:2"],
    relayPorts: [2, 65535],
  });
  const cmd = { ...FIXTURES.command!, data: { src: "m", dst: "w", command } };
  assert.deepEqual(decode(encode(cmd)).data.command, command);
  const bad: [Message, RegExp][] = [
    [
      {
        ...connect,
        data: { ...connect.data, hello: { ...hello, relayPort: 65536 } },
      },
      /hello\.relayPort 65536 is not a port/,
    ],
    [
      {
        ...cmd,
        data: { ...cmd.data, command: { ...command, relayPorts: [1, 70000] } },
      },
      /command\.relayPorts\[1\] 70000 is not a port/,
    ],
  ];
  for (const [msg, want] of bad) {
    assert.throws(
      () => decode(encode(msg)),
      (e) => e instanceof DecodeError && want.test(e.message),
    );
  }
});
