import assert from 'node:assert/strict';
import type { Mesh } from '../../src/mesh/mesh.js';
import { UsageError } from '../../src/errors.js';
import { DEFAULT_SPIN_US, spinBudgetUs, Spinner } from '../../src/collectives/spin.js';
import { startMeshes, closeAll } from '../support/meshes.js';
import { communicators, onAll } from './support.js';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Event-loop turns until the spinner stops (bounded, so a spinner that never stops fails the test). */
async function untilStopped(s: Spinner, limitMs = 2000): Promise<number> {
  const t0 = performance.now();
  while (s.spinning) {
    if (performance.now() - t0 > limitMs) throw new Error(`still spinning after ${limitMs} ms`);
    await turn();
  }
  return performance.now() - t0;
}

describe('collectives: polling while a collective waits (spin.ts)', function () {
  it('the budget: COMMUNE_SPIN_US, else the default, else 0 when the node has more ranks than cores', () => {
    assert.equal(spinBudgetUs(undefined, 2, 2), DEFAULT_SPIN_US);
    assert.equal(spinBudgetUs(' ', 1, 2), DEFAULT_SPIN_US);
    assert.equal(spinBudgetUs(undefined, 3, 2), 0);
    assert.equal(spinBudgetUs('250', 3, 2), 250, 'an explicit budget applies even when oversubscribed');
    assert.equal(spinBudgetUs('0', 1, 2), 0);
    for (const bad of ['-5', '1.5', 'fast', '1e3']) {
      assert.throws(() => spinBudgetUs(bad, 1, 2), (e: Error) => e instanceof UsageError && e.message.includes(`COMMUNE_SPIN_US='${bad}'`) && /use 0 to never spin/.test(e.message));
    }
  });

  it('spins while held, stops when the last hold ends, and never past the budget', async () => {
    const s = new Spinner(60_000_000);
    const a = s.hold(), b = s.hold();
    assert.ok(s.spinning);
    for (let i = 0; i < 5; i++) await turn();
    assert.ok(s.turns >= 3, `the loop polled (${s.turns} turns)`);
    a();
    a(); // a second release of the same hold changes nothing
    await turn(); await turn();
    assert.ok(s.spinning, 'one hold is still active');
    b();
    await untilStopped(s);

    const short = new Spinner(2000);
    short.hold(); // never released: the budget alone ends the spin
    const took = await untilStopped(short);
    assert.ok(took >= 1.5, `spun ${took.toFixed(2)} ms, about its 2 ms budget`);

    const off = new Spinner(0);
    off.hold();
    assert.equal(off.spinning, false, 'a zero budget never spins');
  });

  describe('in a communicator', function () {
    let meshes: Mesh[] = [];
    before(async () => { ({ meshes } = await startMeshes(2)); });
    after(async () => { await closeAll(meshes); meshes = []; });

    it('collectives spin with a budget and not with COMMUNE_SPIN_US=0; a bad value is refused at construction', async () => {
      const on = communicators(meshes, { COMMUNE_SPIN_US: '5000' });
      await onAll(on, (c) => c.allreduce(Float64Array.of(c.rank), 'sum'));
      assert.ok(on.every((c) => c.spinner.budgetUs === 5000 && c.spinner.turns > 0), 'each rank polled while its allreduce waited');
      const off = communicators(meshes, { COMMUNE_SPIN_US: '0' });
      const got = await onAll(off, (c) => c.allreduce(Float64Array.of(c.rank + 1), 'sum'));
      assert.deepEqual(got.map((a) => a[0]), [3, 3]);
      assert.ok(off.every((c) => c.spinner.turns === 0 && !c.spinner.spinning));
      assert.throws(() => communicators(meshes, { COMMUNE_SPIN_US: 'lots' }), /COMMUNE_SPIN_US='lots'/);
    });
  });
});
