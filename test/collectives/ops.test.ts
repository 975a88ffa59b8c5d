import assert from 'node:assert/strict';
import { resolveOp } from '../../src/collectives/ops.js';
import { UsageError } from '../../src/errors.js';
import type { ReduceArray } from '../../src/collectives/types.js';

const apply = <T extends ReduceArray>(op: Parameters<typeof resolveOp>[0], a: T, b: T): T => {
  const out = a.slice() as T;
  resolveOp(op, a, 'test').combine(out, a, b);
  return out;
};

describe('collectives/ops: built-in reductions compute like C/MPI', function () {
  it('Float32 sums and products round to float32 at each step', () => {
    const a = new Float32Array([16777216, 0.1]);
    const b = new Float32Array([1, 0.2]);
    assert.deepEqual(apply('sum', a, b), new Float32Array([16777216, Math.fround(Math.fround(0.1) + Math.fround(0.2))]));
    assert.deepEqual(apply('prod', new Float32Array([1 + 2 ** -23]), new Float32Array([1 + 2 ** -23])), new Float32Array([Math.fround((1 + 2 ** -23) ** 2)]));
  });

  it('Int32, Uint8 and BigInt64 wrap like C', () => {
    assert.deepEqual(apply('sum', new Int32Array([2 ** 31 - 1]), new Int32Array([1])), new Int32Array([-(2 ** 31)]));
    assert.deepEqual(apply('prod', new Int32Array([65537]), new Int32Array([65537])), new Int32Array([Math.imul(65537, 65537)]));
    assert.deepEqual(apply('sum', new Uint8Array([250]), new Uint8Array([10])), new Uint8Array([4]));
    assert.deepEqual(apply('prod', new Uint8Array([16]), new Uint8Array([17])), new Uint8Array([16]));
    assert.deepEqual(apply('sum', new BigInt64Array([2n ** 63n - 1n]), new BigInt64Array([1n])), new BigInt64Array([-(2n ** 63n)]));
    assert.deepEqual(apply('min', new BigInt64Array([5n, -3n]), new BigInt64Array([2n, 7n])), new BigInt64Array([2n, -3n]));
  });

  it('min/max propagate NaN; minloc/maxloc pick the value, the lowest index on ties', () => {
    assert.ok(Number.isNaN(apply('min', new Float64Array([NaN]), new Float64Array([1]))[0]));
    assert.deepEqual(apply('minloc', new Float64Array([3, 5, 2, 9, 2, 1]), new Float64Array([3, 4, 1, 0, 2, 0])), new Float64Array([3, 4, 1, 0, 2, 0]));
    assert.deepEqual(apply('maxloc', new Float64Array([3, 5, 2, 9]), new Float64Array([3, 7, 1, 0])), new Float64Array([3, 5, 2, 9]));
    assert.deepEqual(apply('maxloc', new Int32Array([3, 5]), new Int32Array([3, 2])), new Int32Array([3, 2]));
  });

  it('rejects bad arrays and ops before any communication', () => {
    assert.throws(() => resolveOp('sum', [1, 2] as never, 'x'), UsageError);
    assert.throws(() => resolveOp('minloc', new Float64Array(3), 'x'), /odd length/);
    assert.throws(() => resolveOp('avg' as never, new Float64Array(3), 'x'), /unknown op 'avg'/);
    assert.throws(() => resolveOp({ fn: (a: ReduceArray) => a } as never, new Float64Array(3), 'x'), UsageError);
    const bad = resolveOp({ fn: () => new Float64Array(1), commutative: true, name: 'short' }, new Float64Array(3), 'x');
    assert.throws(() => bad.combine(new Float64Array(3), new Float64Array(3), new Float64Array(3)), /'short' returned Float64Array\(1\)/);
  });
});
