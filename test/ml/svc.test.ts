import assert from 'node:assert/strict';
import { loadDigits } from '../../src/ml/digitsFile.js';
import { SVC } from '../../src/ml/svc.js';
import { KernelCache } from '../../src/ml/kernel.js';
import { Matrix } from '../../src/ml/matrix.js';
import { trainTestSplit } from '../../src/ml/split.js';
import { InvalidParameterError, NotFittedError } from '../../src/ml/errors.js';

const digits = loadDigits();
const first = (n: number, from = 0): Int32Array => Int32Array.from({ length: n }, (_, i) => from + i);

describe('ml/SVC (libsvm-equivalent SMO)', () => {
  it('two points, linear kernel: α = 0.5, w = −1, intercept 1 (worked by hand)', () => {
    // Dual: min ½·4α² − 2α with α₁ = α₂ → α = 0.5; f(x) = −0.5·0·x + ... = −x + 1.
    const m = new SVC({ kernel: 'linear', C: 1 }).fit([[0], [2]], [0, 1]);
    assert.deepEqual(Array.from(m.dualCoef_), [0.5, -0.5]);
    assert.deepEqual(Array.from(m.intercept_), [1]);
    assert.deepEqual(Array.from(m.predict([[-1], [0.9], [1.1], [3]])), [0, 0, 1, 1]);
    // f(1) = 0 exactly: libsvm gives 0 to the second class of the pair.
    assert.deepEqual(Array.from(m.predict([[1]])), [1]);
    assert.deepEqual(Array.from(m.decisionFunction([[0], [2]]).data), [1, -1]);
  });

  it('C bounds α: a non-separable pair puts both α at C', () => {
    const m = new SVC({ kernel: 'linear', C: 0.1 }).fit([[0], [1], [0.5], [0.6]], [0, 1, 1, 0]);
    for (const a of m.dualCoef_) assert.ok(Math.abs(a) <= 0.1 + 1e-15);
  });

  it('three classes: one-vs-one voting, labels kept as given', () => {
    const X = [[0, 0], [0, 1], [5, 5], [5, 6], [10, 0], [10, 1]];
    const y = [7, 7, 3, 3, 9, 9];
    const m = new SVC({ kernel: 'linear', C: 10 }).fit(X, y);
    assert.deepEqual(Array.from(m.classes_), [3, 7, 9]);
    assert.deepEqual(Array.from(m.predict(X)), y);
    assert.deepEqual(Array.from(m.predict([[0, 0.5], [5, 5.5], [10, 0.5]])), [7, 3, 9]);
    assert.equal(m.decisionFunction(X).cols, 3);
  });

  // scikit-learn 1.2.1: SVC(**cfg).fit(X[:300], y[:300]) on load_digits(); n_support_, intercept_[:3],
  // _gamma and predict(X[300:400]).
  const REF = [
    { cfg: { kernel: 'rbf', gamma: 'scale', C: 1.0 }, nsv: [18, 22, 24, 16, 23, 21, 13, 21, 27, 23], icpt: [-0.3007413429814061, -0.3338521910587613, -0.1296256472946661], pred: '7351002279201263373346664985095282001763217463139176843840536968754472822579548849089301234569890129', gamma: 0.00042141765323037186 },
    { cfg: { kernel: 'rbf', gamma: 'auto', C: 3.0 }, nsv: [31, 30, 29, 29, 29, 32, 29, 29, 31, 31], icpt: [0.003407597737098295, 0.01108332824607205, 0.02343493194391585], pred: '5555005555205555555555555515095555505555555455555556555555556555555555555555555545585555555555590555', gamma: 0.015625 },
    { cfg: { kernel: 'linear', C: 0.01 }, nsv: [17, 19, 17, 14, 19, 19, 11, 16, 25, 21], icpt: [-0.46117743358083857, -0.41064533117017976, -0.22142288832302484], pred: '7351002279201263373346664915095282001763217463139176843140536961754472822579548849089301234569890129', gamma: 0.00042141765323037186 },
    { cfg: { kernel: 'poly', degree: 2, gamma: 0.01, coef0: 1.0, C: 1.0 }, nsv: [13, 18, 19, 13, 19, 20, 9, 16, 23, 25], icpt: [-0.16727007931129065, -0.4050601655908358, -0.31261900330359443], pred: '7351002279201263373346664915095282001763217463139176843840536961754472822579548849089301234569890129', gamma: 0.01 },
    { cfg: { kernel: 'sigmoid', gamma: 0.0001, coef0: -0.5, C: 10.0 }, nsv: [16, 19, 19, 13, 19, 20, 11, 17, 25, 21], icpt: [-0.4051456281130072, -0.40156114689913525, -0.252754794909486], pred: '7351002279201263373346664985095282001763217463139176843840536968754472822579548849089301234569890129', gamma: 0.0001 },
  ] as const;
  for (const r of REF) {
    it(`${JSON.stringify(r.cfg)} on digits[:300] equals scikit-learn (support, intercepts, predictions)`, () => {
      const Xa = digits.data.takeRows(first(300));
      const ya = digits.target.subarray(0, 300);
      const m = new SVC(r.cfg as never).fit(Xa, ya);
      if (r.cfg.kernel !== 'linear') assert.equal(m.gamma_, r.gamma);
      assert.deepEqual(Array.from(m.nSupport_), r.nsv);
      Array.from(m.intercept_.subarray(0, 3)).forEach((v, k) => assert.ok(Math.abs(v - r.icpt[k]) < 1e-9, `intercept ${k}: ${v} vs ${r.icpt[k]}`));
      const p = m.predict(digits.data.takeRows(first(100, 300)));
      assert.equal(Array.from(p).join(''), r.pred);
      // The cached path (kernel rows from one shared matrix) predicts the same.
      const cache = new KernelCache(digits.data.takeRows(first(400)));
      const mc = new SVC(r.cfg as never).fitRows(cache, first(300), ya);
      assert.deepEqual(Array.from(mc.predictRows(cache, first(100, 300))), Array.from(p));
      assert.deepEqual(Array.from(mc.intercept_), Array.from(m.intercept_));
    });
  }

  it("gamma 'scale' on the seed training half is 1/(64·X.var()) = 4.2967e-4 (numpy's exact float)", () => {
    const [Xtr, , ytr] = trainTestSplit(digits.data, digits.target, { testSize: 0.5, randomState: 0 }) as [Matrix, Matrix, Int32Array];
    const m = new SVC({ kernel: 'linear', maxIter: 5 }).fit(Xtr, ytr);
    assert.equal(new SVC({ maxIter: 1 }).fit(Xtr, ytr).gamma_, 0.0004296739994071253);
    assert.equal(m.fitStatus_.converged, false);
  });

  it('invalid hyper-parameters throw an error naming the parameter', () => {
    const bad: Array<[object, string]> = [
      [{ C: 0 }, 'C'], [{ C: -1 }, 'C'], [{ kernel: 'cubic' }, 'kernel'], [{ gamma: 0 }, 'gamma'], [{ gamma: -0.1 }, 'gamma'],
      [{ gamma: 'big' }, 'gamma'], [{ degree: -1 }, 'degree'], [{ degree: 1.5 }, 'degree'], [{ tol: 0 }, 'tol'],
      [{ backend: 'libsvm' }, 'backend'], [{ Cee: 1 }, 'Cee'], [{ maxIter: 0 }, 'maxIter'],
    ];
    for (const [p, name] of bad) {
      assert.throws(() => new SVC(p as never), (e: unknown) => e instanceof InvalidParameterError && e.parameter === name && e.message.includes(`'${name}'`), JSON.stringify(p));
    }
    assert.throws(() => new SVC().setParams({ C: -2 }), /'C'/);
  });

  it('bad inputs and unfitted use are reported', () => {
    assert.throws(() => new SVC().predict([[1]]), NotFittedError);
    assert.throws(() => new SVC().fit([[1], [2]], [1, 1]), /number of classes/);
    assert.throws(() => new SVC().fit([[1], [2]], [1]), /labels/);
    assert.throws(() => new SVC().fit([[1], [NaN]], [0, 1]), /non-finite/);
    assert.throws(() => new SVC().fit([[1, 2], [3]], [0, 1]), /same length/);
    const m = new SVC().fit([[0, 0], [1, 1]], [0, 1]);
    assert.throws(() => m.predict([[1, 2, 3]]), /3 features/);
  });
});

