import assert from 'node:assert/strict';
import type { Mesh } from '../../src/mesh/mesh.js';
import type { Communicator } from '../../src/collectives/communicator.js';
import { ALGORITHMS } from '../../src/collectives/select.js';
import type { ReduceArray, UserOp } from '../../src/collectives/types.js';
import { startMeshes, closeAll } from '../support/meshes.js';
import { bytesOf, communicators, DTYPES, onAll } from './support.js';
import { CASE_OPS, contribution, expected, opFor } from './values.js';

// The allreduce algorithms read the caller's array without copying it and receive into their result
// (posted receives). These tests pin what that must not change: the caller's array is never modified,
// and the result's bits do not depend on whether a message arrived before or after its receive was posted.

type Num = (number | bigint)[];

/** Elementwise sums that reuse an operand in place, as the UserOp contract allows. */
const sumIntoA: UserOp = {
  name: 'sumIntoA', commutative: true,
  fn: (a, b) => { const x = a as unknown as Num, y = b as unknown as Num; for (let i = 0; i < a.length; i++) x[i] = (x[i] as number) + (y[i] as number); return a; },
};
const sumIntoB: UserOp = {
  name: 'sumIntoB', commutative: false,
  fn: (a, b) => { const x = a as unknown as Num, y = b as unknown as Num; for (let i = 0; i < a.length; i++) y[i] = (x[i] as number) + (y[i] as number); return b; },
};

// MPICH allred_float-style values: the sum depends on the order of the additions.
function floats(r: number, n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => { const k = (i + r) % 5; return k === 0 ? 1e16 : k === 1 ? -1e16 : 1e-2 * (1 + ((i * 13 + r) % 7)); });
}

