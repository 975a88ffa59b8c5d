import assert from 'node:assert/strict';
import type { Mesh } from '../../src/mesh/mesh.js';
import { UsageError } from '../../src/errors.js';
import { ALGORITHMS } from '../../src/collectives/select.js';
import type { ReduceArray } from '../../src/collectives/types.js';
import { startMeshes, closeAll } from '../support/meshes.js';
import { bytesOf, communicators, DTYPES, onAll } from './support.js';
import { CASE_OPS, contribution, expected, opFor } from './values.js';

// `out` (MPI's receive buffer): the result lands in the caller's array. These tests pin that it gives
// the same bits as a fresh result for every algorithm, fills every element, and is checked up front.

/** An array of `like`'s type and length full of a value no result here contains. */
function stale<T extends ReduceArray>(like: T, length = like.length): T {
  const a = new (like.constructor as new (n: number) => T)(length);
  return (a instanceof BigInt64Array ? a.fill(-77n) : (a as Float64Array).fill(77)) as T;
}

describe('collectives: results into the caller\'s out array', function () {
  for (const p of [1, 2, 3, 4, 5]) {
    describe(`p=${p}`, function () {
      let meshes: Mesh[] = [];
      before(async () => { ({ meshes } = await startMeshes(p)); });
      after(async () => { await closeAll(meshes); meshes = []; });

      it('allreduce (every algorithm, reproducible too) returns out, fully written, with the bits of a fresh result', async () => {
        for (const alg of ALGORITHMS.allreduce) {
          const comms = communicators(meshes, { COMMUNE_ALLREDUCE_ALGORITHM: alg });
          for (const dtype of DTYPES) {
            for (const op of CASE_OPS) {
              for (const n of [1, 100, 10000]) {
                const want = bytesOf(expected(dtype, op, p, n));
                for (const reproducible of [false, true]) {
                  const outs = comms.map((c) => stale(contribution(dtype, op, c.rank, n)));
                  const got = await onAll(comms, (c) => c.allreduce(contribution(dtype, op, c.rank, n), opFor(op), { out: outs[c.rank], reproducible }));
                  for (let r = 0; r < p; r++) {
                    assert.equal(got[r], outs[r], `${alg} ${dtype.name} ${op} n=${n}: rank ${r} returns its out array`);
                    assert.ok(bytesOf(outs[r]).equals(want), `${alg}${reproducible ? ' reproducible' : ''} ${dtype.name} ${op} n=${n}: rank ${r}'s out`);
                  }
                }
              }
            }
          }
        }
      });

      it('allgather (every algorithm) puts rank q\'s array in block q of out and returns views of the blocks', async () => {
        for (const alg of ALGORITHMS.allgather) {
          if (alg === 'recursive_doubling' && (p & (p - 1)) !== 0) continue; // power-of-two worlds only
          const comms = communicators(meshes, { COMMUNE_ALLGATHER_ALGORITHM: alg });
          for (const n of [1, 1000, 70000]) {
            const value = (r: number): Float64Array => Float64Array.from({ length: n }, (_, i) => r * 1e6 + i + 0.5);
            const outs = comms.map(() => stale(new Float64Array(0), n * p));
            const got = await onAll(comms, (c) => c.allgather(value(c.rank), { out: outs[c.rank] }));
            for (let r = 0; r < p; r++) {
              assert.equal(got[r].length, p);
              for (let q = 0; q < p; q++) {
                assert.equal(got[r][q].buffer, outs[r].buffer, `${alg} n=${n}: rank ${r}'s entry ${q} is a view of out`);
                assert.equal(got[r][q].byteOffset, outs[r].byteOffset + q * n * 8);
                assert.ok(bytesOf(got[r][q]).equals(bytesOf(value(q))), `${alg} n=${n}: rank ${r}'s block ${q}`);
              }
            }
          }
        }
      });

      it('bcast lands the root\'s array in out on the other ranks; the root gets its own value', async () => {
        const comms = communicators(meshes);
        for (const root of [0, p - 1]) {
          for (const n of [1, 300000]) {
            const value = Int32Array.from({ length: n }, (_, i) => i * 3 - root);
            const outs = comms.map(() => stale(value));
            const got = await onAll(comms, (c) => c.bcast(c.rank === root ? value : new Int32Array(0), root, { out: outs[c.rank] }));
            for (let r = 0; r < p; r++) {
              if (r === root) { assert.equal(got[r], value); continue; }
              assert.equal(got[r], outs[r], `root ${root} n=${n}: rank ${r} returns its out array`);
              assert.ok(bytesOf(outs[r]).equals(bytesOf(value)), `root ${root} n=${n}: rank ${r}'s out`);
            }
          }
        }
      });
    });
  }

  describe('a wrong out array is refused before any message', function () {
    let meshes: Mesh[] = [];
    before(async () => { ({ meshes } = await startMeshes(2)); });
    after(async () => { await closeAll(meshes); meshes = []; });

    it('names the rank and what was wrong, and the world goes on as if the call never happened', async () => {
      const [c0, c1] = communicators(meshes);
      const a = new Float64Array(8);
      const refusals: Array<[() => Promise<unknown>, RegExp]> = [
        [() => c1.allreduce(a, 'sum', { out: new Float32Array(8) as never }), /^rank 1: allreduce: out must be a Float64Array of 8 elements .*got Float32Array\(8\)/],
        [() => c1.allreduce(a, 'sum', { out: new Float64Array(7) }), /out must be a Float64Array of 8 elements/],
        [() => c1.allreduce(a, 'sum', { out: a }), /^rank 1: allreduce: out shares memory with the input array/],
        [() => c1.allreduce(a.subarray(0, 4), 'sum', { out: a.subarray(3, 7) }), /shares memory/],
        [() => c1.allgather(a, { out: new Float64Array(8) }), /^rank 1: allgather: out must be a Float64Array of 16 elements/],
        [() => c1.allgather({ x: 1 }, { out: new Float64Array(2) as never }), /^rank 1: allgather: out needs a typed-array value/],
        [() => c1.bcast(a, 1, { out: new Float64Array(9) }), /^rank 1: bcast: out must be a Float64Array of 8 elements/],
        [() => c1.bcast(a, 0, { out: [] as never }), /^rank 1: bcast: out must be a typed array/],
      ];
      for (const [call, message] of refusals) await assert.rejects(async () => call(), (e: Error) => e instanceof UsageError && message.test(e.message));
      // Disjoint halves of one buffer are fine.
      const both = new Float64Array(16);
      const [r0, r1] = await Promise.all([c0.allreduce(Float64Array.of(1, 2), 'sum'), c1.allreduce(both.subarray(0, 2).fill(3), 'sum', { out: both.subarray(2, 4) })]);
      assert.deepEqual([...r0], [4, 5]);
      assert.deepEqual([...r1], [4, 5]);
      assert.deepEqual([...both.subarray(0, 4)], [3, 3, 4, 5]);
    });
  });
});