describe('ml/SolutionMemo (exact reuse across C)', () => {
  it('a model rebuilt from reused solutions is bit-identical to a fresh fit, and reuse stops where C binds', async () => {
    const { SolutionMemo } = await import('../../src/ml/solutionMemo.js');
    const { StratifiedKFold } = await import('../../src/ml/split.js');
    const [Xtr, , ytr] = trainTestSplit(digits.data, digits.target, { testSize: 0.5, randomState: 0 }) as [Matrix, Matrix, Int32Array];
    const [train, test] = [...new StratifiedKFold({ nSplits: 5 }).split(Xtr, ytr)][0];
    const yTrain = Float64Array.from(train, (i) => ytr[i]);
    const cache = new KernelCache(Xtr);
    const memo = new SolutionMemo();
    for (const C of [10, 100, 1000, 1]) {
      const viaMemo = new SVC({ C, gamma: 1e-3 }).fitRows(cache, train, yTrain, memo);
      const fresh = new SVC({ C, gamma: 1e-3 }).fitRows(cache, train, yTrain);
      assert.deepEqual(Array.from(viaMemo.dualCoef_), Array.from(fresh.dualCoef_), `C=${C}`);
      assert.deepEqual(Array.from(viaMemo.intercept_), Array.from(fresh.intercept_), `C=${C}`);
      assert.deepEqual(Array.from(viaMemo.predictRows(cache, test, memo)), Array.from(fresh.predictRows(cache, test)));
    }
    assert.equal(memo.misses, 45 + 45); // C=10 solved everything; C=1 binds and is solved again
    assert.equal(memo.hits, 90); // C=100 and C=1000 reuse all 45 pairs of C=10
  });
});
