// Dissemination barrier (Hensgen, Finkel & Manber 1988; MPICH barrier_intra_k_dissemination with
// k = 2, Gloo barrier.cc). Round k: send to (r + 2^k) mod p, receive from (r − 2^k) mod p; after
// ⌈lg p⌉ rounds every rank has heard, transitively, from every other. Any p.
// Cost: ⌈lg p⌉·α.
import type { Ctx } from './types.js';

const EMPTY = new Uint8Array(0);

export async function disseminationBarrier(ctx: Ctx): Promise<void> {
  const { rank: r, size: p } = ctx;
  for (let k = 1; k < p; k *= 2) {
    await ctx.sendrecv((r + k) % p, EMPTY, (r - k + p) % p, `d${k}`);
  }
}
