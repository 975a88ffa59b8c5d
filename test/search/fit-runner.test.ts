// The fit runners: a worker thread computes exactly what this thread computes (records and refit
// predictions, bit for bit), a failing group rejects with its message, and a closed thread refuses work.
import assert from 'node:assert/strict';
import { loadDigits, trainTestSplit, type Matrix, type TaskRecord } from '../../src/ml/index.js';
import { localRunner, threadRunner } from '../../src/search/fit-runner.js';
import type { FitWorkInit } from '../../src/search/fit-work.js';

describe('search: fit runners (this thread, a worker thread)', function () {
  const digits = loadDigits();
  const [XTrain, XTest, yTrain, yTest] = trainTestSplit(digits.data, digits.target, { testSize: 0.5, randomState: 0 }) as [Matrix, Matrix, Int32Array, Int32Array];
  const init: FitWorkInit = {
    grid: [{ kernel: ['rbf'], gamma: [1e-3], C: [1, 10] }, { kernel: ['linear'], C: [1] }], scoring: ['precision_macro', 'recall_macro'], cv: 3, svmBackend: 'smo',
    XTrain, yTrain, XTest, yTest,
  };
  const bits = (recs: TaskRecord[]): unknown => recs.map((r) => [r.task, Array.from(r.scores), r.error ?? null]);

  // Unsaturated first: a saturated node switches V8 to compiling on the fit threads for the rest of the process.
  for (const saturated of [false, true]) {
    it(`a worker thread gives the same plan, records and reports as this thread${saturated ? ' (saturated node: compiling on the thread)' : ''}`, async () => {
      const here = localRunner(init);
      const there = await threadRunner(init, saturated);
      try {
        assert.deepEqual(there.plan, here.plan);
        for (const g of here.plan.groups) assert.deepEqual(bits(await there.run([g.id])), bits(await here.run([g.id])));
        const whole = await here.predict(1, 0, 1);
        assert.deepEqual(await there.predict(1, 0, 1), whole);
        // Parts of the test set, predicted separately, join into the whole prediction.
        const parts = await Promise.all([0, 1, 2].map((k) => there.predict(1, k, 3)));
        assert.deepEqual(parts.map((p) => p.length), [300, 300, 299]);
        assert.deepEqual(Float64Array.from(parts.flatMap((p) => [...p])), whole);
      } finally {
        await there.close();
      }
      await assert.rejects(there.run([0]), /fit thread/);
    });
  }

  it('a group that throws rejects with its message; the thread keeps serving', async () => {
    const there = await threadRunner(init);
    try {
      await assert.rejects(there.run([99]), /./);
      assert.equal((await there.run([0])).length, there.plan.groups[0].tasks.length);
    } finally {
      await there.close();
    }
  });
});
