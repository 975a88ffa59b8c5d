// Bruck allgather (Bruck et al. 1997; MPICH allgather_intra_brucks), any p: in round k rank r sends
// the first min(2^k, p − 2^k) values it holds (its own and those of r+1, r+2, …) to r − 2^k and
// appends those of r + 2^k; a final rotation puts value i at index i.
// Cost: ⌈lg p⌉·α + ((p−1)/p)·n·β, n = all values' bytes.
import type { Ctx } from './types.js';

export async function bruckAllgather(ctx: Ctx, value: unknown): Promise<unknown[]> {
  const { rank: r, size: p } = ctx;
  let held: unknown[] = [value];
  for (let k = 1; k < p; k *= 2) {
    const n = Math.min(k, p - k);
    const got = await ctx.sendrecv((r - k + p) % p, held.slice(0, n), (r + k) % p, `k${k}`);
    held = held.concat(got as unknown[]);
  }
  const out = new Array<unknown>(p);
  for (let i = 0; i < p; i++) out[(r + i) % p] = held[i];
  return out;
}
