import assert from 'node:assert/strict';
import { medianRows } from '../src/cli/bench.js';

// `commune bench collectives --reps R`: each side's rows are its median run, per collective and size.

const row = (collective: string, bytes: number, avgUs: number, run: number) => ({ collective, bytes, avgUs, run });

describe('bench collectives: median of alternating runs', () => {
  it('takes, per row, the run with the median Avg (each row on its own)', () => {
    const runs = [
      [row('allreduce', 8, 30, 1), row('allreduce', 1024, 90, 1), row('barrier', 0, 25, 1)],
      [row('allreduce', 8, 55, 2), row('allreduce', 1024, 70, 2), row('barrier', 0, 20, 2)],
      [row('allreduce', 8, 31, 3), row('allreduce', 1024, 80, 3), row('barrier', 0, 90, 3)],
    ];
    assert.deepEqual(medianRows(runs).map((r) => [r.collective, r.bytes, r.avgUs, r.run]), [
      ['allreduce', 8, 31, 3], ['allreduce', 1024, 80, 3], ['barrier', 0, 25, 1],
    ]);
  });

  it('one run is itself; an even count takes the lower middle; no runs, no rows', () => {
    const one = [[row('bcast', 8, 12, 1)]];
    assert.deepEqual(medianRows(one), one[0]);
    const two = [[row('bcast', 8, 12, 1)], [row('bcast', 8, 10, 2)]];
    assert.equal(medianRows(two)[0].run, 2);
    assert.deepEqual(medianRows([]), []);
  });
});
