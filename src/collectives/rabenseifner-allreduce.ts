// Rabenseifner allreduce (MPICH allreduce_intra_reduce_scatter_allgather, Open MPI alg 6): after
// the non-power-of-two fold, a reduce-scatter by recursive halving (distance 1, 2, 4…, each round
// keeping half of the remaining range) leaves each survivor one fully reduced block, then an
// allgather by recursive doubling (distance pof2/2 … 1) distributes them. Each element is reduced
// on exactly one rank, so all ranks get the same bits. Built-in (elementwise) ops only; blocks
// are in whole minloc/maxloc pairs and may be empty when n < pof2.
// Cost: 2·lg p·α + 2((p−1)/p)·n·β + ((p−1)/p)·n·γ; non-power-of-two
// (2⌊lg p⌋+2)·α + (2(p−1)/p + 2)·n·β + n(1 + (p−1)/p)·γ.
//
// Memory (why it is written this way): the caller's array is only read, never copied whole. The
// first halving round sends from it and receives the partner's half straight into the result's kept
// range (a posted receive), which is then combined in place with the caller's kept half; later
// rounds work in the result, receiving into pooled scratch. The allgather rounds receive straight
// into the result (the first one is posted before the last reduction, see below). So a call
// allocates the result (nothing with `out`) and nothing else that grows with n, except for a message
// that arrives before its receive is posted (or over libp2p): the transport allocates it and it is
// copied into place.
import { block } from './blocks.js';
import { foldIn, foldOut } from './fold.js';
import { giveScratch, takeScratch } from './scratch.js';
import { emptyLike, type Ctx, type ReduceArray, type ResolvedOp } from './types.js';

export async function rabenseifnerAllreduce<T extends ReduceArray>(ctx: Ctx, array: T, op: ResolvedOp, out?: T): Promise<T> {
  const acc = out ?? emptyLike(array, array.length);
  const f = await foldIn(ctx, array, acc, op);
  if (f.newrank >= 0 && f.pof2 > 1) {
    const q = f.pof2;
    const disp = (i: number): number => (i >= q ? acc.length : block(acc.length, q, i, op.unit).start);
    const range = (a: T, from: number, to: number): T => a.subarray(disp(from), disp(to)) as T;
    // Where this rank's operand lives until the first round has written the result.
    let src: T = f.folded ? acc : array;
    let scratch: T | undefined;
    let agFirst: Promise<T> | undefined;
    let sendIdx = 0, recvIdx = 0, lastIdx = q;
    let mask = 1;
    for (; mask < q; mask <<= 1) {
      const partner = f.newrank ^ mask;
      const half = q / (mask * 2);
      let lo: number, hi: number;
      if (f.newrank < partner) {
        sendIdx = recvIdx + half;
        lo = recvIdx; hi = sendIdx;
      } else {
        recvIdx = sendIdx + half;
        lo = recvIdx; hi = lastIdx;
      }
      const sendEnd = f.newrank < partner ? lastIdx : recvIdx;
      const send = range(src, sendIdx, sendEnd);
      const mine = range(src, lo, hi);
      const keep = range(acc, lo, hi);
      let got: T;
      if (src !== acc) {
        // The result's kept range is still free: the partner's half lands there, then keep = got ⊕ mine in place.
        got = keep;
      } else {
        scratch ??= takeScratch(acc, keep.length); // the first round that needs it has the largest range
        got = scratch.subarray(0, keep.length) as T;
      }
      const dst = f.real(partner);
      if (mask * 2 === q) {
        // The first allgather round, with this same partner, brings back exactly the range sent now
        // (the partner's reduced block): its receive is posted already, so the block lands in the
        // result even when the partner finishes its reduction first. The partner can send it only
        // after it has received all of this round's data, so the kernel has copied that data first.
        agFirst = ctx.recvInto(dst, `ag${mask}`, range(acc, sendIdx, sendEnd));
        agFirst.catch(() => {});
      }
      await ctx.sendrecvInto(dst, send, dst, `rs${mask}`, got);
      if (partner < f.newrank) op.combine(keep, got, mine);
      else op.combine(keep, mine, got);
      src = acc;
      sendIdx = recvIdx;
      if (mask * 2 < q) lastIdx = recvIdx + q / (mask * 2);
    }
    if (scratch) giveScratch(scratch);
    for (mask >>= 1; mask > 0; mask >>= 1) {
      const partner = f.newrank ^ mask;
      const half = q / (mask * 2);
      let send: T, into: T;
      if (f.newrank < partner) {
        if (mask !== q / 2) lastIdx += half;
        recvIdx = sendIdx + half;
        send = range(acc, sendIdx, recvIdx); into = range(acc, recvIdx, lastIdx);
      } else {
        recvIdx = sendIdx - half;
        send = range(acc, sendIdx, lastIdx); into = range(acc, recvIdx, sendIdx);
      }
      const dst = f.real(partner);
      if (agFirst) {
        await Promise.all([ctx.send(dst, `ag${mask}`, send), agFirst]);
        agFirst = undefined;
      } else {
        await ctx.sendrecvInto(dst, send, dst, `ag${mask}`, into);
      }
      if (f.newrank > partner) sendIdx = recvIdx;
    }
  } else if (f.newrank >= 0 && !f.folded) {
    acc.set(array as never); // a world of one
  }
  return foldOut(ctx, acc, f);
}
