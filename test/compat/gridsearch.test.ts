// dask-ml's GridSearchCV on the co-ordinator (4 real rank processes): with cv 5 and iid false it
// reproduces scikit-learn's published table and the single-process engine bit for bit; dask-ml's
// defaults (3 folds, iid weighting) match scikit-learn's split scores weighted by test-fold size;
// fits are shared across scorers and identical candidates.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { find, launch } from './support.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/compat-gridsearch.js', import.meta.url));
const LIN = (m: number, s: number): Array<[number, number, number]> => Array.from({ length: 4 }, () => [m, s, 8]);
// shared/reference/svm-and-sklearn.md §6
const PUBLISHED: Record<string, Array<[number, number, number]>> = {
  precision_macro: [[0.986347, 0.008205, 4], [0.959066, 0.014088, 12], [0.987997, 0.008267, 1], [0.982393, 0.012929, 7], [0.987997, 0.008267, 1], [0.983316, 0.012989, 5], [0.987997, 0.008267, 1], [0.983316, 0.012989, 5], ...LIN(0.973608, 0.005933)],
  recall_macro: [[0.985558, 0.00966, 4], [0.956585, 0.014114, 12], [0.98653, 0.009535, 1], [0.980631, 0.014063, 7], [0.98653, 0.009535, 1], [0.981955, 0.013215, 5], [0.98653, 0.009535, 1], [0.981955, 0.013215, 5], ...LIN(0.971227, 0.004889)],
};
// scikit-learn 1.2.1, GridSearchCV(SVC(), grid, scoring='precision_macro', cv=3) on the same split,
// then np.average over splits weighted by the test-fold sizes [300, 299, 299] (dask-ml's iid=True).
const IID_MEAN = [0.98267132, 0.95921348, 0.98510362, 0.98116299, 0.98510362, 0.98060924, 0.98510362, 0.98060924, 0.97567583, 0.97567583, 0.97567583, 0.97567583];
const IID_STD = [0.00745079, 0.01029229, 0.00717998, 0.00993404, 0.00717998, 0.00805979, 0.00717998, 0.00805979, 0.0014549, 0.0014549, 0.0014549, 0.0014549];

describe('compat: GridSearchCV(scheduler: client) (processes)', function () {
  this.timeout(180_000);
  let child: ChildProcess | undefined;
  afterEach(() => { if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });

  it('cv 5 / iid false = the published table and the single-process engine; dask-ml defaults; shared fits', async function () {
    const l = launch(4, FIXTURE, [], { timeoutMs: 170_000 });
    child = l.child;
    const r = await l.done;
    assert.equal(r.code, 0, r.stderr);
    const [{ value: v }] = find(r, 'RESULT', 1);
    for (const metric of ['precision_macro', 'recall_macro']) {
      const m = v[metric] as { cv: Record<string, number[]>; bestParams: unknown; bestIndex: number; bestScore: number; nTasks: number; nFits: number; sameAsLocal: boolean; report: string; localReport: string };
      assert.equal(m.sameAsLocal, true, `${metric}: cv_results_ differ from the single-process engine`);
      PUBLISHED[metric].forEach(([mean, std, rank], i) => {
        assert.ok(Math.abs(m.cv.mean_test_score[i] - mean) < 1e-6, `${metric} mean ${i}: ${m.cv.mean_test_score[i]} vs ${mean}`);
        assert.ok(Math.abs(m.cv.std_test_score[i] - std) < 1e-6, `${metric} std ${i}`);
        assert.equal(m.cv.rank_test_score[i], rank);
      });
      assert.deepEqual(m.bestParams, { C: 10, gamma: 0.001, kernel: 'rbf' });
      assert.equal(m.bestIndex, 2);
      assert.equal(m.nFits, 60);
      assert.equal(m.nTasks, 15, '3 kernels × 5 folds: one task per kernel-affinity group');
      assert.equal(m.report, m.localReport);
      assert.match(m.report, /accuracy {27}0\.99 {7}899/);
    }
    const d = v.defaults as { nSplits: number; cv: Record<string, number[]>; bestIndex: number; nTasks: number; nFits: number };
    assert.equal(d.nSplits, 3);
    assert.equal(d.nFits, 36);
    assert.equal(d.nTasks, 9);
    IID_MEAN.forEach((m, i) => {
      assert.ok(Math.abs(d.cv.mean_test_score[i] - m) < 1e-8, `iid mean ${i}: ${d.cv.mean_test_score[i]} vs ${m}`);
      assert.ok(Math.abs(d.cv.std_test_score[i] - IID_STD[i]) < 1e-8, `iid std ${i}`);
    });
    assert.equal(d.bestIndex, 2);
    // Unweighted and weighted means differ: the weighting is really applied.
    const unweighted = (d.cv.split0_test_score[0] + d.cv.split1_test_score[0] + d.cv.split2_test_score[0]) / 3;
    assert.notEqual(unweighted, d.cv.mean_test_score[0]);
    const multi = v.multi as { nTasks: number; nFits: number; bestIndex: number; cv: Record<string, number[]> };
    assert.equal(multi.nFits, 60, 'both scorers are computed from the same 60 fits');
    assert.equal(multi.nTasks, 15);
    assert.deepEqual(multi.cv.mean_test_precision_macro, (v.precision_macro as { cv: Record<string, number[]> }).cv.mean_test_score);
    assert.deepEqual(multi.cv.mean_test_recall_macro, (v.recall_macro as { cv: Record<string, number[]> }).cv.mean_test_score);
    const dup = v.dup as { nTasks: number; nFits: number; means: number[] };
    assert.equal(dup.nFits, 6, 'C=1 twice: 2 distinct candidates × 3 folds');
    assert.equal(dup.nTasks, 3);
    assert.equal(dup.means[0], dup.means[1]);
  });
});
