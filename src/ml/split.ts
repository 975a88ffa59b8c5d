// Train/test splitting and cross-validation folds with scikit-learn's exact index choices.
import { InvalidInputError, InvalidParameterError } from './errors.js';
import { Matrix, numRows, takeRows } from './matrix.js';
import { checkRandomState, RandomState } from './randomState.js';

export type Seed = number | RandomState;

export interface TrainTestSplitOptions {
  /** A fraction in (0, 1) or an absolute count; default 0.25 when trainSize is also unset. */
  testSize?: number;
  trainSize?: number;
  /** An integer seed or a RandomState; omitted → unpredictable, as scikit-learn's `None`. */
  randomState?: Seed;
  /** Default true. false → train is the first rows and test the next, in order. */
  shuffle?: boolean;
}

/** Train and test sizes as sklearn's `_validate_shuffle_split`. */
export function validateShuffleSplit(n: number, testSize: number | undefined, trainSize: number | undefined, defaultTest = 0.25): { nTrain: number; nTest: number } {
  if (testSize === undefined && trainSize === undefined) testSize = defaultTest;
  // An integral value is an absolute count, a fractional one a proportion (Python's int versus float).
  const check = (name: string, v: number | undefined): void => {
    if (v === undefined) return;
    const bad = !Number.isFinite(v) || (Number.isInteger(v) ? v <= 0 || v >= n : v <= 0 || v >= 1);
    if (bad) throw new InvalidParameterError(name, `${name}=${v} should be either positive and smaller than the number of samples ${n} or a float in the (0, 1) range`);
  };
  check('testSize', testSize);
  check('trainSize', trainSize);
  const isFrac = (v: number): boolean => !Number.isInteger(v);
  if (testSize !== undefined && trainSize !== undefined && isFrac(testSize) && isFrac(trainSize) && testSize + trainSize > 1) {
    throw new InvalidParameterError('trainSize', `testSize + trainSize = ${testSize + trainSize} should be in the (0, 1] range: reduce them`);
  }
  let nTest = testSize === undefined ? undefined : isFrac(testSize) ? Math.ceil(testSize * n) : testSize;
  let nTrain = trainSize === undefined ? undefined : isFrac(trainSize) ? Math.floor(trainSize * n) : trainSize;
  if (nTrain === undefined) nTrain = n - nTest!;
  else if (nTest === undefined) nTest = n - nTrain;
  if (nTrain + nTest! > n) {
    throw new InvalidParameterError('trainSize', `the sum of train and test sizes (${nTrain} + ${nTest}) exceeds the number of samples ${n}: reduce them`);
  }
  if (nTrain === 0) {
    throw new InvalidParameterError('testSize', `with n_samples=${n}, testSize=${testSize} and trainSize=${trainSize}, the train set would be empty: adjust the sizes`);
  }
  return { nTrain, nTest: nTest! };
}

/** One ShuffleSplit draw: test = perm[:nTest], train = perm[nTest:nTest+nTrain]. */
export function shuffleSplitIndices(n: number, nTrain: number, nTest: number, rng: RandomState): { train: Int32Array; test: Int32Array } {
  const perm = rng.permutation(n);
  return { test: perm.slice(0, nTest), train: perm.slice(nTest, nTest + nTrain) };
}

function isOptions(x: unknown): x is TrainTestSplitOptions {
  return typeof x === 'object' && x !== null && !(x instanceof Matrix) && !Array.isArray(x) && !ArrayBuffer.isView(x);
}

/**
 * scikit-learn's `train_test_split(*arrays, test_size, train_size, random_state, shuffle)`:
 * returns `[aTrain, aTest, bTrain, bTest, ...]` with the same indices as scikit-learn.
 */
export function trainTestSplit<A extends unknown[]>(...args: [...A, TrainTestSplitOptions] | A): Array<A[number]> {
  const last = args[args.length - 1];
  const opts: TrainTestSplitOptions = isOptions(last) ? last : {};
  const arrays = (isOptions(last) ? args.slice(0, -1) : args) as unknown[];
  if (arrays.length === 0) throw new InvalidInputError('trainTestSplit: at least one array required');
  const n = numRows(arrays[0]);
  arrays.forEach((a, k) => {
    if (numRows(a) !== n) throw new InvalidInputError(`trainTestSplit: array ${k} has ${numRows(a)} rows but array 0 has ${n}; all arrays must have the same number of samples`);
  });
  const { nTrain, nTest } = validateShuffleSplit(n, opts.testSize, opts.trainSize);
  let train: Int32Array;
  let test: Int32Array;
  if (opts.shuffle === false) {
    train = Int32Array.from({ length: nTrain }, (_, i) => i);
    test = Int32Array.from({ length: nTest }, (_, i) => nTrain + i);
  } else {
    ({ train, test } = shuffleSplitIndices(n, nTrain, nTest, checkRandomState(opts.randomState)));
  }
  const out: unknown[] = [];
  for (const a of arrays) out.push(takeRows(a, train), takeRows(a, test));
  return out as Array<A[number]>;
}

export type Split = [train: Int32Array, test: Int32Array];

export interface KFoldOptions {
  nSplits?: number;
  shuffle?: boolean;
  randomState?: Seed;
}

