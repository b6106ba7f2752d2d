/**
 * Hedged trees (issue #22, Jasper arXiv 2402.09527): every node below the
 * first layer also receives each message from `H` redundant parents, and
 * keeps the first copy of each seq (its delay: the smallest over copies).
 *
 * The hedge parents of a node X are `H` of the other children of X's
 * grandparent G, i.e. its parent's siblings ("sibling proxies forward to
 * each other's children"). G's worker relays to all of them and learns the
 * probe addresses of their children from their answers, so it can hand each
 * its extra destinations before it starts (`worker/hedge.ts`). Hence
 * `0 <= H < fanout`, and the nodes of depth 1 (whose parent, the root, has
 * no sibling) have no hedge parent.
 *
 * Which siblings, by tree kind (the children of a node sit in the order the
 * build kept them: BEST best-scored first, WORST worst-scored first, LEMON
 * in the QAP placement's order):
 * - BEST: the next-best: a parent at slot k among its siblings hedges the
 *   children of the siblings at slots k+1 .. k+H (wrapping round), so the
 *   children of each proxy get the proxies ranked just after their parent,
 *   and every proxy forwards to the same number of hedge children.
 * - WORST and LEMON: the same rotation of their own order (WORST: the
 *   next-worst; LEMON: the next in placement order; the all-to-all delays
 *   are not consulted).
 * - RANDOM: for each node, H of its parent's siblings drawn at random (seeded).
 *
 * Pure: indices only (BFS order of `tree.ts`), so a replaced node keeps its
 * hedge edges.
 *
 * @module
 */
import type { TreeType } from "./script_types.ts";
import { Rng } from "./pool.ts";

/** A hedge edge: node `from` also forwards to node `to` (BFS indices). */
export type HedgeEdge = [from: number, to: number];

/**
 * The hedge edges of a complete tree of `depth` and `fanout` with `hedge`
 * extra parents per node below depth 1, chosen as the module doc says for
 * `type` (`seed` draws RANDOM's). Throws unless `0 <= hedge < fanout`.
 */
export function hedgeEdges(
  o: {
    depth: number;
    fanout: number;
    hedge: number;
    type: TreeType;
    seed: number;
  },
): HedgeEdge[] {
  const { depth, fanout: F, hedge: H } = o;
  if (!Number.isInteger(H) || H < 0 || H >= F) {
    throw new RangeError(
      `Hedge must be a whole number from 0 to fanout - 1 (${F - 1}), got ${H}`,
    );
  }
  if (H === 0) return [];
  const rng = new Rng(o.seed);
  const out: HedgeEdge[] = [];
  // Grandparents: every node of depth 0 .. depth - 2, in BFS order.
  let first = 0, width = 1;
  for (let d = 0; d + 2 <= depth; d++) {
    for (let g = first; g < first + width; g++) {
      const parents = Array.from({ length: F }, (_, k) => F * g + 1 + k);
      parents.forEach((p, k) => {
        for (let c = F * p + 1; c <= F * p + F; c++) {
          for (const q of _pick(o.type, parents, k, H, rng)) out.push([q, c]);
        }
      });
    }
    first += width;
    width *= F;
  }
  return out;
}

/** H siblings of `parents[k]` for one child: the rotation, or drawn for RANDOM. */
function _pick(
  type: TreeType,
  parents: number[],
  k: number,
  H: number,
  rng: Rng,
): number[] {
  const F = parents.length;
  if (type !== "RANDOM") {
    return Array.from({ length: H }, (_, j) => parents[(k + 1 + j) % F]!);
  }
  const others = parents.filter((_, j) => j !== k);
  for (let j = 0; j < H; j++) {
    const r = j + rng.int(others.length - j);
    [others[j], others[r]] = [others[r]!, others[j]!];
  }
  return others.slice(0, H);
}
