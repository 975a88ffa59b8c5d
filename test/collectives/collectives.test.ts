import assert from 'node:assert/strict';
import type { Mesh } from '../../src/mesh/mesh.js';
import { ALGORITHMS } from '../../src/collectives/select.js';
import { block } from '../../src/collectives/blocks.js';
import type { ReduceArray } from '../../src/collectives/types.js';
import { startMeshes, closeAll } from '../support/meshes.js';
import { bytesOf, communicators, counts, DTYPES, onAll, PS } from './support.js';
import { CASE_OPS, contribution, expected, opFor } from './values.js';

const sample = (r: number): unknown[] => [
  null, `rank ${r}`, r, { r, tag: 'x', nested: { f: new Float64Array([r, 0.5]), i: new Int32Array([-r]) } },
  new Float64Array([r, -r, 1e-300]), new Uint8Array([r, 255]), new BigInt64Array([BigInt(-r) * 2n ** 40n]), new Float32Array(0),
];

function sameBytes(got: ReduceArray, want: ReduceArray, what: string): void {
  assert.equal(got.constructor, want.constructor, what);
  if (!bytesOf(got).equals(bytesOf(want))) assert.fail(`${what}: got ${got.slice(0, 8)}… want ${want.slice(0, 8)}…`);
}

describe('collectives: barrier, bcast, gather, scatter, allgather, reduce, reduceScatter', function () {
  for (const p of PS) {
    describe(`p=${p}`, function () {
      let meshes: Mesh[] = [];
      before(async () => { ({ meshes } = await startMeshes(p)); });
      after(async () => { await closeAll(meshes); meshes = []; });

      it('barrier: 20 consecutive barriers complete on every rank', async () => {
        const comms = communicators(meshes);
        for (let k = 0; k < 20; k++) await onAll(comms, (c) => c.barrier());
      });

      it('bcast from every root: MessagePack values and typed arrays of every dtype and count', async () => {
        const comms = communicators(meshes);
        for (let root = 0; root < p; root++) {
          const values = [...sample(root), ...DTYPES.flatMap((d) => counts(p).map((n) => contribution(d, 'sum', root, n)))];
          const got = await onAll(comms, (c) => Promise.all(values.map((v) => c.bcast(c.rank === root ? v : undefined, root))));
          for (let r = 0; r < p; r++) assert.deepEqual(got[r], values, `rank ${r}, root ${root}`);
        }
      });

      it('gather and scatter with every root', async () => {
        const comms = communicators(meshes);
        for (let root = 0; root < p; root++) {
          const gathered = await onAll(comms, (c) => c.gather(sample(c.rank), root));
          for (let r = 0; r < p; r++) {
            if (r === root) assert.deepEqual(gathered[r], Array.from({ length: p }, (_, q) => sample(q)));
            else assert.equal(gathered[r], undefined);
          }
          const parts = Array.from({ length: p }, (_, q) => ({ q, data: new Float64Array(q + 1).fill(q) }));
          const scattered = await onAll(comms, (c) => c.scatter(c.rank === root ? parts : undefined, root));
          assert.deepEqual(scattered, parts);
        }
      });

      for (const alg of ALGORITHMS.allgather) {
        it(`allgather with COMMUNE_ALLGATHER_ALGORITHM=${alg}`, async () => {
          const comms = communicators(meshes, { COMMUNE_ALLGATHER_ALGORITHM: alg });
          const got = await onAll(comms, (c) => c.allgather(sample(c.rank)));
          for (let r = 0; r < p; r++) assert.deepEqual(got[r], Array.from({ length: p }, (_, q) => sample(q)));
          for (const d of DTYPES) {
            for (const n of counts(p)) {
              const res = await onAll(comms, (c) => c.allgather(contribution(d, 'sum', c.rank, n)));
              for (let r = 0; r < p; r++) for (let q = 0; q < p; q++) sameBytes(res[r][q], contribution(d, 'sum', q, n), `rank ${r} entry ${q}`);
            }
          }
        });
      }

      it('reduce to every root: every dtype × op × count', async () => {
        const comms = communicators(meshes);
        const cases = DTYPES.flatMap((dtype) => CASE_OPS.flatMap((op) => counts(p).map((n, j) => ({ dtype, op, n, root: j % p }))));
        const results = await onAll(comms, (c) => Promise.all(cases.map((k) => c.reduce(contribution(k.dtype, k.op, c.rank, k.n), opFor(k.op), k.root))));
        cases.forEach((k, j) => {
          for (let r = 0; r < p; r++) {
            if (r === k.root) sameBytes(results[r][j]!, expected(k.dtype, k.op, p, k.n), `root ${r}: ${k.dtype.name} ${k.op} n=${k.n}`);
            else assert.equal(results[r][j], undefined);
          }
        });
      });

      for (const alg of ALGORITHMS.reduce_scatter) {
        it(`reduceScatter with COMMUNE_REDUCE_SCATTER_ALGORITHM=${alg}: every dtype × op × count`, async () => {
          const comms = communicators(meshes, { COMMUNE_REDUCE_SCATTER_ALGORITHM: alg });
          const cases = DTYPES.flatMap((dtype) => CASE_OPS.flatMap((op) => counts(p).map((n) => ({ dtype, op, n }))));
          const results = await onAll(comms, (c) => Promise.all(cases.map((k) => c.reduceScatter(contribution(k.dtype, k.op, c.rank, k.n), opFor(k.op)))));
          cases.forEach((k, j) => {
            const full = expected(k.dtype, k.op, p, k.n);
            const unit = k.op === 'minloc' || k.op === 'maxloc' ? 2 : 1;
            for (let r = 0; r < p; r++) {
              const { start, end } = block(full.length, p, r, unit);
              sameBytes(results[r][j], full.slice(start, end) as ReduceArray, `rank ${r}: ${k.dtype.name} ${k.op} n=${k.n}`);
            }
          });
        });
      }
    });
  }

  it('reduceScatter blocks: contiguous, as equal as possible, the first length % size ranks one longer', () => {
    assert.deepEqual([0, 1, 2].map((i) => block(7, 3, i)), [{ start: 0, end: 3 }, { start: 3, end: 5 }, { start: 5, end: 7 }]);
    assert.deepEqual([0, 1, 2, 3].map((i) => block(2, 4, i)), [{ start: 0, end: 1 }, { start: 1, end: 2 }, { start: 2, end: 2 }, { start: 2, end: 2 }]);
    assert.deepEqual([0, 1].map((i) => block(6, 2, i, 2)), [{ start: 0, end: 4 }, { start: 4, end: 6 }]);
  });
});
