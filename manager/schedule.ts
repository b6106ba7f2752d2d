/**
 * The all-to-all probing schedule of a LEMON tree (pure): every worker must
 * stream to every other, but no worker may send to, or receive from, more
 * than `limit` peers at once.
 *
 * Round-robin by shifts: in shift s (1 <= s < n) worker i sends to worker
 * (i + s) mod n, so every worker sends to exactly one peer and receives
 * from exactly one. A round runs `limit` consecutive shifts at once: each
 * worker sends to `limit` peers and receives from `limit` peers, and the
 * n - 1 shifts take ceil((n - 1) / limit) rounds.
 *
 * @module
 */

/** One sender of a round and the peers it streams to. */
export interface Transfer {
  from: number;
  to: number[];
}

/** The rounds of an all-to-all among `n` workers, at most `limit` peers at once. */
export function allToAllRounds(n: number, limit: number): Transfer[][] {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n = ${n}`);
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`limit must be a whole number >= 1, got ${limit}`);
  }
  const rounds: Transfer[][] = [];
  for (let first = 1; first < n; first += limit) {
    const shifts: number[] = [];
    for (let s = first; s < Math.min(n, first + limit); s++) shifts.push(s);
    rounds.push(
      Array.from({ length: n }, (_, i) => ({
        from: i,
        to: shifts.map((s) => (i + s) % n),
      })),
    );
  }
  return rounds;
}