function checkFoldOptions(opts: KFoldOptions): Required<Pick<KFoldOptions, 'nSplits' | 'shuffle'>> {
  const known = ['nSplits', 'shuffle', 'randomState'];
  for (const k of Object.keys(opts)) if (!known.includes(k)) throw new InvalidParameterError(k, `unknown option; expected one of ${known.join(', ')}`);
  const nSplits = opts.nSplits ?? 5;
  if (!Number.isInteger(nSplits) || nSplits < 2) throw new InvalidParameterError('nSplits', `k-fold cross-validation requires at least one train/test split by setting nSplits=2 or more, got ${nSplits}`);
  const shuffle = opts.shuffle ?? false;
  if (!shuffle && opts.randomState !== undefined) {
    throw new InvalidParameterError('randomState', 'setting a randomState has no effect since shuffle is false; set shuffle: true or leave randomState unset');
  }
  return { nSplits, shuffle };
}

/** Train = the complement of the test mask; both in ascending index order (sklearn's BaseCrossValidator.split). */
function masksToSplit(fold: Int32Array, k: number): Split {
  let nTest = 0;
  for (let i = 0; i < fold.length; i++) if (fold[i] === k) nTest++;
  const test = new Int32Array(nTest);
  const train = new Int32Array(fold.length - nTest);
  let a = 0;
  let b = 0;
  for (let i = 0; i < fold.length; i++) if (fold[i] === k) test[a++] = i; else train[b++] = i;
  return [train, test];
}

/** Common interface of the cross-validators: the splits of n samples (labels for stratified ones). */
export interface CrossValidator {
  readonly nSplits: number;
  split(X: unknown, y?: ArrayLike<number | string>): Generator<Split>;
  getNSplits(): number;
}

export class KFold implements CrossValidator {
  readonly nSplits: number;
  readonly shuffle: boolean;
  readonly randomState?: Seed;

  constructor(opts: KFoldOptions = {}) {
    ({ nSplits: this.nSplits, shuffle: this.shuffle } = checkFoldOptions(opts));
    this.randomState = opts.randomState;
  }

  getNSplits(): number { return this.nSplits; }

  *split(X: unknown): Generator<Split> {
    const n = typeof X === 'number' ? X : numRows(X);
    if (this.nSplits > n) throw new InvalidParameterError('nSplits', `cannot have nSplits=${this.nSplits} greater than the number of samples ${n}`);
    const indices = Int32Array.from({ length: n }, (_, i) => i);
    if (this.shuffle) checkRandomState(this.randomState).shuffle(indices);
    const fold = new Int32Array(n);
    let start = 0;
    for (let k = 0; k < this.nSplits; k++) {
      const size = Math.floor(n / this.nSplits) + (k < n % this.nSplits ? 1 : 0);
      for (let t = start; t < start + size; t++) fold[indices[t]] = k;
      start += size;
    }
    for (let k = 0; k < this.nSplits; k++) yield masksToSplit(fold, k);
  }
}

export class StratifiedKFold implements CrossValidator {
  readonly nSplits: number;
  readonly shuffle: boolean;
  readonly randomState?: Seed;

  constructor(opts: KFoldOptions = {}) {
    ({ nSplits: this.nSplits, shuffle: this.shuffle } = checkFoldOptions(opts));
    this.randomState = opts.randomState;
  }

  getNSplits(): number { return this.nSplits; }

  /** sklearn ≥ 0.22 `_make_test_folds`: per-class fold counts by round robin over sorted labels. */
  testFolds(y: ArrayLike<number | string>): Int32Array {
    const n = y.length;
    if (this.nSplits > n) throw new InvalidParameterError('nSplits', `cannot have nSplits=${this.nSplits} greater than the number of samples ${n}`);
    // Classes encoded by order of first appearance.
    const code = new Map<number | string, number>();
    const enc = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let c = code.get(y[i]);
      if (c === undefined) { c = code.size; code.set(y[i], c); }
      enc[i] = c;
    }
    const nClasses = code.size;
    const counts = new Int32Array(nClasses);
    for (let i = 0; i < n; i++) counts[enc[i]]++;
    if (counts.every((c) => this.nSplits > c)) {
      throw new InvalidParameterError('nSplits', `nSplits=${this.nSplits} cannot be greater than the number of members in each class; use fewer splits`);
    }
    // Sorted encoded labels, dealt round robin to the folds: allocation[k][c].
    const allocation = Array.from({ length: this.nSplits }, () => new Int32Array(nClasses));
    let pos = 0;
    for (let c = 0; c < nClasses; c++) for (let t = 0; t < counts[c]; t++, pos++) allocation[pos % this.nSplits][c]++;
    const rng = this.shuffle ? checkRandomState(this.randomState) : undefined;
    const folds = new Int32Array(n);
    for (let c = 0; c < nClasses; c++) {
      const forClass = new Int32Array(counts[c]);
      let p = 0;
      for (let k = 0; k < this.nSplits; k++) for (let t = 0; t < allocation[k][c]; t++) forClass[p++] = k;
      if (rng) rng.shuffle(forClass);
      p = 0;
      for (let i = 0; i < n; i++) if (enc[i] === c) folds[i] = forClass[p++];
    }
    return folds;
  }

  *split(_X: unknown, y?: ArrayLike<number | string>): Generator<Split> {
    if (y === undefined) throw new InvalidInputError('StratifiedKFold.split needs the labels y');
    const folds = this.testFolds(y);
    for (let k = 0; k < this.nSplits; k++) yield masksToSplit(folds, k);
  }
}

/** sklearn's `check_cv(cv, y, classifier=True)`: an integer (default 5) → StratifiedKFold for classifiers. */
export function checkCv(cv: number | CrossValidator | undefined, classifier = true): CrossValidator {
  if (cv === undefined) cv = 5;
  if (typeof cv === 'number') return classifier ? new StratifiedKFold({ nSplits: cv }) : new KFold({ nSplits: cv });
  return cv;
}
