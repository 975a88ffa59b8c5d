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
  // Operand q: a received array is this call's own memory; this rank's is the caller's, which a user
  // op (allowed to reuse an operand in place) gets only as a copy. Built-in ops only read it.
  const operand = (q: number): T => (q === ctx.rank
    ? (op.splittable ? array : array.slice() as T)
    : expectLike(all[q], array, array.length, q, ctx.rank, 'reproducible allreduce'));
  const acc = ctx.rank === 0 ? array.slice() as T : operand(0);
  for (let q = 1; q < ctx.size; q++) op.combine(acc, acc, operand(q));
  return acc;
}
