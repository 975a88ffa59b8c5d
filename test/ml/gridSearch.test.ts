import assert from 'node:assert/strict';
import { loadDigits } from '../../src/ml/digitsFile.js';
import { trainTestSplit } from '../../src/ml/split.js';
import { SVC } from '../../src/ml/svc.js';
import { GridSearchCV, SearchCache, localEngine, type SearchEngine } from '../../src/ml/gridSearch.js';
import { classificationReport } from '../../src/ml/classificationReport.js';
import { pyDictRepr } from '../../src/ml/pyFormat.js';
import { InvalidParameterError } from '../../src/ml/errors.js';
import type { Matrix } from '../../src/ml/matrix.js';
import { assignGroups, makeSearchPlan } from '../../src/ml/searchPlan.js';
import { ParameterGrid, type ParamGridSpec } from '../../src/ml/parameterGrid.js';

// The seed example (shared/reference/svm-and-sklearn.md §6): published means, stds, ranks.
const GRID: ParamGridSpec[] = [{ kernel: ['rbf'], gamma: [1e-3, 1e-4], C: [1, 10, 100, 1000] }, { kernel: ['linear'], C: [1, 10, 100, 1000] }];
const LIN = (m: number, s: number): Array<[number, number, number]> => Array.from({ length: 4 }, () => [m, s, 8]);
const PUBLISHED: Record<string, Array<[number, number, number]>> = {
  precision_macro: [[0.986347, 0.008205, 4], [0.959066, 0.014088, 12], [0.987997, 0.008267, 1], [0.982393, 0.012929, 7], [0.987997, 0.008267, 1], [0.983316, 0.012989, 5], [0.987997, 0.008267, 1], [0.983316, 0.012989, 5], ...LIN(0.973608, 0.005933)],
  recall_macro: [[0.985558, 0.00966, 4], [0.956585, 0.014114, 12], [0.98653, 0.009535, 1], [0.980631, 0.014063, 7], [0.98653, 0.009535, 1], [0.981955, 0.013215, 5], [0.98653, 0.009535, 1], [0.981955, 0.013215, 5], ...LIN(0.971227, 0.004889)],
};
const PRINTED_PRECISION = [
  "0.986 (+/-0.016) for {'C': 1, 'gamma': 0.001, 'kernel': 'rbf'}",
  "0.959 (+/-0.028) for {'C': 1, 'gamma': 0.0001, 'kernel': 'rbf'}",
  "0.988 (+/-0.017) for {'C': 10, 'gamma': 0.001, 'kernel': 'rbf'}",
  "0.982 (+/-0.026) for {'C': 10, 'gamma': 0.0001, 'kernel': 'rbf'}",
];
const REPORT = `              precision    recall  f1-score   support

           0       1.00      1.00      1.00        89
           1       0.97      1.00      0.98        90
           2       0.99      0.98      0.98        92
           3       1.00      0.99      0.99        93
           4       1.00      1.00      1.00        76
           5       0.99      0.98      0.99       108
           6       0.99      1.00      0.99        89
           7       0.99      1.00      0.99        78
           8       1.00      0.98      0.99        92
           9       0.99      0.99      0.99        92

    accuracy                           0.99       899
   macro avg       0.99      0.99      0.99       899
weighted avg       0.99      0.99      0.99       899
`;

