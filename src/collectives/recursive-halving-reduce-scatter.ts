// Reduce-scatter by recursive halving (MPICH reduce_scatter_intra_recursive_halving), commutative
// elementwise ops: after the non-power-of-two fold (even ranks < 2·rem hand their vector to the odd
// rank above), survivor v owns the blocks of the original ranks it stands for; in each round
// (distance pof2/2 … 1) partners swap the half of their range the other owns and reduce the half
// they keep; finally each odd rank < 2·rem sends its even neighbour that rank's block.
// Cost: lg p·α + ((p−1)/p)·n·β + ((p−1)/p)·n·γ (+ the fold's α + n·β + n·γ for non-power-of-two p).
import { block } from './blocks.js';
import { foldIn } from './fold.js';
import type { Ctx, ReduceArray, ResolvedOp } from './types.js';

export async function recursiveHalvingReduceScatter<T extends ReduceArray>(ctx: Ctx, array: T, op: ResolvedOp): Promise<T> {
  const { rank: r, size: p } = ctx;
  const acc = array.slice() as T;
  const mine = block(acc.length, p, r, op.unit);
  const f = await foldIn(ctx, acc, acc, op);
  if (f.newrank >= 0) {
    const q = f.pof2;
    // Survivor v stands for original ranks 2v, 2v+1 (v < rem) or v + rem: their blocks are contiguous.
    const disp = (v: number): number => (v >= q ? acc.length : block(acc.length, p, v < f.rem ? 2 * v : v + f.rem, op.unit).start);
    const range = (from: number, to: number): T => acc.subarray(disp(from), disp(to)) as T;
    let sendIdx = 0, recvIdx = 0, lastIdx = q;
    for (let mask = q >> 1; mask > 0; mask >>= 1) {
      const partner = f.newrank ^ mask;
      let send: T, keep: T;
      if (f.newrank < partner) {
        sendIdx = recvIdx + mask;
        send = range(sendIdx, lastIdx); keep = range(recvIdx, sendIdx);
      } else {
        recvIdx = sendIdx + mask;
        send = range(sendIdx, recvIdx); keep = range(recvIdx, lastIdx);
      }
      const dst = f.real(partner);
      const got = await ctx.sendrecvArray(dst, send, dst, `h${mask}`, keep.length);
      if (partner < f.newrank) op.combine(keep, got, keep);
      else op.combine(keep, keep, got);
      sendIdx = recvIdx;
      lastIdx = recvIdx + mask;
    }
  }
  if (r < 2 * f.rem) {
    if (r % 2 === 1) {
      const theirs = block(acc.length, p, r - 1, op.unit);
      await ctx.send(r - 1, 'give', acc.subarray(theirs.start, theirs.end));
    } else {
      return ctx.recvArray(r + 1, 'give', acc, mine.end - mine.start);
    }
  }
  return acc.slice(mine.start, mine.end) as T;
}
