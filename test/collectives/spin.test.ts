import assert from 'node:assert/strict';
import type { Mesh } from '../../src/mesh/mesh.js';
import { UsageError } from '../../src/errors.js';
import type { Communicator } from '../../src/collectives/communicator.js';
import { DEFAULT_SPIN_US, spinBudgetUs, Spinner } from '../../src/collectives/spin.js';
import { startMeshes, closeAll } from '../support/meshes.js';
import { communicators } from './support.js';

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
      // Rank 1 enters a few loop turns after rank 0, which waits for it meanwhile.
      const lateSecond = async (comms: Communicator[]): Promise<number[]> => {
        const first = comms[0].allreduce(Float64Array.of(1), 'sum');
        for (let i = 0; i < 3; i++) await turn();
        const got = await Promise.all([first, comms[1].allreduce(Float64Array.of(2), 'sum')]);
        return got.map((a) => a[0]);
      };
      const on = communicators(meshes, { COMMUNE_SPIN_US: '5000000' });
      assert.deepEqual(await lateSecond(on), [3, 3]);
      assert.equal(on[0].spinner.budgetUs, 5000000);
      assert.ok(on[0].spinner.turns >= 3, `rank 0 polled while its allreduce waited (${on[0].spinner.turns} turns)`);
      await untilStopped(on[0].spinner);
      const off = communicators(meshes, { COMMUNE_SPIN_US: '0' });
      assert.deepEqual(await lateSecond(off), [3, 3]);
      assert.ok(off.every((c) => c.spinner.turns === 0 && !c.spinner.spinning));
      assert.throws(() => communicators(meshes, { COMMUNE_SPIN_US: 'lots' }), /COMMUNE_SPIN_US='lots'/);
    });
  });
});
