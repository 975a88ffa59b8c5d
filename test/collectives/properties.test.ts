import assert from 'node:assert/strict';
import type { Mesh } from '../../src/mesh/mesh.js';
import { ALGORITHMS } from '../../src/collectives/select.js';
import { block } from '../../src/collectives/blocks.js';
import { startMeshes, closeAll } from '../support/meshes.js';
import { bytesOf, communicators, onAll, PS } from './support.js';
import { matmul } from './values.js';

// A 3×3 matrix per rank, small integers so that every product is exact whatever the grouping:
// only the order of the factors can change the result.
function matrixOf(r: number): Float64Array {
  return Float64Array.from([1, r + 1, 0, 0, 1, r % 3, (r + 1) % 2, 0, 1]);
}
const leftToRight = (p: number): Float64Array => {
  let m = matrixOf(0);
  for (let r = 1; r < p; r++) m = matmul.fn(m, matrixOf(r));
  return m;
};

// MPICH allred_float: ±1e6 on a pair of ranks and 1e-2 elsewhere, so the result depends on the
// order of the additions; every rank must still get the same bits.
type FloatCtor = Float64ArrayConstructor | Float32ArrayConstructor;
function floatContribution(C: FloatCtor, r: number, n: number): Float64Array | Float32Array {
  const a = new C(n);
  for (let i = 0; i < n; i++) {
    const k = (i + r) % 5;
    a[i] = k === 0 ? 1e6 : k === 1 ? -1e6 : 1e-2 * (1 + (i % 7));
  }
  return a;
}
function sequentialSum(C: FloatCtor, p: number, n: number): Float64Array | Float32Array {
  const acc = floatContribution(C, 0, n);
  for (let r = 1; r < p; r++) { const b = floatContribution(C, r, n); for (let i = 0; i < n; i++) acc[i] = acc[i] + b[i]; }
  return acc;
}

