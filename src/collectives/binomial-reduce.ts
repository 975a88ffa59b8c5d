// Binomial-tree reduce (MPICH reduce_intra_binomial). Relative rank v receives the partial of
// v + 2^k for each k below its lowest set bit, then sends its partial to v − 2^k. Each node's
// partial covers the contiguous relative ranks [v, v + 2^k), and it combines (mine ⊕ child's), so
// operands stay in relative-rank order. For a non-commutative op the tree is rooted at rank 0
// (relative order = rank order) and rank 0 then sends the result to the root, as MPICH does.
// Cost: ⌈lg p⌉·α + n·⌈lg p⌉·β + n·⌈lg p⌉·γ (+ α + n·β for a non-commutative op and root ≠ 0).
import type { Ctx, ReduceArray, ResolvedOp } from './types.js';

export async function binomialReduce<T extends ReduceArray>(ctx: Ctx, array: T, op: ResolvedOp, root: number): Promise<T | undefined> {
  const { rank: r, size: p } = ctx;
  const treeRoot = op.commutative ? root : 0;
  const rel = (r - treeRoot + p) % p;
  const acc = array.slice() as T;
  let mask = 1;
  let sent = false;
  while (mask < p) {
    if ((rel & mask) === 0) {
      const child = rel | mask;
      if (child < p) {
        const got = await ctx.recvArray((child + treeRoot) % p, `r${mask}`, acc);
        op.combine(acc, acc, got);
      }
    } else {
      await ctx.send((rel - mask + treeRoot) % p, `r${mask}`, acc);
      sent = true;
      break;
    }
    mask <<= 1;
  }
  if (treeRoot !== root) {
    if (r === treeRoot) { await ctx.send(root, 'root', acc); return undefined; }
    if (r === root) return ctx.recvArray(treeRoot, 'root', acc);
  }
  return sent || r !== root ? undefined : acc;
}
