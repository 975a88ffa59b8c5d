// Ring allreduce (Baidu / Gibiansky; Open MPI alg 4, MPICH allreduce_intra_ring): p blocks; a ring
// reduce-scatter of p−1 steps leaves block (r+1) mod p fully reduced on rank r, then a ring
// allgather of p−1 steps copies every reduced block to every rank. Each block is reduced along one
// chain and then distributed, so all ranks get the same bits. Elementwise (built-in) ops only;
// blocks never split a minloc/maxloc pair.
// Cost: 2(p−1)·α + 2((p−1)/p)·n·β + ((p−1)/p)·n·γ.
import { block } from './blocks.js';
import type { Ctx, ReduceArray, ResolvedOp } from './types.js';

export async function ringAllreduce<T extends ReduceArray>(ctx: Ctx, array: T, op: ResolvedOp): Promise<T> {
  const { rank: r, size: p } = ctx;
  const acc = array.slice() as T;
  const right = (r + 1) % p;
  const left = (r - 1 + p) % p;
  const view = (b: number): T => { const { start, end } = block(acc.length, p, b, op.unit); return acc.subarray(start, end) as T; };
  for (let s = 0; s < p - 1; s++) {
    const mine = view((r - s - 1 + p) % p);
    const got = await ctx.sendrecvArray(right, view((r - s + p) % p), left, `rs${s}`, mine.length);
    op.combine(mine, got, mine);
  }
  for (let s = 0; s < p - 1; s++) {
    const mine = view((r - s + p) % p);
    mine.set(await ctx.sendrecvArray(right, view((r + 1 - s + p) % p), left, `ag${s}`, mine.length) as never);
  }
  return acc;
}