describe('ml/GridSearchCV on the seed example', function () {
  this.timeout(60000);
  const d = loadDigits();
  const [Xtr, Xte, ytr, yte] = trainTestSplit(d.data, d.target, { testSize: 0.5, randomState: 0 }) as [Matrix, Matrix, Int32Array, Int32Array];
  let multi: GridSearchCV;
  let single: GridSearchCV;
  let shared: SearchCache;
  before(async () => {
    // `multi` computes every fit; `single` shares its cache and reuses them (and must agree exactly).
    shared = new SearchCache(Xtr);
    multi = await new GridSearchCV(new SVC(), GRID, { scoring: ['precision_macro', 'recall_macro'], refit: 'recall_macro', cache: shared }).fit(Xtr, ytr);
    single = await new GridSearchCV(new SVC(), GRID, { scoring: 'precision_macro', cache: shared }).fit(Xtr, ytr);
  });

  for (const metric of ['precision_macro', 'recall_macro']) {
    it(`${metric}: every mean and std within 1e-6 of the published table, ranks equal`, () => {
      const r = multi.cvResults_!;
      const mean = r[`mean_test_${metric}`] as Float64Array;
      const std = r[`std_test_${metric}`] as Float64Array;
      const rank = r[`rank_test_${metric}`] as Int32Array;
      PUBLISHED[metric].forEach(([m, s, k], i) => {
        assert.ok(Math.abs(mean[i] - m) < 1e-6, `mean ${i}: ${mean[i]} vs ${m}`);
        assert.ok(Math.abs(std[i] - s) < 1e-6, `std ${i}: ${std[i]} vs ${s}`);
        assert.equal(rank[i], k, `rank ${i}`);
      });
      // The C=10/100/1000 rows at gamma=1e-3 tie exactly, split by split.
      for (let s = 0; s < 5; s++) {
        const sp = r[`split${s}_test_${metric}`] as Float64Array;
        assert.equal(sp[2], sp[4]);
        assert.equal(sp[2], sp[6]);
      }
    });
  }

  it('single metric: best index 2 (first of the three-way tie), best params, score and printed lines', () => {
    assert.equal(single.bestIndex_, 2);
    assert.equal(pyDictRepr(single.bestParams_!), "{'C': 10, 'gamma': 0.001, 'kernel': 'rbf'}");
    assert.ok(Math.abs(single.bestScore_! - 0.987997) < 1e-6);
    const r = single.cvResults_!;
    assert.deepEqual(Object.keys(r), ['mean_fit_time', 'std_fit_time', 'mean_score_time', 'std_score_time', 'param_C', 'param_gamma', 'param_kernel', 'params',
      'split0_test_score', 'split1_test_score', 'split2_test_score', 'split3_test_score', 'split4_test_score', 'mean_test_score', 'std_test_score', 'rank_test_score']);
    assert.deepEqual(r.param_gamma, [0.001, 0.0001, 0.001, 0.0001, 0.001, 0.0001, 0.001, 0.0001, undefined, undefined, undefined, undefined]);
    const mean = r.mean_test_score as Float64Array;
    const std = r.std_test_score as Float64Array;
    const lines = (r.params as object[]).slice(0, 4).map((p, i) => `${mean[i].toFixed(3)} (+/-${(std[i] * 2).toFixed(3)}) for ${pyDictRepr(p as Record<string, unknown>)}`);
    assert.deepEqual(lines, PRINTED_PRECISION);
    // The same fits serve both metrics: the single-metric scores equal the multi-metric precision scores.
    assert.deepEqual(Array.from(mean), Array.from(multi.cvResults_!.mean_test_precision_macro as Float64Array));
    assert.ok((r.mean_fit_time as Float64Array).every((t) => t >= 0));
  });

  it('multi-metric: key order, refit by the named metric, classification report identical', () => {
    const keys = Object.keys(multi.cvResults_!);
    assert.deepEqual(keys.slice(8, 16), ['split0_test_precision_macro', 'split1_test_precision_macro', 'split2_test_precision_macro', 'split3_test_precision_macro', 'split4_test_precision_macro', 'mean_test_precision_macro', 'std_test_precision_macro', 'rank_test_precision_macro']);
    assert.equal(keys[keys.length - 1], 'rank_test_recall_macro');
    assert.equal(multi.bestIndex_, 2);
    assert.ok(Math.abs(multi.bestScore_! - 0.98653) < 1e-6);
    assert.equal(classificationReport(yte, multi.predict(Xte)), REPORT);
    assert.equal(classificationReport(yte, single.predict(Xte)), REPORT);
    assert.ok(Math.abs(single.score(Xte, yte) - 0.9913) < 1e-4); // macro precision on the test half
  });

  it('a custom engine sees the plan and may run groups in any order: same results', async () => {
    let seenGroups = 0;
    const reversed: SearchEngine = async (plan, run) => {
      seenGroups = plan.groups.length;
      const ids = plan.groups.map((g) => g.id).reverse();
      return [...run(ids.slice(0, 3)), ...run(ids.slice(3))];
    };
    const grid = { kernel: ['rbf'], gamma: [1e-3], C: [1, 10] };
    const a = await new GridSearchCV(new SVC(), grid, { scoring: 'recall_macro', cv: 3, engine: reversed }).fit(Xtr, ytr);
    const b = await new GridSearchCV(new SVC(), grid, { scoring: 'recall_macro', cv: 3, engine: localEngine }).fit(Xtr, ytr);
    assert.equal(seenGroups, 3); // one group per split: both C share the gamma=1e-3 kernel
    for (const k of ['split0_test_score', 'mean_test_score', 'std_test_score', 'rank_test_score']) assert.deepEqual(a.cvResults_![k], b.cvResults_![k]);
  });

  it('the ml-svm backend agrees with the default on best parameters and refit predictions (reduced grid; ml-svm is slow)', async () => {
    const grid = { kernel: ['rbf'], gamma: [1e-3, 1e-4], C: [1, 10] };
    const viaMl = await new GridSearchCV(new SVC({ backend: 'ml-svm' }), grid, { scoring: 'precision_macro', cv: 3 }).fit(Xtr, ytr);
    const viaSmo = await new GridSearchCV(new SVC(), grid, { scoring: 'precision_macro', cv: 3 }).fit(Xtr, ytr);
    assert.deepEqual(viaMl.bestParams_, viaSmo.bestParams_);
    assert.deepEqual(viaMl.bestParams_, { C: 10, gamma: 0.001, kernel: 'rbf' });
    const a = viaMl.predict(Xte);
    const b = viaSmo.predict(Xte);
    assert.ok(a.filter((v, i) => v === b[i]).length >= 895, 'refit predictions agree on nearly every test sample');
  });

  it('rejects bad configurations before any fit', () => {
    assert.throws(() => new GridSearchCV(new SVC(), { C: [1], kernal: ['rbf'] } as never), (e: unknown) => e instanceof InvalidParameterError);
    assert.throws(() => new GridSearchCV(new SVC(), GRID, { scoring: 'precision_avg' }), /scoring/);
    assert.throws(() => new GridSearchCV(new SVC(), GRID, { scoring: ['precision_macro', 'recall_macro'] }), /refit/);
    assert.throws(() => new GridSearchCV(new SVC(), GRID, { scoring: ['accuracy'], refit: 'f1_macro' }), /refit/);
    assert.throws(() => new GridSearchCV(new SVC(), GRID, { n_jobs: 2 } as never), /n_jobs/);
    assert.throws(() => new GridSearchCV(new SVC(), { C: [1, 0] }), /'C'/);
    assert.ok(shared.memo.hits >= 60 * 45, 'the second search reused the first one\'s solutions');
    return Promise.all([
      assert.rejects(new GridSearchCV(new SVC(), { C: [1] }).fit(Xtr, ytr.subarray(1)), /898 rows but y has 897/),
      assert.rejects(new GridSearchCV(new SVC(), { C: [1] }, { cache: shared }).fit(Xte, yte), /different X/),
    ]);
  });
});

