// Recursive-doubling allgather (MPICH allgather_intra_recursive_doubling), power-of-two p only: in
// round k partners r and r xor 2^k swap the 2^k values each has gathered so far.
// Cost: lg p·α + ((p−1)/p)·n·β, n = all values' bytes.
// With `into` (allgather's `out` and its blocks: rank q's typed array in block q, this rank's already
// filled; returned as the result), the 2^k gathered values are one contiguous range of `out`: each round sends that range raw and receives
// the partner's straight into its place — no per-call arrays, no encoding (a 64 KiB allgather at p = 2
// allocated and encoded ~130 KB per call, and the collections that garbage caused stalled calls).
import type { Ctx, ReduceArray } from './types.js';

export async function recursiveDoublingAllgather(ctx: Ctx, value: unknown, into?: { out: ReduceArray; blocks: ReduceArray[] }): Promise<unknown[]> {
  const { rank: r, size: p } = ctx;
  if ((p & (p - 1)) !== 0) throw new RangeError(`recursive-doubling allgather needs a power-of-two world, not ${p}`);
  const out = new Array<unknown>(p);
  out[r] = value;
  for (let mask = 1; mask < p; mask <<= 1) {
    const partner = r ^ mask;
    const base = r & ~(mask - 1);               // my gathered range [base, base + mask)
    const theirs = partner & ~(mask - 1);
    if (into) {
      const { out: all, blocks } = into;
      const n = blocks[r].length;
      await ctx.sendrecvInto(partner, all.subarray(base * n, (base + mask) * n), partner, `x${mask}`, all.subarray(theirs * n, (theirs + mask) * n));
      continue;
    }
    const got = (await ctx.sendrecv(partner, out.slice(base, base + mask), partner, `x${mask}`)) as unknown[];
    for (let i = 0; i < mask; i++) out[theirs + i] = got[i];
  }
  return into ? into.blocks : out;
}
