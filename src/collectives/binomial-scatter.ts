// Binomial-tree scatter (MPICH scatter_intra_binomial): the reverse of binomial gather. Relative
// rank v receives the values of relative ranks [v, v + 2^k) from v − 2^k and hands each child
// v + 2^j the part of that list its subtree needs.
// Cost: ⌈lg p⌉·α + ((p−1)/p)·n·β, n = all values' bytes.
import type { Ctx } from './types.js';

export async function binomialScatter(ctx: Ctx, values: unknown[] | undefined, root: number): Promise<unknown> {
  const { rank: r, size: p } = ctx;
  const rel = (r - root + p) % p;
  let items: unknown[] = [];
  let mask = 1;
  if (rel === 0) {
    items = Array.from({ length: p }, (_, i) => values![(i + root) % p]);
    while (mask < p) mask <<= 1;
  } else {
    while (mask < p) {
      if (rel & mask) {
        items = (await ctx.recv((rel - mask + root) % p, 's')) as unknown[];
        break;
      }
      mask <<= 1;
    }
  }
  const sends: Promise<void>[] = [];
  for (mask >>= 1; mask > 0; mask >>= 1) {
    if (rel + mask < p) {
      sends.push(ctx.send((rel + mask + root) % p, 's', items.slice(mask)));
      items = items.slice(0, mask);
    }
  }
  await Promise.all(sends);
  return items[0];
}