describe('collectives: caller arrays are never modified; posted and unexpected receives give the same bits', function () {
  for (const p of [2, 3, 5]) {
    describe(`p=${p}`, function () {
      let meshes: Mesh[] = [];
      before(async () => { ({ meshes } = await startMeshes(p)); });
      after(async () => { await closeAll(meshes); meshes = []; });

      it('allreduce (every algorithm, reproducible too), reduce and reduceScatter leave every input array as it was', async () => {
        for (const alg of ALGORITHMS.allreduce) {
          const comms = communicators(meshes, { COMMUNE_ALLREDUCE_ALGORITHM: alg });
          for (const dtype of DTYPES) {
            for (const op of CASE_OPS) {
              for (const n of [1, 100, 10000]) {
                const inputs = comms.map((c) => contribution(dtype, op, c.rank, n).slice());
                const pristine = inputs.map((a) => a.slice());
                const got = await onAll(comms, (c) => c.allreduce(inputs[c.rank], opFor(op)));
                const want = bytesOf(expected(dtype, op, p, n));
                for (let r = 0; r < p; r++) {
                  assert.ok(bytesOf(got[r]).equals(want), `${alg} ${dtype.name} ${op} n=${n}: rank ${r}'s result`);
                  assert.ok(bytesOf(inputs[r]).equals(bytesOf(pristine[r])), `${alg} ${dtype.name} ${op} n=${n}: rank ${r}'s input was modified`);
                  assert.notEqual(got[r].buffer, inputs[r].buffer, 'the result is a new array');
                }
              }
            }
            // User ops that reuse an operand in place must still not reach the caller's memory.
            for (const uop of [sumIntoA, sumIntoB]) {
              const inputs = comms.map((c) => contribution(dtype, 'sum', c.rank, 1000).slice());
              const pristine = inputs.map((a) => a.slice());
              const want = bytesOf(expected(dtype, 'sum', p, 1000));
              const runs: Array<(c: Communicator) => Promise<ReduceArray | undefined>> = [
                (c) => c.allreduce(inputs[c.rank], uop),
                (c) => c.allreduce(inputs[c.rank], uop, { reproducible: true }),
                (c) => c.reduce(inputs[c.rank], uop, p - 1),
                (c) => c.reduceScatter(inputs[c.rank], uop),
              ];
              for (const [k, run] of runs.entries()) {
                const got = await onAll(comms, run);
                if (k < 2) for (let r = 0; r < p; r++) assert.ok(bytesOf(got[r]!).equals(want), `${alg} ${uop.name} run ${k}: rank ${r}'s result`);
                for (let r = 0; r < p; r++) assert.ok(bytesOf(inputs[r]).equals(bytesOf(pristine[r])), `${alg} ${dtype.name} ${uop.name} run ${k}: rank ${r}'s input was modified`);
              }
            }
          }
        }
      });

      it('the same bits whether a rank posts its receives before the others send or finds their messages already queued', async () => {
        const n = 131072 + 3; // 1 MiB and a little: blocks of unequal length
        const late = p - 1;
        const mb = (meshes[late] as unknown as { mailbox: { claim: (...a: unknown[]) => unknown } }).mailbox;
        const claim = mb.claim.bind(mb);
        let claimed = 0;
        mb.claim = (...a: unknown[]) => { const d = claim(...a); if (d) claimed++; return d; };
        try {
          for (const alg of ['ring', 'rabenseifner', 'recursive_doubling'] as const) {
            const comms = communicators(meshes, { COMMUNE_ALLREDUCE_ALGORITHM: alg });
            const inputs = comms.map((c) => floats(c.rank, n));
            // Posted: the late rank enters first and is waiting when the others' messages come.
            claimed = 0;
            const lateFirst = comms[late].allreduce(inputs[late], 'sum');
            await new Promise<void>((resolve) => setImmediate(resolve)); // its receives are posted by now
            const posted = await Promise.all([...comms.slice(0, late).map((c) => c.allreduce(inputs[c.rank], 'sum')), lateFirst]);
            const claimedPosted = claimed;
            // Unexpected: the others enter first and tell the late rank, on the same channel, after their
            // first messages; it enters once told, so those messages are already queued there.
            const tag = `posted-test/${alg}`;
            const others = comms.slice(0, late).map(async (c) => {
              const res = c.allreduce(inputs[c.rank], 'sum');
              await new Promise<void>((resolve) => setImmediate(resolve));
              await meshes[c.rank].send(late, tag, null);
              return res;
            });
            const lateLast = (async () => {
              await Promise.all(comms.slice(0, late).map((c) => meshes[late].recv(c.rank, tag)));
              return comms[late].allreduce(inputs[late], 'sum');
            })();
            const unexpected = await Promise.all([...others, lateLast]);
            const want = bytesOf(posted[0]);
            for (let r = 0; r < p; r++) {
              assert.ok(bytesOf(posted[r]).equals(want), `${alg}: rank ${r} (posted) differs from rank 0`);
              assert.ok(bytesOf(unexpected[r]).equals(want), `${alg}: rank ${r} (messages already queued) differs`);
            }
            if ((process.env.COMMUNE_DATA_PLANE ?? 'direct') !== 'libp2p') assert.ok(claimedPosted > 0, `${alg}: no receive landed in a posted array`);
          }
        } finally {
          mb.claim = claim;
        }
      });
    });
  }
});

describe('collectives: a posted receive of the wrong size', function () {
  let meshes: Mesh[] = [];
  before(async () => { ({ meshes } = await startMeshes(2)); });
  after(async () => { await closeAll(meshes); meshes = []; });

  it('ranks passing different lengths fail with an operand mismatch, never a wrong result, and leave nothing posted', async () => {
    const { OperandMismatchError } = await import('../../src/collectives/errors.js');
    for (const alg of ['ring', 'rabenseifner', 'recursive_doubling'] as const) {
      const comms = communicators(meshes, { COMMUNE_ALLREDUCE_ALGORITHM: alg }, { timeoutMs: 1500 });
      const settled = await Promise.allSettled(comms.map((c) => c.allreduce(floats(c.rank, 100000 + c.rank), 'sum')));
      assert.ok(settled.every((s) => s.status === 'rejected'), `${alg}: no rank may get a result`);
      assert.ok(settled.some((s) => s.status === 'rejected' && s.reason instanceof OperandMismatchError), `${alg}: ${settled.map((s) => (s as PromiseRejectedResult).reason?.message).join(' | ')}`);
      for (const m of meshes) assert.equal((m as unknown as { mailbox: { posts: Map<string, unknown> } }).mailbox.posts.size, 0, `${alg}: a destination is still posted`);
    }
  });
});
