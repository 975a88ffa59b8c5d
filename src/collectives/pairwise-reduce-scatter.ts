// Pairwise-exchange reduce-scatter (MPICH reduce_scatter_intra_pairwise), for long messages: in step
// i = 1 … p−1 rank r sends block (r+i) to rank r+i and receives its own block's contribution from
// r−i. The contributions are then folded in rank order, so the result does not depend on arrival
// order. Elementwise (built-in) ops only.
// Cost: (p−1)·α + ((p−1)/p)·n·β + ((p−1)/p)·n·γ.
import { block } from './blocks.js';
import type { Ctx, ReduceArray, ResolvedOp } from './types.js';

export async function pairwiseReduceScatter<T extends ReduceArray>(ctx: Ctx, array: T, op: ResolvedOp): Promise<T> {
  const { rank: r, size: p } = ctx;
  const view = (b: number): T => { const { start, end } = block(array.length, p, b, op.unit); return array.subarray(start, end) as T; };
  const parts = new Array<T>(p);
  parts[r] = view(r);
  for (let i = 1; i < p; i++) {
    const dst = (r + i) % p, src = (r - i + p) % p;
    parts[src] = await ctx.sendrecvArray(dst, view(dst), src, `p${i}`, parts[r].length);
  }
  const acc = parts[0].slice() as T;
  for (let q = 1; q < p; q++) op.combine(acc, acc, parts[q]);
  return acc;
}
