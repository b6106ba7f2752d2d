import assert from "node:assert/strict";
import { emptyJob } from "../proto/codec.ts";
import { probeStats } from "../proto/_fixtures.ts";
import { peerClocks, withPeerOffsets } from "./offsets.ts";

Deno.test("a sender's offsets go into its children's stats, matched by probe address", () => {
  const stats = probeStats(1);
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
