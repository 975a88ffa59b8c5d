// Ring allgather (MPICH allgather_intra_ring): p−1 steps; in step s rank r passes the value of rank
// r − s to r + 1 and receives that of r − s − 1 from r − 1. Each message is one rank's value, so a
// typed array travels raw. MPICH: "twice as fast as recursive doubling for long messages".
// Cost: (p−1)·α + ((p−1)/p)·n·β, n = all values' bytes.
import type { Ctx } from './types.js';

export async function ringAllgather(ctx: Ctx, value: unknown): Promise<unknown[]> {
  const { rank: r, size: p } = ctx;
  const out = new Array<unknown>(p);
  out[r] = value;
  for (let s = 0; s < p - 1; s++) {
    out[(r - s - 1 + p) % p] = await ctx.sendrecv((r + 1) % p, out[(r - s + p) % p], (r - 1 + p) % p, `s${s}`);
  }
  return out;
}
