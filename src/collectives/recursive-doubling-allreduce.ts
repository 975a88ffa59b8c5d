// Recursive-doubling allreduce (MPICH allreduce_intra_recursive_doubling, Open MPI alg 3) with the
// non-power-of-two fold (fold.ts). In round k survivors v and v xor 2^k swap their whole vectors
// and both compute (lower range ⊕ higher range) from the same two operands, so both hold the same
// bits, and operand order is rank order: correct for non-commutative ops.
// Cost: ⌈lg p⌉·α + n·⌈lg p⌉·β + n·⌈lg p⌉·γ (+ 2 steps of α + n·β when p is not a power of two).
import { foldIn, foldOut } from './fold.js';
import type { Ctx, ReduceArray, ResolvedOp } from './types.js';

export async function recursiveDoublingAllreduce<T extends ReduceArray>(ctx: Ctx, array: T, op: ResolvedOp): Promise<T> {
  const acc = array.slice() as T;
  const f = await foldIn(ctx, acc, op);
  if (f.newrank >= 0) {
    for (let mask = 1; mask < f.pof2; mask <<= 1) {
      const partner = f.newrank ^ mask;
      const dst = f.real(partner);
      const got = await ctx.sendrecvArray(dst, acc, dst, `rd${mask}`, acc.length);
      if (partner < f.newrank) op.combine(acc, got, acc);
      else op.combine(acc, acc, got);
    }
  }
  return foldOut(ctx, acc, f);
}
