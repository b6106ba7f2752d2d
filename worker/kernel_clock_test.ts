import assert from "node:assert/strict";
import {
  helloBootId,
  parseBootId,
  parseTimex,
  readBootId,
  readKernelClock,
  STA_UNSYNC,
} from "./kernel_clock.ts";

function timex(status: number, maxerror: number, esterror: number) {
  const buf = new Uint8Array(256);
  const v = new DataView(buf.buffer);
  v.setBigInt64(24, BigInt(maxerror), true);
  v.setBigInt64(32, BigInt(esterror), true);
  v.setInt32(40, status, true);
  return buf;
}

Deno.test("struct timex: STA_UNSYNC and the kernel's error estimates are read from their offsets", () => {
  assert.deepEqual(parseTimex(timex(0x2001, 1500, 42)), {
    known: true,
    synced: true,
    maxerrorUs: 1500,
    esterrorUs: 42,
    emulated: false,
  });
  const unsync = parseTimex(timex(STA_UNSYNC | 0x1, 16_000_000, 16_000_000));
  assert.equal(unsync.synced, false);
  assert.equal(unsync.esterrorUs, 16_000_000);
});

Deno.test("the kernel is asked read only: on Linux a view with error estimates, else unknown", () => {
  const c = readKernelClock();
  if (Deno.build.os !== "linux") return assert.equal(c.known, false);
  assert.equal(c.known, true);
  assert.ok(Number.isInteger(c.maxerrorUs) && c.maxerrorUs >= 0);
  assert.ok(Number.isInteger(c.esterrorUs) && c.esterrorUs >= 0);
  console.log(`this host's kernel clock: ${JSON.stringify(c)}`);
});

Deno.test("a boot id is taken from its file's text only when a hello can carry it", () => {
  const id = "3d9a6f0e-7b21-4c58-a4e3-91f0c2b86d17";
  assert.equal(parseBootId(`${id}\n`), id);
  assert.equal(parseBootId(""), "");
  assert.equal(parseBootId("x".repeat(65)), "", "longer than 64");
  assert.equal(parseBootId("two words"), "", "not one printable token");
});

Deno.test("a worker faking a clock offset sends no boot id: its probes read a clock of their own", () => {
  assert.equal(helloBootId("delay=2ms,jitter=100us"), readBootId());
  assert.equal(helloBootId(""), readBootId());
  assert.equal(helloBootId("offset=300us"), "");
  assert.equal(helloBootId("delay=2ms, offset=-1ms"), "");
});
