import assert from "node:assert/strict";
import type { Io } from "../core/cli.ts";
import {
  childCommand,
  createChildCommand,
  createParentCommand,
  createProxyCommand,
  parentCommand,
  proxyCommand,
} from "./cli.ts";

function capture(): Io & { stdout: () => string; stderr: () => string } {
  let out = "", err = "";
  return {
    out: (t) => out += t,
    err: (t) => err += t,
    stdout: () => out,
    stderr: () => err,
  };
}

const MAKERS = {
  parent: createParentCommand,
  child: createChildCommand,
  proxy: createProxyCommand,
};

async function run(cmd: keyof typeof MAKERS, args: string[]) {
  const io = capture();
  const code = await MAKERS[cmd](io).run(args);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

Deno.test("the exported commands are named parent, child and proxy", () => {
  assert.deepEqual(
    [parentCommand, childCommand, proxyCommand].map((c) => c.spec.name),
    [
      "parent",
      "child",
      "proxy",
    ],
  );
});

Deno.test("help documents the timeouts, emulation, I/O backends and output", async () => {
  for (const cmd of ["child", "proxy", "parent"] as const) {
    const r = await run(cmd, ["--help"]);
    assert.match(r.stdout, /--io MODE +I\/O backend: auto, native or deno/);
    assert.match(r.stdout, /needs --allow-ffi/);
  }
  for (const cmd of ["child", "proxy"] as const) {
    const r = await run(cmd, ["--help"]);
    assert.equal(r.code, 0);
    assert.match(
      r.stdout,
      /--timeout S +Wait for the first datagram \(default: 10s\)/,
    );
    assert.match(r.stdout, /uniform in \[D-J, D\+J\]/);
    assert.match(r.stdout, /duration \+ max\(2 s, 0.5 x duration\)/);
  }
  const p = await run("parent", ["--help"]);
  assert.match(
    p.stdout,
    /Usage: treecast parent --to HOST:PORT\[,...\] --rate PPS --duration S/,
  );
});

Deno.test("usage errors exit 2 with one error line naming the problem", async () => {
  const cases: [keyof typeof MAKERS, string[], string][] = [
    ["child", ["--duration", "1"], 'Missing flag "--bind"'],
    ["child", ["--bind", "127.0.0.1:0"], 'Missing flag "--duration"'],
    [
      "child",
      ["--bind", "nowhere", "--duration", "1"],
      'Flag "--bind": "nowhere" is not HOST:PORT',
    ],
    ["child", [
      "--bind",
      "127.0.0.1:0",
      "--duration",
      "1",
      "--emulate",
      "dealy=300us",
    ], 'unknown key "dealy"'],
    [
      "proxy",
      [
        "--bind",
        "127.0.0.1:0",
        "--to",
        "127.0.0.1:9",
        "--emulate",
        "delay=300us,loss=2",
      ],
      'key "loss" needs a probability',
    ],
    ["proxy", ["--bind", "127.0.0.1:0"], 'Missing flag "--to"'],
    [
      "parent",
      ["--to", "127.0.0.1:9", "--rate", "0", "--duration", "1"],
      'Flag "--rate" must be at least',
    ],
    ["parent", [
      "--to",
      "127.0.0.1:9",
      "--rate",
      "10",
      "--duration",
      "1",
      "--size",
      "10",
    ], 'Flag "--size"'],
    [
      "parent",
      [
        "--to",
        "127.0.0.1:9",
        "--rate",
        "10",
        "--duration",
        "1",
        "--bind",
        "nowhere",
      ],
      'Flag "--bind": "nowhere" is not HOST:PORT',
    ],
    [
      "parent",
      ["--to", "127.0.0.1:9", "--rate", "10", "--duration", "soon"],
      'Flag "--duration" needs a duration',
    ],
    [
      "proxy",
      ["--bind", "127.0.0.1:0", "--to", "127.0.0.1:9", "--io", "fast"],
      'Flag "--io" must be one of auto, native, deno, got "fast"',
    ],
    [
      "child",
      [
        "--bind",
        "127.0.0.1:0",
        "--duration",
        "1",
        "--io",
        "deno",
        "--timestamps",
        "kernel",
      ],
      'Flag "--timestamps": kernel receive timestamps need native I/O',
    ],
    [
      "child",
      ["--bind", "127.0.0.1:0", "--duration", "1", "--messages", ""],
      'Flag "--messages" needs a path',
    ],
    ["child", [
      "--bind",
      "127.0.0.1:0",
      "--duration",
      "1",
      "--messages",
      "/tmp/x",
      "--messages-max",
      "0",
    ], 'Flag "--messages-max" must be at least 1'],
    ["child", [
      "--bind",
      "127.0.0.1:0",
      "--duration",
      "1",
      "--messages",
      "/tmp/x",
      "--rate",
      "fast",
    ], 'Flag "--rate" needs a number'],
  ];
  for (const [cmd, args, msg] of cases) {
    const r = await run(cmd, args);
    assert.equal(r.code, 2, `${cmd} ${args.join(" ")}`);
    assert.equal(r.stdout, "");
    const errors = r.stderr.split("\n").filter((l) => l.startsWith("error:"));
    assert.equal(errors.length, 1);
    assert.ok(errors[0]!.includes(msg), `${errors[0]} should include ${msg}`);
    assert.match(r.stderr, new RegExp(`Usage: treecast ${cmd} `));
  }
});

Deno.test("a child with no parent prints ready, a partial result and exits 1", async () => {
  const r = await run("child", [
    "--bind",
    "127.0.0.1:0",
    "--duration",
    "1",
    "--timeout",
    "0.2",
  ]);
  assert.equal(r.code, 1);
  const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(lines.length, 2);
  assert.deepEqual(Object.keys(lines[0]), ["event", "probe", "bind"]);
  assert.equal(lines[0].event, "ready");
  assert.match(lines[0].bind, /^127\.0\.0\.1:\d+$/);
  assert.equal(lines[1].event, "result");
  assert.equal(lines[1].probe, "child");
  assert.equal(lines[1].received, 0);
  assert.equal(
    r.stderr,
    `error: No stream arrived at "${lines[0].bind}" within 0.2 s\n`,
  );
});

Deno.test("a child with --messages names its log in the result line, written even when no stream came", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/log.tcml`;
  try {
    const r = await run("child", [
      "--bind",
      "127.0.0.1:0",
      "--duration",
      "1",
      "--timeout",
      "0.2",
      "--messages",
      path,
      "--rate",
      "20",
    ]);
    assert.equal(r.code, 1);
    const result = JSON.parse(r.stdout.trim().split("\n")[1]!);
    assert.deepEqual(result.messages, {
      path,
      first_seq: 0,
      count: 20,
      dropped: 0,
    });
    assert.equal((await Deno.stat(path)).size, 16 + 4 * 20);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
