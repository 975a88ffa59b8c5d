// Allreduce as binomial reduce to rank 0 then binomial broadcast (Open MPI alg 2 "nonoverlapping").
// One rank computes the result, so all ranks get the same bits; rank order is kept (tree at 0).
// Cost: 2⌈lg p⌉·α + 2·n·⌈lg p⌉·β + n·⌈lg p⌉·γ.
import { binomialBcast } from './binomial-bcast.js';
import { binomialReduce } from './binomial-reduce.js';
import { expectLike } from './errors.js';
import type { Ctx, ReduceArray, ResolvedOp } from './types.js';

export async function reduceBcastAllreduce<T extends ReduceArray>(ctx: Ctx, array: T, op: ResolvedOp): Promise<T> {
  const reduced = await binomialReduce(ctx.sub('r'), array, op, 0);
  const out = await binomialBcast(ctx.sub('b'), reduced, 0);
  return expectLike(out, array, array.length, 0, ctx.rank, 'allreduce (reduce_bcast) result');
}
