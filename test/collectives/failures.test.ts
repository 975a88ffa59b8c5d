import assert from 'node:assert/strict';
import type { Mesh } from '../../src/mesh/mesh.js';
import type { Communicator } from '../../src/collectives/communicator.js';
import { PeerTimeoutError } from '../../src/errors.js';
import { startMeshes, closeAll } from '../support/meshes.js';
import { communicators } from './support.js';

// Gloo's timeout test: one rank never enters; every rank that did must fail within its deadline
// with an error naming the absent rank — also ranks that were waiting on someone else, who was
// waiting on the absent rank.

const CALLS: [string, Record<string, string>, (c: Communicator, timeoutMs: number) => Promise<unknown>][] = [
  ['barrier', {}, (c, t) => c.barrier({ timeoutMs: t })],
  ['allreduce (recursive doubling)', { COMMUNE_ALLREDUCE_ALGORITHM: 'recursive_doubling' }, (c, t) => c.allreduce(new Float64Array([c.rank]), 'sum', { timeoutMs: t })],
  ['allreduce (ring)', { COMMUNE_ALLREDUCE_ALGORITHM: 'ring' }, (c, t) => c.allreduce(new Float64Array(64), 'sum', { timeoutMs: t })],
  ['bcast from rank 0', {}, (c, t) => c.bcast(c.rank === 0 ? 'v' : undefined, 0, { timeoutMs: t })],
  ['allgather (bruck)', { COMMUNE_ALLGATHER_ALGORITHM: 'bruck' }, (c, t) => c.allgather(c.rank, { timeoutMs: t })],
  ['reduceScatter (recursive halving)', {}, (c, t) => c.reduceScatter(new Int32Array(10), 'sum', { timeoutMs: t })],
];

describe('collectives: a rank that never enters makes every other rank fail, naming it', function () {
  for (const [p, absent] of [[4, 2], [5, 4], [5, 0]] as const) {
    describe(`p=${p}, rank ${absent} absent`, function () {
      let meshes: Mesh[] = [];
      before(async () => { ({ meshes } = await startMeshes(p)); });
      after(async () => { await closeAll(meshes); meshes = []; });

      for (const [name, env, call] of CALLS) {
        it(name, async () => {
          const comms = communicators(meshes, env);
          const timeoutMs = 800;
          const outcomes = await Promise.allSettled(comms.filter((c) => c.rank !== absent).map((c) => call(c, timeoutMs)));
          for (const [i, o] of outcomes.entries()) {
            const r = comms.filter((c) => c.rank !== absent)[i].rank;
            // bcast: ranks whose subtree does not contain the absent rank may legitimately finish.
            if (o.status === 'fulfilled') { assert.match(name, /bcast/, `rank ${r} should have failed`); continue; }
            assert.ok(o.reason instanceof PeerTimeoutError, `rank ${r}: ${o.reason}`);
            assert.equal(o.reason.rank, absent, `rank ${r} blamed rank ${o.reason.rank}: ${o.reason.message}`);
            assert.match(o.reason.message, new RegExp(`rank ${absent}`));
          }
          if (!/bcast/.test(name)) assert.ok(outcomes.every((o) => o.status === 'rejected'));
        });
      }
    });
  }
});
