// Recursive-doubling allgather (MPICH allgather_intra_recursive_doubling), power-of-two p only: in
// round k partners r and r xor 2^k swap the 2^k values each has gathered so far.
// Cost: lg p·α + ((p−1)/p)·n·β, n = all values' bytes.
import type { Ctx } from './types.js';

export async function recursiveDoublingAllgather(ctx: Ctx, value: unknown): Promise<unknown[]> {
  const { rank: r, size: p } = ctx;
  if ((p & (p - 1)) !== 0) throw new RangeError(`recursive-doubling allgather needs a power-of-two world, not ${p}`);
  const out = new Array<unknown>(p);
  out[r] = value;
  for (let mask = 1; mask < p; mask <<= 1) {
    const partner = r ^ mask;
    const base = r & ~(mask - 1);               // my gathered range [base, base + mask)
    const got = (await ctx.sendrecv(partner, out.slice(base, base + mask), partner, `x${mask}`)) as unknown[];
    const theirs = partner & ~(mask - 1);
    for (let i = 0; i < mask; i++) out[theirs + i] = got[i];
  }
  return out;
}
