// Ring allreduce (Baidu / Gibiansky; Open MPI alg 4, MPICH allreduce_intra_ring): p blocks; a ring
// reduce-scatter of p−1 steps leaves block (r+1) mod p fully reduced on rank r, then a ring
// allgather of p−1 steps copies every reduced block to every rank. Each block is reduced along one
// chain and then distributed, so all ranks get the same bits. Elementwise (built-in) ops only;
// blocks never split a minloc/maxloc pair.
// Cost: 2(p−1)·α + 2((p−1)/p)·n·β + ((p−1)/p)·n·γ.
//
// Memory: the caller's array is only read, never copied whole. Reduce-scatter step s receives block
// (r−s−1), which no earlier step touched in the result, straight into the result (a posted receive)
// and combines it there in place with the caller's block; step 0 sends the caller's own block, later
// steps the block reduced in the step before. The allgather steps receive straight into the result.
import { block } from './blocks.js';
import { emptyLike, type Ctx, type ReduceArray, type ResolvedOp } from './types.js';

export async function ringAllreduce<T extends ReduceArray>(ctx: Ctx, array: T, op: ResolvedOp, out?: T): Promise<T> {
  const { rank: r, size: p } = ctx;
  if (p === 1) return out ? (out.set(array as never), out) : array.slice() as T;
  const acc = out ?? emptyLike(array, array.length);
  const right = (r + 1) % p;
  const left = (r - 1 + p) % p;
  const view = (a: T, b: number): T => { const { start, end } = block(a.length, p, b, op.unit); return a.subarray(start, end) as T; };
  // The first allgather step fills block r, which no reduce-scatter step touches: posted now, it
  // lands in the result even when the left neighbour gets there first.
  const agFirst = ctx.recvInto(left, 'ag0', view(acc, r));
  agFirst.catch(() => {});
  for (let s = 0; s < p - 1; s++) {
    const b = (r - s - 1 + p) % p;
    const mine = view(acc, b);
    await ctx.sendrecvInto(right, view(s === 0 ? array : acc, (r - s + p) % p), left, `rs${s}`, mine);
    op.combine(mine, mine, view(array, b));
  }
  for (let s = 0; s < p - 1; s++) {
    const send = view(acc, (r + 1 - s + p) % p);
    if (s === 0) await Promise.all([ctx.send(right, 'ag0', send), agFirst]);
    else await ctx.sendrecvInto(right, send, left, `ag${s}`, view(acc, (r - s + p) % p));
  }
  return acc;
}
