import assert from 'node:assert/strict';
import type { Mesh } from '../../src/mesh/mesh.js';
import { ALGORITHMS } from '../../src/collectives/select.js';
import { startMeshes, closeAll } from '../support/meshes.js';
import { bytesOf, communicators, counts, DTYPES, onAll, PS } from './support.js';
import { CASE_OPS, contribution, expected, opFor } from './values.js';


describe('allreduce: p × algorithm × dtype × op × count against closed forms', function () {
  for (const p of PS) {
    describe(`p=${p}`, function () {
      let meshes: Mesh[] = [];
      before(async () => { ({ meshes } = await startMeshes(p)); });
      after(async () => { await closeAll(meshes); meshes = []; });

      for (const alg of ALGORITHMS.allreduce) {
        it(`COMMUNE_ALLREDUCE_ALGORITHM=${alg}`, async () => {
          const comms = communicators(meshes, { COMMUNE_ALLREDUCE_ALGORITHM: alg });
          const cases = DTYPES.flatMap((dtype) => CASE_OPS.flatMap((op) => counts(p).map((n) => ({ dtype, op, n }))));
          // All cases issued at once, in the same order on every rank: concurrency is part of the test.
          const results = await onAll(comms, (c) => Promise.all(cases.map((k) => c.allreduce(contribution(k.dtype, k.op, c.rank, k.n), opFor(k.op)))));
          cases.forEach((k, j) => {
            const want = bytesOf(expected(k.dtype, k.op, p, k.n));
            for (let r = 0; r < p; r++) {
              const got = results[r][j];
              assert.equal(got.constructor, k.dtype);
              if (!bytesOf(got).equals(want)) {
                assert.fail(`rank ${r}: ${k.dtype.name} ${k.op} n=${k.n}: got ${got.slice(0, 8)}… want ${expected(k.dtype, k.op, p, k.n).slice(0, 8)}…`);
              }
            }
          });
        });
      }
    });
  }
});
