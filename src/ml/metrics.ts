// Classification metrics with scikit-learn's definitions, label handling and float rounding
// (numpy's pairwise mean), so scores agree to the last bit.
import { InvalidInputError, InvalidParameterError } from './errors.js';
import { numpySum } from './stats.js';

export type Label = number | string;
export type Labels = ArrayLike<number> | readonly string[];
export type Average = 'macro' | 'micro' | 'weighted' | 'binary' | null;
/** 'warn' behaves as 0 (scikit-learn also emits an UndefinedMetricWarning; this pure module does not). */
export type ZeroDivision = 'warn' | 0 | 1;

export interface PrfOptions {
  average?: Average;
  labels?: readonly Label[];
  posLabel?: Label;
  zeroDivision?: ZeroDivision;
}

function checkPair(yTrue: Labels, yPred: Labels): void {
  if (yTrue.length !== yPred.length) throw new InvalidInputError(`yTrue has ${yTrue.length} samples but yPred has ${yPred.length}: they must have the same length`);
  if (yTrue.length === 0) throw new InvalidInputError('yTrue and yPred are empty');
}

function compareLabels(a: Label, b: Label): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

/** scikit-learn's `unique_labels`: the sorted union of the labels present. */
export function uniqueLabels(...ys: Labels[]): Label[] {
  const s = new Set<Label>();
  for (const y of ys) for (let i = 0; i < y.length; i++) s.add(y[i]);
  return [...s].sort(compareLabels);
}

export function accuracyScore(yTrue: Labels, yPred: Labels, normalize = true): number {
  checkPair(yTrue, yPred);
  let ok = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) ok++;
  return normalize ? ok / yTrue.length : ok;
}

/** Confusion matrix C[i][j] = #samples with true label i predicted as j; labels sorted (or as given). */
export function confusionMatrix(yTrue: Labels, yPred: Labels, labels?: readonly Label[]): number[][] {
  checkPair(yTrue, yPred);
  const ls = labels ?? uniqueLabels(yTrue, yPred);
  const pos = new Map<Label, number>(ls.map((l, k) => [l, k]));
  const C = ls.map(() => new Array<number>(ls.length).fill(0));
  for (let i = 0; i < yTrue.length; i++) {
    const a = pos.get(yTrue[i]);
    const b = pos.get(yPred[i]);
    if (a !== undefined && b !== undefined) C[a][b]++;
  }
  return C;
}

/** Per-label true-positive, predicted and true counts (scikit-learn's multilabel confusion sums). */
function counts(yTrue: Labels, yPred: Labels, labels: readonly Label[]): { tp: Float64Array; pred: Float64Array; tru: Float64Array } {
  const pos = new Map<Label, number>(labels.map((l, k) => [l, k]));
  const tp = new Float64Array(labels.length);
  const pred = new Float64Array(labels.length);
  const tru = new Float64Array(labels.length);
  for (let i = 0; i < yTrue.length; i++) {
    const a = pos.get(yTrue[i]);
    const b = pos.get(yPred[i]);
    if (a !== undefined) tru[a]++;
    if (b !== undefined) pred[b]++;
    if (a !== undefined && a === b) tp[a]++;
  }
  return { tp, pred, tru };
}

function divide(num: Float64Array, den: Float64Array, zd: ZeroDivision): Float64Array {
  const out = new Float64Array(num.length);
  const z = zd === 1 ? 1 : 0;
  for (let k = 0; k < num.length; k++) out[k] = den[k] === 0 ? z : num[k] / den[k];
  return out;
}

/** numpy `np.average(a, weights)`. */
function average(a: Float64Array, w?: Float64Array): number {
  if (!w) return numpySum(a) / a.length;
  const aw = new Float64Array(a.length);
  for (let k = 0; k < a.length; k++) aw[k] = a[k] * w[k];
  return numpySum(aw) / numpySum(w);
}

export interface PrfResult {
  precision: Float64Array | number;
  recall: Float64Array | number;
  fScore: Float64Array | number;
  support: Float64Array | null;
}

const AVERAGES = ['macro', 'micro', 'weighted', 'binary', null];

/** scikit-learn's `precision_recall_fscore_support` with beta = 1. */
export function precisionRecallFscoreSupport(yTrue: Labels, yPred: Labels, opts: PrfOptions = {}): PrfResult {
  checkPair(yTrue, yPred);
  const avg = opts.average === undefined ? 'binary' : opts.average;
  if (!AVERAGES.includes(avg)) throw new InvalidParameterError('average', `must be one of 'macro', 'micro', 'weighted', 'binary' or null, got ${String(avg)}`);
  const zd = opts.zeroDivision ?? 'warn';
  if (zd !== 'warn' && zd !== 0 && zd !== 1) throw new InvalidParameterError('zeroDivision', `must be 'warn', 0 or 1, got ${String(zd)}`);
  const present = uniqueLabels(yTrue, yPred);
  let labels: readonly Label[] = opts.labels ?? present;
  if (avg === 'binary') {
    const posLabel = opts.posLabel ?? 1;
    if (present.length > 2) {
      throw new InvalidParameterError('average', `the target is multiclass but average='binary'; choose average 'micro', 'macro', 'weighted' or null`);
    }
    if (!present.includes(posLabel) && present.length === 2) {
      throw new InvalidParameterError('posLabel', `posLabel=${posLabel} is not a valid label: it should be one of ${present.join(', ')}`);
    }
    labels = [posLabel];
  }
  let { tp, pred, tru } = counts(yTrue, yPred, labels);
  if (avg === 'micro') {
    tp = Float64Array.of(numpySum(tp));
    pred = Float64Array.of(numpySum(pred));
    tru = Float64Array.of(numpySum(tru));
  }
  const precision = divide(tp, pred, zd);
  const recall = divide(tp, tru, zd);
  const f = new Float64Array(labels.length === 0 ? 0 : precision.length);
  for (let k = 0; k < precision.length; k++) {
    let denom = precision[k] + recall[k];
    if (denom === 0) denom = 1;
    f[k] = (2 * precision[k] * recall[k]) / denom;
  }
  if (avg === null) return { precision, recall, fScore: f, support: tru };
  let weights: Float64Array | undefined;
  if (avg === 'weighted') {
    weights = tru;
    if (numpySum(weights) === 0) { const z = zd === 1 ? 1 : 0; return { precision: z, recall: z, fScore: z, support: null }; }
  }
  return { precision: average(precision, weights), recall: average(recall, weights), fScore: average(f, weights), support: null };
}

export function precisionScore(yTrue: Labels, yPred: Labels, opts: PrfOptions = {}): number | Float64Array {
  return precisionRecallFscoreSupport(yTrue, yPred, opts).precision;
}

export function recallScore(yTrue: Labels, yPred: Labels, opts: PrfOptions = {}): number | Float64Array {
  return precisionRecallFscoreSupport(yTrue, yPred, opts).recall;
}

export function f1Score(yTrue: Labels, yPred: Labels, opts: PrfOptions = {}): number | Float64Array {
  return precisionRecallFscoreSupport(yTrue, yPred, opts).fScore;
}

export interface ClassificationReportOptions {
  labels?: readonly Label[];
  targetNames?: readonly string[];
  digits?: number;
  zeroDivision?: ZeroDivision;
}
