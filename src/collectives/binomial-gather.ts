// Binomial-tree gather (MPICH gather_intra_binomial). Relative rank v collects the values of
// relative ranks [v, v + 2^k) from its children, in order, and sends that list to v − 2^k.
// Cost: ⌈lg p⌉·α + ((p−1)/p)·n·β, n = all values' bytes.
import type { Ctx } from './types.js';

export async function binomialGather(ctx: Ctx, value: unknown, root: number): Promise<unknown[] | undefined> {
  const { rank: r, size: p } = ctx;
  const rel = (r - root + p) % p;
  let items: unknown[] = [value];
  for (let mask = 1; mask < p; mask <<= 1) {
    if ((rel & mask) === 0) {
      const child = rel | mask;
      if (child < p) {
        const got = await ctx.recv((child + root) % p, `g${mask}`);
        items = items.concat(got as unknown[]);
      }
    } else {
      await ctx.send((rel - mask + root) % p, `g${mask}`, items);
      return undefined;
    }
  }
  // At the root items[i] belongs to relative rank i.
  const out = new Array<unknown>(p);
  for (let i = 0; i < p; i++) out[(i + root) % p] = items[i];
  return out;
}
