// Reusable scratch arrays for the intermediate receives of the reduction algorithms (a received
// partner block that is combined and then no longer needed). Allocating one per call costs an
// allocation and garbage collection per collective; a few buffers per array type are kept instead.
// A buffer goes back only when its collective succeeded: after a failed receive a frame already
// claimed for it may still be landing (see Ctx.recvInto), so such a buffer is simply dropped.
// Concurrent collectives each take their own buffer.
import { emptyLike, type ReduceArray } from './types.js';

const KEPT_PER_TYPE = 4;
const pools = new Map<unknown, ReduceArray[]>();

/** A scratch array of `like`'s type and exactly `length` elements (a view of a pooled buffer, or fresh). */
export function takeScratch<T extends ReduceArray>(like: T, length: number): T {
  const pool = pools.get(like.constructor);
  if (pool) {
    for (let i = 0; i < pool.length; i++) {
      if (pool[i].length >= length) {
        const [buf] = pool.splice(i, 1);
        return buf.subarray(0, length) as T;
      }
    }
  }
  return emptyLike(like, length);
}

/** Returns scratch taken by takeScratch once nothing can write to it any more. */
export function giveScratch(a: ReduceArray): void {
  const whole = new (a.constructor as new (b: ArrayBufferLike) => ReduceArray)(a.buffer);
  let pool = pools.get(a.constructor);
  if (!pool) { pool = []; pools.set(a.constructor, pool); }
  if (pool.length >= KEPT_PER_TYPE) {
    // Keep the largest ones: replace the smallest if this one is bigger.
    let min = 0;
    for (let i = 1; i < pool.length; i++) if (pool[i].length < pool[min].length) min = i;
    if (pool[min].length >= whole.length) return;
    pool.splice(min, 1);
  }
  pool.push(whole);
}
