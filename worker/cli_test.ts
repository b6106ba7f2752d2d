import assert from "node:assert/strict";
import { UsageError } from "../core/cli.ts";
import { DEFAULT_BUDGET } from "../core/budget.ts";
import { budgetFromFlags, nameHost } from "./cli.ts";

const v4 = (address: string) => ({ family: "IPv4", address });
const v6 = (address: string) => ({ family: "IPv6", address });
/** A cloud VM: loopback, its private address, IPv6 link-local and global. */
const VM = [
  v4("127.0.0.1"),
  v4("10.1.2.3"),
  v6("::1"),
  v6("fe80::1"),
  v6("2001:db8::3"),
];

Deno.test("a worker bound to 0.0.0.0 names itself by the host's one IPv4 address beyond loopback and link-local", () => {
  assert.equal(nameHost("0.0.0.0", undefined, VM), "10.1.2.3");
  assert.equal(
    nameHost("0.0.0.0", undefined, [...VM, v4("169.254.0.2"), v4("10.1.2.3")]),
    "10.1.2.3",
  );
});

Deno.test("a worker names itself by --advertise when given, else by the host it bound", () => {
  assert.equal(nameHost("0.0.0.0", "198.18.4.2", VM), "198.18.4.2");
  assert.equal(nameHost("10.1.2.3", "203.0.113.7", VM), "203.0.113.7");
  assert.equal(nameHost("10.1.2.3", undefined, []), "10.1.2.3");
  assert.equal(nameHost("::", "fd00::5", VM), "fd00::5");
  assert.equal(nameHost("::", "[fd00::5]", VM), "fd00::5");
});

Deno.test("a wildcard bind on a host of several or no addresses, or a wildcard --advertise, is a usage error saying what to give", () => {
  const cases: [string, string | undefined, typeof VM, RegExp][] = [
    [
      "0.0.0.0",
      undefined,
      [...VM, v4("172.17.0.1")],
      /^Flag "--bind" is the wildcard "0\.0\.0\.0": give "--advertise HOST", the address the manager reaches this worker at \(this host has 10\.1\.2\.3, 172\.17\.0\.1\)$/,
    ],
    [
      "0.0.0.0",
      undefined,
      [v4("127.0.0.1"), v6("2001:db8::3")],
      /\(this host has no address beyond loopback\)$/,
    ],
    ["::", undefined, VM, /this host has 10\.1\.2\.3, 2001:db8::3\)$/],
    [
      "0.0.0.0",
      "0.0.0.0",
      VM,
      /^Flag "--advertise" must be an address the manager reaches, got "0\.0\.0\.0"$/,
    ],
  ];
  for (const [bind, advertise, addrs, message] of cases) {
    assert.throws(
      () => nameHost(bind, advertise, addrs),
      (e) => e instanceof UsageError && message.test(e.message),
      `${bind} ${advertise}`,
    );
  }
});

Deno.test("the --max-* flags set the budget, each left out at its default; a bad value is a usage error naming the flag", () => {
  assert.deepEqual(budgetFromFlags({}), DEFAULT_BUDGET);
  assert.deepEqual(
    budgetFromFlags({
      "max-pps": "5000",
      "max-dests": "8",
      "max-size": "512",
      "max-duration": "90s",
      "max-jobs": "3",
    }),
    { pps: 5000, dests: 8, size: 512, durationMs: 90_000, jobs: 3 },
  );
  for (
    const [flag, bad] of [
      ["max-pps", "0"],
      ["max-dests", "2.5"],
      ["max-size", "10"],
      ["max-duration", "forever"],
      ["max-jobs", "x"],
    ] as const
  ) {
    assert.throws(
      () => budgetFromFlags({ [flag]: bad }),
      (e) => e instanceof UsageError && e.message.includes(`"--${flag}"`),
    );
  }
});
