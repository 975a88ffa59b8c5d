// Rabenseifner allreduce (MPICH allreduce_intra_reduce_scatter_allgather, Open MPI alg 6): after
// the non-power-of-two fold, a reduce-scatter by recursive halving (distance 1, 2, 4…, each round
// keeping half of the remaining range) leaves each survivor one fully reduced block, then an
// allgather by recursive doubling (distance pof2/2 … 1) distributes them. Each element is reduced
// on exactly one rank, so all ranks get the same bits. Built-in (elementwise) ops only; blocks
// are in whole minloc/maxloc pairs and may be empty when n < pof2.
// Cost: 2·lg p·α + 2((p−1)/p)·n·β + ((p−1)/p)·n·γ; non-power-of-two
// (2⌊lg p⌋+2)·α + (2(p−1)/p + 2)·n·β + n(1 + (p−1)/p)·γ.
import { block } from './blocks.js';
import { foldIn, foldOut } from './fold.js';
import type { Ctx, ReduceArray, ResolvedOp } from './types.js';

export async function rabenseifnerAllreduce<T extends ReduceArray>(ctx: Ctx, array: T, op: ResolvedOp): Promise<T> {
  const acc = array.slice() as T;
  const f = await foldIn(ctx, acc, op);
  if (f.newrank >= 0 && f.pof2 > 1) {
    const q = f.pof2;
    const disp = (i: number): number => (i >= q ? acc.length : block(acc.length, q, i, op.unit).start);
    const range = (from: number, to: number): T => acc.subarray(disp(from), disp(to)) as T;
    let sendIdx = 0, recvIdx = 0, lastIdx = q;
    let mask = 1;
    for (; mask < q; mask <<= 1) {
      const partner = f.newrank ^ mask;
      const half = q / (mask * 2);
      let send: T, keep: T;
      if (f.newrank < partner) {
        sendIdx = recvIdx + half;
        send = range(sendIdx, lastIdx); keep = range(recvIdx, sendIdx);
      } else {
        recvIdx = sendIdx + half;
        send = range(sendIdx, recvIdx); keep = range(recvIdx, lastIdx);
      }
      const dst = f.real(partner);
      const got = await ctx.sendrecvArray(dst, send, dst, `rs${mask}`, keep.length);
      if (partner < f.newrank) op.combine(keep, got, keep);
      else op.combine(keep, keep, got);
      sendIdx = recvIdx;
      if (mask * 2 < q) lastIdx = recvIdx + q / (mask * 2);
    }
    for (mask >>= 1; mask > 0; mask >>= 1) {
      const partner = f.newrank ^ mask;
      const half = q / (mask * 2);
      let send: T, into: T;
      if (f.newrank < partner) {
        if (mask !== q / 2) lastIdx += half;
        recvIdx = sendIdx + half;
        send = range(sendIdx, recvIdx); into = range(recvIdx, lastIdx);
      } else {
        recvIdx = sendIdx - half;
        send = range(sendIdx, lastIdx); into = range(recvIdx, sendIdx);
      }
      const dst = f.real(partner);
      into.set(await ctx.sendrecvArray(dst, send, dst, `ag${mask}`, into.length) as never);
      if (f.newrank > partner) sendIdx = recvIdx;
    }
  }
  return foldOut(ctx, acc, f);
}
