import { CommuneError, UsageError } from '../errors.js';
import { describe } from './ops.js';
import { isReduceArray, type ReduceArray } from './types.js';

/** Ranks passed a collective different array types or lengths (every rank must pass the same). */
export class OperandMismatchError extends CommuneError {
  constructor(readonly rank: number, readonly observer: number, what: string, got: string, want: string) {
    super(`rank ${observer}: ${what}: rank ${rank} sent ${got} where this rank expects ${want} — every rank must pass an array of the same type and length`);
  }
}

/** `got` as a typed array of `like`'s type (and `length` elements when given), or an OperandMismatchError naming `from`. */
export function expectLike<T extends ReduceArray>(got: unknown, like: T, length: number | undefined, from: number, observer: number, what: string): T {
  got = plain(got);
  if (!isReduceArray(got) || got.constructor !== like.constructor || (length !== undefined && got.length !== length)) {
    throw new OperandMismatchError(from, observer, what, describe(got), `${like.constructor.name}(${length ?? 'any length'})`);
  }
  return got as T;
}

/** MessagePack decodes a nested Uint8Array as a Node Buffer; hand callers a plain Uint8Array view. */
export function plain<T>(v: T): T {
  return (Buffer.isBuffer(v) ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : v) as T;
}

/** Checks a call's `out` array (OutOptions) before any message: its type and length, and no memory shared with `input`. */
export function checkOut(out: unknown, like: ReduceArray, length: number, input: ArrayBufferView | undefined, where: string): void {
  if (!isReduceArray(out) || out.constructor !== like.constructor || out.length !== length) {
    throw new UsageError(`${where}: out must be a ${like.constructor.name} of ${length} elements (the result's type and length), got ${describe(out)}`);
  }
  if (input && out.buffer === input.buffer && out.byteOffset < input.byteOffset + input.byteLength && input.byteOffset < out.byteOffset + out.byteLength) {
    throw new UsageError(`${where}: out shares memory with the input array; pass a separate array`);
  }
}