describe('collectives: order, identical bits, reproducibility, concurrency', function () {
  for (const p of PS) {
    describe(`p=${p}`, function () {
      let meshes: Mesh[] = [];
      before(async () => { ({ meshes } = await startMeshes(p)); });
      after(async () => { await closeAll(meshes); meshes = []; });

      it('a non-commutative op (3×3 matrix product) combines in rank order: allreduce (every algorithm), reduce (every root), reduceScatter', async () => {
        const want = leftToRight(p);
        for (const alg of ALGORITHMS.allreduce) {
          const comms = communicators(meshes, { COMMUNE_ALLREDUCE_ALGORITHM: alg, COMMUNE_REDUCE_SCATTER_ALGORITHM: 'pairwise' });
          const got = await onAll(comms, (c) => c.allreduce(matrixOf(c.rank), matmul));
          for (let r = 0; r < p; r++) assert.deepEqual(got[r], want, `${alg}, rank ${r}`);
          const rep = await onAll(comms, (c) => c.allreduce(matrixOf(c.rank), matmul, { reproducible: true }));
          for (let r = 0; r < p; r++) assert.deepEqual(rep[r], want, `reproducible, rank ${r}`);
          const rs = await onAll(comms, (c) => c.reduceScatter(matrixOf(c.rank), matmul));
          for (let r = 0; r < p; r++) {
            const { start, end } = block(9, p, r);
            assert.deepEqual(rs[r], want.slice(start, end), `reduceScatter, rank ${r}`);
          }
        }
        const comms = communicators(meshes);
        for (let root = 0; root < p; root++) {
          const got = await onAll(comms, (c) => c.reduce(matrixOf(c.rank), matmul, root));
          assert.deepEqual(got[root], want, `reduce to ${root}`);
        }
        // The check has teeth: the product in any other order (here reversed) differs.
        let reversed = matrixOf(p - 1);
        for (let r = p - 2; r >= 0; r--) reversed = matmul.fn(reversed, matrixOf(r));
        if (p >= 2) assert.notDeepEqual(reversed, want, 'the test matrices must not commute');
      });

      it('every rank gets bit-identical float results (MPICH allred_float), every algorithm, Float64 and Float32', async () => {
        const n = 1000;
        for (const alg of ALGORITHMS.allreduce) {
          const comms = communicators(meshes, { COMMUNE_ALLREDUCE_ALGORITHM: alg });
          for (const C of [Float64Array, Float32Array] as FloatCtor[]) {
            const res = await onAll(comms, (c) => c.allreduce(floatContribution(C, c.rank, n), 'sum'));
            // Gather every rank's result bytes, as allred_float does, and compare them.
            const seen = await onAll(comms, (c) => c.allgather(new Uint8Array(bytesOf(res[c.rank]))));
            for (let r = 0; r < p; r++) for (let q = 0; q < p; q++) {
              assert.ok(bytesOf(seen[r][q]).equals(bytesOf(res[0])), `${alg} ${C.name}: rank ${q}'s bits differ from rank 0's (seen on rank ${r})`);
            }
          }
        }
      });

      it('reproducible allreduce: the same bits as the rank-order fold, for every allreduce and allgather algorithm', async () => {
        const n = 1000;
        for (const C of [Float64Array, Float32Array] as FloatCtor[]) {
          const want = bytesOf(sequentialSum(C, p, n));
          for (const ar of ALGORITHMS.allreduce) {
            for (const ag of ALGORITHMS.allgather) {
              const comms = communicators(meshes, { COMMUNE_ALLREDUCE_ALGORITHM: ar, COMMUNE_ALLGATHER_ALGORITHM: ag });
              const res = await onAll(comms, (c) => c.allreduce(floatContribution(C, c.rank, n), 'sum', { reproducible: true }));
              for (let r = 0; r < p; r++) assert.ok(bytesOf(res[r]).equals(want), `${C.name} ${ar}/${ag}: rank ${r}`);
            }
          }
        }
      });

      it('reproducible allreduce of owner-filled score tables gives the same bits for every rank count', async () => {
        // The grid-search use: task t's scores are computed by rank t % p and zero elsewhere.
        const tasks = 40;
        const score = (t: number): number => Math.sin(t) * 1e6 + 1e-2 * t;
        const table = (r: number): Float64Array => Float64Array.from({ length: tasks }, (_, t) => (t % p === r ? score(t) : 0));
        const comms = communicators(meshes);
        const res = await onAll(comms, (c) => c.allreduce(table(c.rank), 'sum', { reproducible: true }));
        const want = Float64Array.from({ length: tasks }, (_, t) => score(t));
        for (let r = 0; r < p; r++) assert.ok(bytesOf(res[r]).equals(bytesOf(want)), `rank ${r}`);
      });

      it('concurrent collectives issued without awaiting, in the same order on every rank, do not mix', async () => {
        const comms = communicators(meshes, { COMMUNE_ALLREDUCE_ALGORITHM: 'ring' });
        const rounds = 6;
        const results = await onAll(comms, (c) => {
          const calls: Promise<unknown>[] = [];
          for (let k = 0; k < rounds; k++) {
            const root = k % p;
            calls.push(c.barrier());
            calls.push(c.bcast(c.rank === root ? { k, root } : undefined, root));
            calls.push(c.allreduce(new Float64Array([k, c.rank, 1]), 'sum'));
            calls.push(c.allreduce(new Int32Array([c.rank * 10 + k]), 'max', { reproducible: true }));
            calls.push(c.allgather(`${k}:${c.rank}`));
            calls.push(c.reduce(new Int32Array([k + c.rank]), 'sum', root));
            calls.push(c.gather(k * 100 + c.rank, root));
            calls.push(c.scatter(c.rank === root ? Array.from({ length: p }, (_, q) => `${k}/${q}`) : undefined, root));
            calls.push(c.reduceScatter(new Int32Array(2 * p).fill(k + 1), 'sum'));
          }
          return Promise.all(calls);
        });
        for (let r = 0; r < p; r++) {
          const got = results[r];
          for (let k = 0; k < rounds; k++) {
            const root = k % p;
            const [, bc, ar, mx, ag, red, ga, sc, rs] = got.slice(9 * k, 9 * k + 9);
            assert.deepEqual(bc, { k, root });
            assert.deepEqual(ar, new Float64Array([k * p, p * (p - 1) / 2, p]));
            assert.deepEqual(mx, new Int32Array([(p - 1) * 10 + k]));
            assert.deepEqual(ag, Array.from({ length: p }, (_, q) => `${k}:${q}`));
            assert.deepEqual(red, r === root ? new Int32Array([k * p + p * (p - 1) / 2]) : undefined);
            assert.deepEqual(ga, r === root ? Array.from({ length: p }, (_, q) => k * 100 + q) : undefined);
            assert.equal(sc, `${k}/${r}`);
            assert.deepEqual(rs, new Int32Array(2).fill((k + 1) * p));
          }
        }
      });

      if (p === 3 || p === 4) {
        it('2^20 elements: every allreduce algorithm (Float64 sum), reduceScatter and allgather algorithms', async function () {
          const n = 1 << 20;
          const mine = (r: number): Float64Array => { const a = new Float64Array(n); for (let i = 0; i < n; i++) a[i] = (i & 1023) + r; return a; };
          const wantAt = (i: number): number => p * (i & 1023) + p * (p - 1) / 2;
          const check = (a: Float64Array, offset: number, what: string): void => {
            for (let i = 0; i < a.length; i++) if (a[i] !== wantAt(i + offset)) assert.fail(`${what}: element ${i + offset} is ${a[i]}, want ${wantAt(i + offset)}`);
          };
          const algs = p === 4 ? ALGORITHMS.allreduce : (['ring', 'rabenseifner'] as const);
          for (const alg of algs) {
            const comms = communicators(meshes, { COMMUNE_ALLREDUCE_ALGORITHM: alg });
            const res = await onAll(comms, (c) => c.allreduce(mine(c.rank), 'sum', { timeoutMs: 60000 }));
            res.forEach((a, r) => check(a, 0, `${alg} rank ${r}`));
          }
          for (const alg of ALGORITHMS.reduce_scatter) {
            const comms = communicators(meshes, { COMMUNE_REDUCE_SCATTER_ALGORITHM: alg });
            const res = await onAll(comms, (c) => c.reduceScatter(mine(c.rank), 'sum', { timeoutMs: 60000 }));
            res.forEach((a, r) => { const b = block(n, p, r); assert.equal(a.length, b.end - b.start); check(a, b.start, `${alg} rank ${r}`); });
          }
          const comms = communicators(meshes, { COMMUNE_ALLGATHER_ALGORITHM: 'ring' });
          const ag = await onAll(comms, (c) => c.allgather(new Uint8Array(n).fill(c.rank + 1), { timeoutMs: 60000 }));
          ag.forEach((all) => all.forEach((a, q) => assert.ok(a.length === n && a[0] === q + 1 && a[n - 1] === q + 1)));
        });
      }
    });
  }
});
