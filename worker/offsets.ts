/**
 * A sender's clock offsets to its children (the `peers` of a parent's or
 * proxy's result line, from the children's echoes: `probes/echo.ts`), and
 * their way into the children's statistics: at REPORT, the sender's worker
 * copies each child's offset into that child's `ProbeStats`, so the manager
 * finds it wherever it finds the child's delays.
 *
 * @module
 */
import type { Job, PeerClock } from "../proto/codec.ts";

/** The offsets of a sender's result line (`peers`) that echoes gave. */
export function peerClocks(peers: unknown[]): PeerClock[] {
  const out: PeerClock[] = [];
  for (const p of peers as Record<string, unknown>[]) {
    if (
      typeof p?.to === "string" && typeof p.offset_us === "number" &&
      typeof p.bound_us === "number" && typeof p.samples === "number" &&
      p.samples > 0
    ) {
      out.push({
        addr: p.to,
        offsetUs: p.offset_us,
        boundUs: p.bound_us,
        samples: p.samples,
      });
    }
  }
  return out;
}

/**
 * `deps` with each one's stats given the offset its sender measured (the
 * sender's `peers`, matched by the dep's probe address).
 */
export function withPeerOffsets(
  deps: Job[],
  peers: readonly PeerClock[],
): Job[] {
  if (peers.length === 0) return deps;
  const by = new Map(peers.map((p) => [p.addr, p]));
  return deps.map((d) => {
    const p = by.get(d.addr);
    if (!p || !d.stats) return d;
    return {
      ...d,
      stats: {
        ...d.stats,
        offsetUs: p.offsetUs,
        offsetBoundUs: p.boundUs,
        offsetSamples: p.samples,
      },
    };
  });
}
