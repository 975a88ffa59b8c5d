import assert from 'node:assert/strict';
import { loadDigits } from '../../src/ml/digitsFile.js';
import { KFold, StratifiedKFold, trainTestSplit } from '../../src/ml/split.js';
import { Matrix } from '../../src/ml/matrix.js';
import { InvalidParameterError } from '../../src/ml/errors.js';
import { runPython, sklearnAvailable } from './pythonOracle.js';

const checksum = (a: ArrayLike<number>): number => { let s = 0; for (let i = 0; i < a.length; i++) s += (i + 1) * a[i]; return s; };
const counts = (y: ArrayLike<number>): number[] => { const c = new Array(10).fill(0); for (let i = 0; i < y.length; i++) c[y[i]]++; return c; };

// Fold fingerprints from scikit-learn 1.2.1 on the seed's X_train/y_train
// (train_test_split(digits, test_size=0.5, random_state=0)): per split the test size, Σ (i+1)·test[i], test[:5].
type FoldRef = Array<[number, number, number[]]>;
const SKF: Record<number, FoldRef> = {
  2: [[449, 30416307, [0, 1, 2, 3, 4]], [449, 75523148, [404, 409, 413, 418, 434]]],
  3: [[300, 9113006, [0, 1, 2, 3, 4]], [299, 22540661, [257, 266, 272, 275, 277]], [299, 35765727, [567, 568, 569, 574, 575]]],
  5: [[180, 2035238, [0, 1, 2, 3, 4]], [180, 4942455, [120, 125, 135, 155, 166]], [180, 7915294, [324, 329, 333, 341, 342]], [179, 10659193, [492, 494, 501, 509, 512]], [179, 13489404, [690, 701, 704, 707, 708]]],
  7: [[129, 784641, [0, 1, 2, 3, 4]], [129, 1840415, [84, 93, 96, 103, 109]], [128, 2879299, [222, 232, 235, 237, 244]], [128, 3977091, [348, 350, 355, 356, 363]], [128, 4998256, [461, 464, 470, 476, 478]], [128, 6030066, [588, 599, 604, 605, 615]], [128, 7053386, [743, 744, 750, 751, 752]]],
  10: [[90, 274094, [0, 1, 2, 3, 4]], [90, 660559, [61, 68, 70, 74, 75]], [90, 1009955, [119, 120, 125, 135, 155]], [90, 1389213, [237, 244, 247, 248, 249]], [90, 1764224, [298, 309, 324, 329, 333]], [90, 2144542, [397, 404, 405, 409, 413]], [90, 2480500, [470, 485, 491, 492, 494]], [90, 2850268, [582, 588, 598, 599, 604]], [89, 3138519, [690, 697, 704, 707, 708]], [89, 3472124, [761, 764, 771, 779, 781]]],
};
const SKF_SHUFFLED_5_SEED3: FoldRef = [[180, 9708429, [2, 9, 10, 12, 30]], [180, 9960542, [1, 4, 14, 18, 20]], [180, 9520220, [11, 25, 33, 43, 47]], [179, 9674193, [0, 5, 7, 13, 15]], [179, 9549880, [3, 6, 8, 16, 19]]];
const KF_SHUFFLED_4_SEED7: FoldRef = [[225, 15940192, [9, 13, 15, 22, 26]], [225, 15126764, [2, 3, 4, 7, 10]], [224, 14371960, [0, 11, 14, 16, 18]], [224, 14995780, [1, 5, 6, 8, 12]]];

function assertFolds(splits: Array<[Int32Array, Int32Array]>, ref: FoldRef, n: number): void {
  assert.equal(splits.length, ref.length);
  splits.forEach(([train, test], k) => {
    assert.deepEqual([test.length, checksum(test), Array.from(test.subarray(0, 5))], ref[k], `split ${k}`);
    assert.equal(train.length + test.length, n);
    const seen = new Set([...train, ...test]);
    assert.equal(seen.size, n, 'train and test partition the samples');
    for (let i = 1; i < train.length; i++) assert.ok(train[i - 1] < train[i], 'train indices ascending');
  });
}

