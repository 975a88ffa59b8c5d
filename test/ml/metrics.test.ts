import assert from 'node:assert/strict';
import { accuracyScore, confusionMatrix, f1Score, precisionRecallFscoreSupport, precisionScore, recallScore } from '../../src/ml/metrics.js';
import { classificationReport } from '../../src/ml/classificationReport.js';
import { getScorer, SCORER_NAMES } from '../../src/ml/scorers.js';
import { InvalidParameterError } from '../../src/ml/errors.js';

// Fixture: y_true[i] = 7i mod 5, y_pred[i] = (i² + 3) mod 6 for i < 40 (labels 2 never predicted).
// Expected values: scikit-learn 1.2.1 on the same lists (repr of the floats).
const yt = Array.from({ length: 40 }, (_, i) => (i * 7) % 5);
const yp = Array.from({ length: 40 }, (_, i) => (i * i + 3) % 6);

const AVG: Record<string, [number, number, number]> = {
  macro_0: [0.14945054945054945, 0.2, 0.1676190476190476],
  macro_1: [0.34945054945054943, 0.2, 0.1676190476190476],
  micro_0: [0.2, 0.2, 0.20000000000000004],
  weighted_0: [0.14945054945054945, 0.2, 0.1676190476190476],
  weighted_1: [0.34945054945054943, 0.2, 0.1676190476190476],
};

describe('ml/metrics', () => {
  for (const [key, [p, r, f]] of Object.entries(AVG)) {
    const [average, zd] = key.split('_') as ['macro' | 'micro' | 'weighted', string];
    it(`average=${average} zeroDivision=${zd} equals scikit-learn bit for bit`, () => {
      const z = Number(zd) as 0 | 1;
      assert.equal(precisionScore(yt, yp, { average, zeroDivision: z }), p);
      assert.equal(recallScore(yt, yp, { average, zeroDivision: z }), r);
      assert.equal(f1Score(yt, yp, { average, zeroDivision: z }), f);
    });
  }

  it("average=null gives per-label arrays; zeroDivision 'warn' acts as 0", () => {
    const res = precisionRecallFscoreSupport(yt, yp, { average: null });
    assert.deepEqual(Array.from(res.precision as Float64Array), [0.14285714285714285, 0.23076923076923078, 0, 0.14285714285714285, 0.23076923076923078]);
    assert.deepEqual(Array.from(res.recall as Float64Array), [0.125, 0.375, 0, 0.125, 0.375]);
    assert.deepEqual(Array.from(res.fScore as Float64Array), [0.13333333333333333, 0.2857142857142857, 0, 0.13333333333333333, 0.2857142857142857]);
    assert.deepEqual(Array.from(res.support!), [8, 8, 8, 8, 8]);
    assert.equal((precisionScore(yt, yp, { average: null, zeroDivision: 1 }) as Float64Array)[2], 1);
  });

  it('accuracy, confusion matrix and binary scores', () => {
    assert.equal(accuracyScore(yt, yp), 0.2);
    assert.equal(accuracyScore(yt, yp, false), 8);
    assert.deepEqual(confusionMatrix(yt, yp), [[1, 2, 0, 2, 3], [2, 3, 0, 1, 2], [1, 2, 0, 2, 3], [2, 3, 0, 1, 2], [1, 3, 0, 1, 3]]);
    const tb = Array.from({ length: 20 }, (_, i) => i % 2);
    const pb = Array.from({ length: 20 }, (_, i) => Math.floor(i / 3) % 2);
    assert.deepEqual([precisionScore(tb, pb), recallScore(tb, pb), f1Score(tb, pb)], [0.6666666666666666, 0.6, 0.631578947368421]);
    assert.throws(() => precisionScore(yt, yp), /multiclass/);
    assert.throws(() => precisionScore([1, 2], [1]), /same length/);
    assert.throws(() => precisionScore(yt, yp, { average: 'mean' as never }), InvalidParameterError);
  });

  it('classificationReport text equals scikit-learn (digits=2, half-even rounding: 0.125 → 0.12)', () => {
    assert.equal(classificationReport(yt, yp, { zeroDivision: 0 }),
      '              precision    recall  f1-score   support\n\n           0       0.14      0.12      0.13         8\n           1       0.23      0.38      0.29         8\n           2       0.00      0.00      0.00         8\n           3       0.14      0.12      0.13         8\n           4       0.23      0.38      0.29         8\n\n    accuracy                           0.20        40\n   macro avg       0.15      0.20      0.17        40\nweighted avg       0.15      0.20      0.17        40\n');
  });

  it('classificationReport with labels subset, names and digits=4 prints micro avg', () => {
    assert.equal(classificationReport(yt, yp, { digits: 4, labels: [0, 1, 2], targetNames: ['zero', 'one', 'two'], zeroDivision: 0 }),
      '              precision    recall  f1-score   support\n\n        zero     0.1429    0.1250    0.1333         8\n         one     0.2308    0.3750    0.2857         8\n         two     0.0000    0.0000    0.0000         8\n\n   micro avg     0.2000    0.1667    0.1818        24\n   macro avg     0.1245    0.1667    0.1397        24\nweighted avg     0.1245    0.1667    0.1397        24\n');
    assert.throws(() => classificationReport(yt, yp, { labels: [0, 1], targetNames: ['a'] }), /targetNames/);
  });

  it('scorers by name', () => {
    for (const n of ['accuracy', 'precision_macro', 'recall_macro', 'f1_macro', 'precision_micro', 'recall_weighted', 'f1_weighted']) assert.ok(SCORER_NAMES.includes(n));
    assert.equal(getScorer('precision_macro')(yt, yp), AVG.macro_0[0]);
    assert.equal(getScorer('f1_micro')(yt, yp), AVG.micro_0[2]);
    assert.equal(getScorer('accuracy')(yt, yp), 0.2);
    assert.throws(() => getScorer('precision_avg'), (e: unknown) => e instanceof InvalidParameterError && e.parameter === 'scoring');
  });
});