describe('ml/searchPlan', () => {
  const candidates = new ParameterGrid(GRID).toArray();
  const plan = makeSearchPlan({ candidates, nSplits: 5, scoring: ['precision_macro', 'recall_macro'], nFeatures: 64 });

  it('one fit per (candidate, split) for all scorers, grouped by split and kernel matrix', () => {
    assert.equal(plan.tasks.length, 60);
    assert.equal(plan.groups.length, 15); // 5 splits × {rbf γ=1e-3, rbf γ=1e-4, linear}
    for (const g of plan.groups) for (const t of g.tasks) {
      assert.equal(plan.tasks[t].split, g.split);
      assert.equal(plan.tasks[t].kernelKey, g.kernelKey);
    }
    assert.deepEqual(plan.groups.map((g) => g.tasks.length).sort(), new Array(15).fill(4));
  });

  it('duplicate candidates share fits; the plan is a pure function of its input', () => {
    const dup = makeSearchPlan({ candidates: [{ C: 1 }, { C: 2 }, { C: 1 }], nSplits: 3, scoring: ['accuracy'] });
    assert.equal(dup.tasks.length, 6);
    assert.equal(dup.taskOf[2 * 3 + 1], dup.taskOf[0 * 3 + 1]);
    assert.deepEqual(makeSearchPlan({ candidates, nSplits: 5, scoring: ['precision_macro', 'recall_macro'], nFeatures: 64 }), plan);
    assert.throws(() => makeSearchPlan({ candidates: [{ gamma: -1 }], nSplits: 2, scoring: ['accuracy'] }), /'gamma'/);
  });

  it('assignGroups covers every group once, balances cost, and is deterministic', () => {
    for (const size of [1, 2, 3, 4, 7, 16]) {
      const parts = assignGroups(plan, size);
      assert.equal(parts.length, size);
      assert.deepEqual(parts.flat().sort((a, b) => a - b), plan.groups.map((g) => g.id));
      const loads = parts.map((p) => p.reduce((s, g) => s + plan.groups[g].cost, 0));
      assert.ok(Math.max(...loads) - Math.min(...loads) <= 4, `size ${size}: loads ${loads}`);
      assert.deepEqual(assignGroups(plan, size), parts);
    }
  });
});
