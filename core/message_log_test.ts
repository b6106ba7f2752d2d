import assert from "node:assert/strict";
import {
  decodeMessageLog,
  delayEntry,
  encodeMessageLog,
  MAX_DELAY_NS,
  NOT_RECEIVED,
  readMessageLogPart,
} from "./message_log.ts";

Deno.test("a message log round-trips through its bytes, sentinel and negatives included", () => {
  const log = {
    firstSeq: 500,
    delaysNs: Int32Array.from([12_000, NOT_RECEIVED, -300, MAX_DELAY_NS]),
  };
  const back = decodeMessageLog(encodeMessageLog(log));
  assert.deepEqual(back.firstSeq, 500);
  assert.deepEqual([...back.delaysNs], [...log.delaysNs]);
});

Deno.test("a truncated or foreign message log is refused", () => {
  const bytes = encodeMessageLog({ firstSeq: 0, delaysNs: new Int32Array(3) });
  assert.throws(() => decodeMessageLog(bytes.subarray(0, bytes.length - 1)));
  const foreign = bytes.slice();
  foreign[0] = 0;
  assert.throws(() => decodeMessageLog(foreign), /magic/);
});

Deno.test("delay entries saturate and never collide with the not-received sentinel", () => {
  assert.deepEqual(delayEntry(1e12), MAX_DELAY_NS);
  assert.deepEqual(delayEntry(-1e12), -MAX_DELAY_NS);
  assert.deepEqual(delayEntry(1234.6), 1235);
});

Deno.test("a part of a log file is read from its offset and clipped to its end", async () => {
  const path = await Deno.makeTempFile();
  try {
    const delaysNs = Int32Array.from({ length: 10 }, (_, i) => i * 100);
    await Deno.writeFile(path, encodeMessageLog({ firstSeq: 7, delaysNs }));
    const part = await readMessageLogPart(path, 4, 3);
    assert.deepEqual(part.firstSeq, 11);
    assert.deepEqual([...part.delaysNs], [400, 500, 600]);
    const tail = await readMessageLogPart(path, 8, 5);
    assert.deepEqual([...tail.delaysNs], [800, 900]);
    assert.deepEqual(
      (await readMessageLogPart(path, 20, 5)).delaysNs.length,
      0,
    );
  } finally {
    await Deno.remove(path);
  }
});
