// Binomial-tree broadcast (MPICH bcast_intra_binomial). Ranks are renumbered relative to the root;
// relative rank v receives from v − 2^k (its lowest set bit) and forwards to v + 2^j for each
// smaller j. Cost: ⌈lg p⌉·α + n·⌈lg p⌉·β.
// With `into` (bcast's `out`), a non-root rank receives the root's typed array straight into it.
import type { Ctx, ReduceArray } from './types.js';

export async function binomialBcast(ctx: Ctx, value: unknown, root: number, into?: ReduceArray): Promise<unknown> {
  const { rank: r, size: p } = ctx;
  const rel = (r - root + p) % p;
  let mask = 1;
  while (mask < p) {
    if (rel & mask) {
      const from = (rel - mask + root) % p;
      value = into ? await ctx.recvInto(from, 'b', into) : await ctx.recv(from, 'b');
      break;
    }
    mask <<= 1;
  }
  const sends: Promise<void>[] = [];
  for (mask >>= 1; mask > 0; mask >>= 1) {
    if (rel + mask < p) sends.push(ctx.send((rel + mask + root) % p, 'b', value));
  }
  await Promise.all(sends);
  return value;
}
