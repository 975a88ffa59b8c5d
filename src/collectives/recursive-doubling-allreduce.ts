// Recursive-doubling allreduce (MPICH allreduce_intra_recursive_doubling, Open MPI alg 3) with the
// non-power-of-two fold (fold.ts). In round k survivors v and v xor 2^k swap their whole vectors
// and both compute (lower range ⊕ higher range) from the same two operands, so both hold the same
// bits, and operand order is rank order: correct for non-commutative ops.
// Cost: ⌈lg p⌉·α + n·⌈lg p⌉·β + n·⌈lg p⌉·γ (+ 2 steps of α + n·β when p is not a power of two).
//
// Memory: built-in ops only read the caller's array, so it is not copied: the first round sends it
// and receives the partner's vector straight into the result (a posted receive), combined there in
// place; later rounds receive into pooled scratch. A user op may modify its operands in place, so it
// gets a private copy of the caller's array instead.
import { foldIn, foldOut } from './fold.js';
import { giveScratch, takeScratch } from './scratch.js';
import { emptyLike, type Ctx, type ReduceArray, type ResolvedOp } from './types.js';

export async function recursiveDoublingAllreduce<T extends ReduceArray>(ctx: Ctx, array: T, op: ResolvedOp, out?: T): Promise<T> {
  const input = op.splittable ? array : array.slice() as T;
  const acc = out ?? emptyLike(array, array.length);
  const f = await foldIn(ctx, input, acc, op);
  if (f.newrank >= 0) {
    let src: T = f.folded ? acc : input;
    let scratch: T | undefined;
    for (let mask = 1; mask < f.pof2; mask <<= 1) {
      const partner = f.newrank ^ mask;
      const dst = f.real(partner);
      // The partner's vector: straight into the result while it is still free, else into scratch.
      const got = src !== acc ? acc : (scratch ??= takeScratch(acc, acc.length));
      await ctx.sendrecvInto(dst, src, dst, `rd${mask}`, got);
      if (partner < f.newrank) op.combine(acc, got, src);
      else op.combine(acc, src, got);
      src = acc;
    }
    if (scratch) giveScratch(scratch);
    if (src !== acc) acc.set(src as never); // a world of one
  }
  return foldOut(ctx, acc, f);
}
