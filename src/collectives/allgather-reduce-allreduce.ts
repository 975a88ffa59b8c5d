// Allreduce as allgather + a local reduction in rank order on every rank (Open MPI alg 7
// allgather_reduce; CESM's bfbflag). Every rank folds the same p operands in the same order,
// ((r0 ⊕ r1) ⊕ r2) ⊕ …, so the bits depend neither on the algorithm nor on the network: this is
// `allreduce(…, { reproducible: true })`. Works for any op.
// Cost: the allgather's (Bruck: ⌈lg p⌉·α + (p−1)·n·β) + (p−1)·n·γ.
import { expectLike } from './errors.js';
import type { Ctx, ReduceArray, ResolvedOp } from './types.js';

export type Allgather = (ctx: Ctx, value: unknown) => Promise<unknown[]>;

export async function allgatherReduceAllreduce<T extends ReduceArray>(ctx: Ctx, array: T, op: ResolvedOp, allgather: Allgather): Promise<T> {
  const all = await allgather(ctx.sub('ag'), array);
  const acc = array.slice() as T;
  if (ctx.size > 0) acc.set(expectLike(all[0], array, array.length, 0, ctx.rank, 'reproducible allreduce') as never);
  for (let q = 1; q < ctx.size; q++) {
    op.combine(acc, acc, q === ctx.rank ? array : expectLike(all[q], array, array.length, q, ctx.rank, 'reproducible allreduce'));
  }
  return acc;
}
