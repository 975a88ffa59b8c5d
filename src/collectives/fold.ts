// The non-power-of-two fold shared by recursive doubling, Rabenseifner and recursive halving (MPICH
// and Open MPI do the same): with pof2 = largest power of two ≤ p and rem = p − pof2, among ranks
// < 2·rem each even rank hands its vector to the odd rank above it and sits out; the odd rank keeps
// (even ⊕ odd), so operands stay in rank order. The pof2 survivors are renumbered 0..pof2−1 in rank
// order; each holds a contiguous range of original ranks. Afterwards each odd rank returns the result.
//
// The caller's vector `array` is only read (sent, or an operand); the odd rank writes even ⊕ odd into
// `acc`. When `acc` is a separate array the even rank's vector is received straight into it (no
// scratch); when the caller works in place (`acc === array`, a private copy) it lands in scratch.
import { pof2 as largestPow2 } from './blocks.js';
import { giveScratch, takeScratch } from './scratch.js';
import type { Ctx, ReduceArray, ResolvedOp } from './types.js';

export interface Folded {
  pof2: number;
  rem: number;
  /** This rank's number among the survivors, or −1 when it sat out. */
  newrank: number;
  /** This rank combined a neighbour's vector into `acc` (so `acc` holds its operand now). */
  folded: boolean;
  /** The original rank of survivor `v`. */
  real(v: number): number;
}

export async function foldIn(ctx: Ctx, array: ReduceArray, acc: ReduceArray, op: ResolvedOp): Promise<Folded> {
  const { rank: r, size: p } = ctx;
  const q = largestPow2(p);
  const rem = p - q;
  let newrank: number;
  let folded = false;
  if (r < 2 * rem) {
    if (r % 2 === 0) {
      await ctx.send(r + 1, 'fold', array);
      newrank = -1;
    } else {
      if (acc !== array) {
        await ctx.recvInto(r - 1, 'fold', acc);
        op.combine(acc, acc, array);
      } else {
        const got = takeScratch(acc, acc.length);
        await ctx.recvInto(r - 1, 'fold', got);
        op.combine(acc, got, acc);
        giveScratch(got);
      }
      folded = true;
      newrank = r >> 1;
    }
  } else {
    newrank = r - rem;
  }
  return { pof2: q, rem, newrank, folded, real: (v) => (v < rem ? 2 * v + 1 : v + rem) };
}

/** Returns the final vector to the ranks that sat out (received into their `acc`); resolves to the result on every rank. */
export async function foldOut<T extends ReduceArray>(ctx: Ctx, acc: T, f: Folded): Promise<T> {
  const r = ctx.rank;
  if (r >= 2 * f.rem) return acc;
  if (r % 2 === 1) { await ctx.send(r - 1, 'unfold', acc); return acc; }
  return ctx.recvInto(r + 1, 'unfold', acc);
}
