import assert from 'node:assert/strict';
import { ALGORITHMS, applicable, COLLECTIVES, overrideVariable, select } from '../../src/collectives/select.js';
import { readOverrides } from '../../src/collectives/overrides.js';
import { UsageError } from '../../src/errors.js';

describe('collectives/select: the pure selection table', function () {
  it('allreduce follows MPICH (≤ 2 KiB, user op or count < pof2 → recursive doubling; else Rabenseifner) and Open MPI for p < 4', () => {
    assert.equal(select('allreduce', 8, 8, true, true, 1), 'recursive_doubling');
    assert.equal(select('allreduce', 8, 2048, true, true, 256), 'recursive_doubling');
    assert.equal(select('allreduce', 8, 4096, true, true, 512), 'rabenseifner');
    assert.equal(select('allreduce', 8, 1 << 20, false, false, 1 << 17), 'recursive_doubling');
    assert.equal(select('allreduce', 8, 1 << 20, true, false, 1 << 17), 'recursive_doubling');
    assert.equal(select('allreduce', 256, 1 << 20, false, false, 1 << 17), 'reduce_bcast');
    assert.equal(select('allreduce', 16, 4096, true, true, 4), 'recursive_doubling');
    assert.equal(select('allreduce', 2, 64 << 10, true, true, 8192), 'ring');
    assert.equal(select('allreduce', 3, 1 << 20, true, true, 1 << 17), 'rabenseifner');
  });

  it('allgather: power-of-two p → recursive doubling below 512 KiB; other p → Bruck below 80 KiB; else ring', () => {
    assert.equal(select('allgather', 8, 1000, true), 'recursive_doubling');
    assert.equal(select('allgather', 8, 1 << 20, true), 'ring');
    assert.equal(select('allgather', 7, 1000, true), 'bruck');
    assert.equal(select('allgather', 7, 81920, true), 'ring');
  });

  it('reduce_scatter: commutative below 512 KiB → recursive halving, else pairwise; user ops → recursive doubling', () => {
    assert.equal(select('reduce_scatter', 5, 1000, true, true), 'recursive_halving');
    assert.equal(select('reduce_scatter', 5, 1 << 20, true, true), 'pairwise');
    assert.equal(select('reduce_scatter', 5, 1000, false, false), 'recursive_doubling');
  });

  it('single-algorithm collectives and applicability', () => {
    assert.equal(select('barrier', 5, 0, true), 'dissemination');
    for (const c of ['bcast', 'reduce', 'gather', 'scatter'] as const) assert.equal(select(c, 5, 1 << 20, true), 'binomial');
    assert.equal(applicable('allreduce', 'ring', 5, false), false);
    assert.equal(applicable('allgather', 'recursive_doubling', 6, true), false);
    assert.equal(applicable('allgather', 'recursive_doubling', 8, true), true);
    for (const c of COLLECTIVES) for (const a of ALGORITHMS[c]) assert.equal(typeof applicable(c, a, 4, true), 'boolean');
  });

  it('overrides: COMMUNE_<COLLECTIVE>_ALGORITHM, auto, and a clear error listing the valid names', () => {
    assert.equal(overrideVariable('reduce_scatter'), 'COMMUNE_REDUCE_SCATTER_ALGORITHM');
    assert.deepEqual(readOverrides({ COMMUNE_ALLREDUCE_ALGORITHM: 'ring', COMMUNE_BCAST_ALGORITHM: 'auto' }), { allreduce: 'ring' });
    assert.throws(() => readOverrides({ COMMUNE_ALLREDUCE_ALGORITHM: 'rign' }), (e: Error) =>
      e instanceof UsageError && /COMMUNE_ALLREDUCE_ALGORITHM=rign/.test(e.message) && /recursive_doubling, ring, rabenseifner, reduce_bcast, allgather_reduce/.test(e.message));
  });
});