describe('ml/split', () => {
  const digits = loadDigits();
  const [Xtr, Xte, ytr, yte] = trainTestSplit(digits.data, digits.target, { testSize: 0.5, randomState: 0 }) as [Matrix, Matrix, Int32Array, Int32Array];

  it('trainTestSplit reproduces the seed split (reference §2: sizes, class counts)', () => {
    assert.equal(Xtr.rows, 898);
    assert.equal(Xte.rows, 899);
    assert.deepEqual(counts(ytr), [89, 92, 85, 90, 105, 74, 92, 101, 82, 88]);
    assert.deepEqual(counts(yte), [89, 90, 92, 93, 76, 108, 89, 78, 92, 92]);
    // test = perm[:899] with perm[:8] = [1081, 1707, 927, 713, 262, 182, 303, 895]
    const [, idxTest] = trainTestSplit(Array.from({ length: 1797 }, (_, i) => i), { testSize: 0.5, randomState: 0 });
    assert.deepEqual((idxTest as number[]).slice(0, 8), [1081, 1707, 927, 713, 262, 182, 303, 895]);
    assert.deepEqual(Array.from(Xte.row(0)), Array.from(digits.data.row(1081)));
  });

  // scikit-learn 1.2.1 train_test_split(list(range(50)), test_size, train_size, random_state)
  const TTS: Array<[number | undefined, number | undefined, number, number[], number[]]> = [
    [0.25, undefined, 1, [36, 19, 42, 49, 26, 22, 13, 41, 17, 45, 24, 23, 4, 33, 14, 30, 10, 28, 44, 34, 18, 20, 25, 6, 7, 47, 1, 16, 0, 15, 5, 11, 9, 8, 12, 43, 37], [27, 35, 40, 38, 2, 3, 48, 29, 46, 31, 32, 39, 21]],
    [0.3, 0.5, 2, [33, 16, 2, 25, 14, 30, 5, 32, 1, 29, 35, 41, 19, 37, 10, 4, 6, 3, 20, 26, 38, 21, 42, 31, 34], [36, 47, 28, 9, 13, 0, 44, 46, 39, 23, 24, 48, 17, 12, 27]],
    [10, undefined, 5, [31, 4, 32, 0, 23, 5, 48, 34, 37, 26, 41, 33, 24, 10, 44, 25, 18, 22, 20, 49, 1, 11, 13, 40, 46, 15, 12, 7, 45, 30, 27, 39, 36, 8, 9, 16, 38, 47, 14, 35], [42, 29, 6, 19, 28, 17, 2, 43, 3, 21]],
    [undefined, 0.6, 9, [34, 43, 13, 8, 17, 39, 16, 9, 23, 6, 19, 5, 11, 47, 46, 18, 12, 42, 10, 24, 0, 49, 29, 33, 27, 40, 48, 1, 22, 28], [21, 37, 2, 14, 44, 7, 15, 20, 32, 25, 30, 45, 38, 26, 3, 31, 4, 41, 35, 36]],
  ];
  for (const [testSize, trainSize, seed, train, test] of TTS) {
    it(`trainTestSplit testSize=${testSize} trainSize=${trainSize} seed=${seed} matches scikit-learn`, () => {
      const X = Array.from({ length: 50 }, (_, i) => i);
      const y = Int32Array.from(X, (v) => v * 2);
      const [a, b, ya, yb] = trainTestSplit(X, y, { testSize, trainSize, randomState: seed }) as [number[], number[], Int32Array, Int32Array];
      assert.deepEqual(a, train);
      assert.deepEqual(b, test);
      assert.ok(ya instanceof Int32Array);
      assert.deepEqual(Array.from(yb), test.map((v) => v * 2));
    });
  }

  it('trainTestSplit without shuffle and invalid sizes', () => {
    const [a, b] = trainTestSplit([0, 1, 2, 3, 4], { testSize: 2, shuffle: false });
    assert.deepEqual([a, b], [[0, 1, 2], [3, 4]]);
    assert.throws(() => trainTestSplit([1, 2, 3], { testSize: 1.5 }), InvalidParameterError);
    assert.throws(() => trainTestSplit([1, 2, 3], { testSize: 3 }), /testSize=3/);
    assert.throws(() => trainTestSplit([1, 2, 3], [1, 2], { testSize: 1 }), /same number of samples/);
    assert.throws(() => trainTestSplit([1, 2, 3, 4], { testSize: 0.6, trainSize: 0.6 }), /trainSize/);
  });

  for (const k of [2, 3, 5, 7, 10]) {
    it(`StratifiedKFold(${k}) on the seed training half equals scikit-learn's folds`, () => {
      assertFolds([...new StratifiedKFold({ nSplits: k }).split(Xtr, ytr)], SKF[k], 898);
    });
  }

  it('StratifiedKFold(5, shuffle, seed 3) and KFold(4, shuffle, seed 7) equal scikit-learn', () => {
    assertFolds([...new StratifiedKFold({ nSplits: 5, shuffle: true, randomState: 3 }).split(Xtr, ytr)], SKF_SHUFFLED_5_SEED3, 898);
    assertFolds([...new KFold({ nSplits: 4, shuffle: true, randomState: 7 }).split(Xtr)], KF_SHUFFLED_4_SEED7, 898);
  });

  it('KFold without shuffle: contiguous folds, first n % k folds one larger', () => {
    const tests = [...new KFold({ nSplits: 3 }).split(10)].map(([, t]) => Array.from(t));
    assert.deepEqual(tests, [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]);
  });

  it('fold validation errors name the parameter', () => {
    assert.throws(() => new KFold({ nSplits: 1 }), /nSplits/);
    assert.throws(() => new KFold({ nSplits: 3, randomState: 1 }), /randomState/);
    assert.throws(() => new StratifiedKFold({ nSplits: 3, bogus: 1 } as never), /bogus/);
    assert.throws(() => [...new StratifiedKFold({ nSplits: 4 }).split(null, [0, 0, 1, 1, 2, 2])], /each class/);
    assert.throws(() => [...new KFold({ nSplits: 4 }).split(3)], /greater than the number of samples/);
  });

  it('agrees with the local scikit-learn on every index (pending when python3-sklearn is absent)', function () {
    if (!sklearnAvailable()) { console.log('      skipped: python3-sklearn not installed (apt-get install python3-sklearn to compare with scikit-learn)'); this.skip(); }
    const py = runPython(`
import json
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split, StratifiedKFold
d = load_digits()
Xtr, Xte, ytr, yte = train_test_split(d.data, d.target, test_size=0.5, random_state=0)
print(json.dumps({'ytr': ytr.tolist(), 'folds': [t.tolist() for _, t in StratifiedKFold(5).split(Xtr, ytr)]}))`) as { ytr: number[]; folds: number[][] };
    assert.deepEqual(Array.from(ytr), py.ytr);
    assert.deepEqual([...new StratifiedKFold({ nSplits: 5 }).split(Xtr, ytr)].map(([, t]) => Array.from(t)), py.folds);
  });
});
