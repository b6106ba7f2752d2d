import assert from "node:assert/strict";
import { emptyJob } from "../proto/codec.ts";
import { peerClocks, withPeerOffsets } from "./offsets.ts";

Deno.test("a sender's offsets go into its children's stats, matched by probe address", () => {
  const stats = {
    received: 10,
    lost: 0,
    duplicates: 0,
    reordered: 0,
    malformed: 0,
    warmup: 0,
    negative: 0,
    hops: 0,
    endSeen: true,
    minUs: 1,
    p25Us: 1,
    p50Us: 1,
    p75Us: 1,
    p90Us: 1,
    p99Us: 1,
    p999Us: 1,
    maxUs: 1,
    meanUs: 1,
    stddevUs: 0,
    series: [],
    histogram: "",
    timestamps: "USER" as const,
  };
  const a = emptyJob({ addr: "10.0.0.2:4000", stats });
  const b = emptyJob({ addr: "10.0.0.3:4000", stats });
  const lost = emptyJob({ addr: "10.0.0.4:4000" }); // no stats: nothing to set
  const peers = peerClocks([
    {
      to: "10.0.0.3:4000",
      offset_us: -20.5,
      bound_us: 7,
      rtt_us: 14,
      samples: 9,
    },
    { to: "10.0.0.2:4000", offset_us: null, bound_us: null, samples: 0 },
    { to: "10.0.0.4:4000", offset_us: 1, bound_us: 1, rtt_us: 2, samples: 3 },
  ]);
  assert.deepEqual(peers.map((p) => p.addr), [
    "10.0.0.3:4000",
    "10.0.0.4:4000",
  ]);
  const [da, db, dl] = withPeerOffsets([a, b, lost], peers);
  assert.equal(da!.stats!.offsetUs, undefined);
  assert.deepEqual(
    [db!.stats!.offsetUs, db!.stats!.offsetBoundUs, db!.stats!.offsetSamples],
    [-20.5, 7, 9],
  );
  assert.equal(dl!.stats, undefined);
});
