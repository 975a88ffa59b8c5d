// Support vector classifier shaped like scikit-learn's SVC: libsvm's C-SVC, one-vs-one.
import { InvalidInputError, InvalidParameterError, NotFittedError } from './errors.js';
import { KernelCache, kernelKey, kernelRow, type KernelName, type KernelSpec } from './kernel.js';
import { Matrix, toMatrix, type MatrixLike } from './matrix.js';
import { fitMlSvmPair, type MlSvmPairModel } from './mlSvmBackend.js';
import { solveBinary } from './smo.js';
import type { SolutionMemo } from './solutionMemo.js';
import { variance } from './stats.js';

export type SVCBackend = 'smo' | 'ml-svm';

export interface SVCParams {
  C: number;
  kernel: KernelName;
  gamma: 'scale' | 'auto' | number;
  degree: number;
  coef0: number;
  tol: number;
  shrinking: boolean;
  /** Solver iteration cap per binary problem; -1 = none. */
  maxIter: number;
  /** 'smo': the project's libsvm-equivalent solver (default, exact). 'ml-svm': the ml-svm package, much slower and approximate. */
  backend: SVCBackend;
  /** Seed of the ml-svm backend's random second-index choice (ignored by 'smo'). */
  randomState: number;
}

export const SVC_DEFAULTS: Readonly<SVCParams> = Object.freeze({
  C: 1.0, kernel: 'rbf', gamma: 'scale', degree: 3, coef0: 0.0, tol: 1e-3, shrinking: true, maxIter: -1, backend: 'smo', randomState: 0,
});

const KERNELS: readonly KernelName[] = ['rbf', 'linear', 'poly', 'sigmoid'];

/** Validates a (partial) parameter object; every error names the parameter. */
export function validateSVCParams(p: Partial<SVCParams>): void {
  for (const k of Object.keys(p)) {
    if (!(k in SVC_DEFAULTS)) throw new InvalidParameterError(k, `SVC has no parameter '${k}'; valid parameters: ${Object.keys(SVC_DEFAULTS).join(', ')}`);
  }
  const num = (k: string, v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  if (p.C !== undefined && !(num('C', p.C) && p.C > 0)) throw new InvalidParameterError('C', `must be a number > 0, got ${String(p.C)}`);
  if (p.kernel !== undefined && !KERNELS.includes(p.kernel)) throw new InvalidParameterError('kernel', `must be one of ${KERNELS.join(', ')}, got ${String(p.kernel)}`);
  if (p.gamma !== undefined && p.gamma !== 'scale' && p.gamma !== 'auto' && !(num('gamma', p.gamma) && p.gamma > 0)) {
    throw new InvalidParameterError('gamma', `must be 'scale', 'auto' or a number > 0, got ${String(p.gamma)}`);
  }
  if (p.degree !== undefined && !(Number.isInteger(p.degree) && p.degree >= 0)) throw new InvalidParameterError('degree', `must be an integer >= 0, got ${String(p.degree)}`);
  if (p.coef0 !== undefined && !num('coef0', p.coef0)) throw new InvalidParameterError('coef0', `must be a finite number, got ${String(p.coef0)}`);
  if (p.tol !== undefined && !(num('tol', p.tol) && p.tol > 0)) throw new InvalidParameterError('tol', `must be a number > 0, got ${String(p.tol)}`);
  if (p.shrinking !== undefined && typeof p.shrinking !== 'boolean') throw new InvalidParameterError('shrinking', `must be true or false, got ${String(p.shrinking)}`);
  if (p.maxIter !== undefined && !(Number.isInteger(p.maxIter) && (p.maxIter === -1 || p.maxIter > 0))) throw new InvalidParameterError('maxIter', `must be -1 (no limit) or a positive integer, got ${String(p.maxIter)}`);
  if (p.backend !== undefined && p.backend !== 'smo' && p.backend !== 'ml-svm') throw new InvalidParameterError('backend', `must be 'smo' or 'ml-svm', got ${String(p.backend)}`);
  if (p.randomState !== undefined && !(Number.isInteger(p.randomState) && p.randomState >= 0)) throw new InvalidParameterError('randomState', `must be a non-negative integer, got ${String(p.randomState)}`);
}

/** The numeric gamma scikit-learn uses for training rows `X` ('scale' = 1/(n_features·X.var())). */
export function resolveGamma(gamma: SVCParams['gamma'], X: Matrix): number {
  if (gamma === 'auto') return 1 / X.cols;
  if (gamma === 'scale') {
    const v = variance(X.data);
    return 1 / (X.cols * (v === 0 ? 1 : v));
  }
  return gamma;
}

// gamma='scale' of a training set, once per (data, rows) array: a grid search passes each fold's rows
// to every C and kernel (SVC's default gamma is 'scale', so linear fits ask too).
const scaleGammas = new WeakMap<Int32Array, { X: Matrix; gamma: number }>();

function scaleGamma(cache: KernelCache, train: Int32Array): number {
  const known = scaleGammas.get(train);
  if (known?.X === cache.X) return known.gamma;
  const gamma = resolveGamma('scale', isIdentity(train, cache.n) ? cache.X : cache.X.takeRows(train));
  scaleGammas.set(train, { X: cache.X, gamma });
  return gamma;
}

/** Where a fitted model's kernel values come from: a shared cache (rows by index) or raw features. */
interface FittedModel {
  spec: KernelSpec;
  classes: Float64Array;
  /** Support vectors grouped by class, training order within a class; indices into the fit's training rows. */
  support: Int32Array;
  /** Cache rows of the support vectors. */
  svRows: Int32Array;
  supportVectors: Matrix;
  nSupport: Int32Array;
  /** First support-vector index of each class. */
  startSV: Int32Array;
  /** (nClasses−1) × nSV, libsvm's sv_coef layout. */
  dualCoef: Float64Array;
  rho: Float64Array;
  cache: KernelCache;
  /** ml-svm backend: one binary model per pair instead of dualCoef/rho. */
  mlSvm?: MlSvmPairModel[];
  iterations: number;
  converged: boolean;
  /** Ids of the memoised binary solutions the model is made of (when fitted with a memo). */
  signature?: string;
}

export class SVC {
  private params: SVCParams;
  private model?: FittedModel;

  constructor(params: Partial<SVCParams> = {}) {
    validateSVCParams(params);
    this.params = { ...SVC_DEFAULTS, ...params };
  }

  getParams(): SVCParams {
    return { ...this.params };
  }

  /** Updates parameters (validated) and forgets any fitted model. */
  setParams(params: Partial<SVCParams>): this {
    validateSVCParams(params);
    this.params = { ...this.params, ...params };
    this.model = undefined;
    return this;
  }

  /** An unfitted copy with the same parameters (scikit-learn's `clone`). */
  clone(params: Partial<SVCParams> = {}): SVC {
    return new SVC({ ...this.params, ...params });
  }

  get classes_(): Float64Array { return this.fitted().classes; }
  get support_(): Int32Array { return this.fitted().support; }
  get supportVectors_(): Matrix { return this.fitted().supportVectors; }
  get nSupport_(): Int32Array { return this.fitted().nSupport; }
  /** libsvm's sv_coef, (nClasses−1) × nSV row-major. */
  get dualCoef_(): Float64Array { return this.fitted().dualCoef; }
  /** −rho per pair, pairs in (0,1), (0,2), …, (1,2), … order. */
  get intercept_(): Float64Array { return this.fitted().rho.map((r) => -r); }
  /** The kernel gamma actually used (after 'scale'/'auto'). */
  get gamma_(): number { return this.fitted().spec.gamma; }
  /** Total solver iterations over all pairs, and whether every pair converged. */
  get fitStatus_(): { iterations: number; converged: boolean } { const m = this.fitted(); return { iterations: m.iterations, converged: m.converged }; }

  private fitted(): FittedModel {
    if (!this.model) throw new NotFittedError('this SVC is not fitted yet: call fit(X, y) before using it');
    return this.model;
  }

  /** Fits on rows X with labels y. */
  fit(X: MatrixLike, y: ArrayLike<number>): this {
    const m = toMatrix(X);
    const rows = Int32Array.from({ length: m.rows }, (_, i) => i);
    return this.fitRows(new KernelCache(m), rows, y);
  }

  /**
   * Fits on the cache rows `train` (labels `y[k]` for row `train[k]`), reading kernel values from the
   * shared cache: the grid-search path, where every fold, gamma and C share one matrix. With a
   * `memo`, binary solutions provably identical for this C are reused instead of re-solved.
   */
  fitRows(cache: KernelCache, train: Int32Array, y: ArrayLike<number>, memo?: SolutionMemo): this {
    if (train.length !== y.length) throw new InvalidInputError(`fit: ${train.length} training rows but ${y.length} labels`);
    if (train.length === 0) throw new InvalidInputError('fit: no training samples');
    assertFiniteLabels(y);
    const p = this.params;
    const spec: KernelSpec = { kernel: p.kernel, gamma: p.gamma === 'scale' ? scaleGamma(cache, train) : resolveGamma(p.gamma, cache.X), degree: p.degree, coef0: p.coef0 };
    const classes = Float64Array.from(new Set(Array.from(y))).sort();
    const nc = classes.length;
    if (nc < 2) throw new InvalidInputError(`fit: the number of classes has to be greater than one; got ${nc} class`);
    const g = groupByClass(classes, y);
    const smo = p.backend === 'smo';
    let K: Float64Array | undefined; // built on the first solve: memo hits need no kernel
    const nonzero = new Uint8Array(y.length); // by grouped position
    const pairCoef: Float64Array[] = [];
    const rho = new Float64Array((nc * (nc - 1)) / 2);
    const mlModels: MlSvmPairModel[] = [];
    let iterations = 0;
    let converged = true;
    const ids: number[] = [];
    const memoKey = `${kernelKey(spec)}|${p.tol}|${p.shrinking}|${p.maxIter}`;
    let pi = 0;
    for (let a = 0; a < nc; a++) {
      for (let b = a + 1; b < nc; b++, pi++) {
        const { rows, ys } = pairProblem(g, train, a, b);
        let coef: Float64Array;
        if (smo) {
          const key = `${classes[a]},${classes[b]}|${memoKey}`;
          const hit = memo?.find(train, key, p.C);
          const sol = hit?.sol ?? solveBinary({ K: (K ??= cache.matrix(spec)), n: cache.n, rows, y: ys, Cp: p.C, Cn: p.C, eps: p.tol, shrinking: p.shrinking, maxIter: p.maxIter });
          if (memo) ids.push(hit ? hit.id : memo.store(train, key, p.C, sol));
          coef = sol.coef;
          rho[pi] = sol.rho;
          iterations += sol.iterations;
          converged &&= sol.converged;
        } else {
          const mm = fitMlSvmPair(cache, spec, rows, ys, p.C, p.randomState + pi);
          mlModels.push(mm);
          coef = mm.coef;
        }
        pairCoef.push(coef);
        markNonzero(g, coef, a, b, nonzero);
      }
    }
    const { support, svRows, nSupport, startSV, dualCoef } = oneVsOneLayout(g, train, pairCoef, nonzero);
    this.model = {
      spec, classes, support, svRows, supportVectors: cache.X.takeRows(svRows), nSupport, startSV, dualCoef, rho, cache,
      mlSvm: smo ? undefined : mlModels, iterations, converged,
      signature: memo && smo ? `${classes.join(',')}|${ids.join(',')}` : undefined,
    };
    return this;
  }

  /** Predicted labels for rows X (kernel values computed as libsvm's k_function). */
  predict(X: MatrixLike): Float64Array {
    const m = this.fitted();
    const Xm = toMatrix(X);
    if (Xm.cols !== m.supportVectors.cols) throw new InvalidInputError(`predict: X has ${Xm.cols} features, but the model was fitted with ${m.supportVectors.cols}`);
    const sv = m.supportVectors;
    const kv = new Float64Array(sv.rows);
    return this.predictWith(Xm.rows, (i) => {
      kernelRow(m.spec, Xm.data, i * Xm.cols, sv.data, sv.cols, kv);
      return kv;
    }, (i, pair) => m.mlSvm![pair].marginExternal(Xm, i));
  }

  /** Predicted labels for rows `rows` of the cache the model was fitted with (grid-search path). */
  predictRows(cache: KernelCache, rows: Int32Array, memo?: SolutionMemo): Float64Array {
    const m = this.fitted();
    if (cache !== m.cache) throw new InvalidInputError('predictRows: the model was fitted on a different kernel cache; use predict(X)');
    if (memo && m.signature) {
      const known = memo.predictions(rows, m.signature);
      if (known) return Float64Array.from(known);
      const p = this.predictRows(cache, rows);
      memo.storePredictions(rows, m.signature, Float64Array.from(p));
      return p;
    }
    const K = m.mlSvm ? undefined : cache.matrix(m.spec);
    const kv = new Float64Array(m.svRows.length);
    const N = cache.n;
    return this.predictWith(rows.length, (i) => {
      const base = rows[i] * N;
      for (let s = 0; s < kv.length; s++) kv[s] = K![base + m.svRows[s]];
      return kv;
    }, (i, pair) => m.mlSvm![pair].marginRow(rows[i]));
  }

  /** One-vs-one decision values, n × pairs (libsvm's dec_values). */
  decisionFunction(X: MatrixLike): Matrix {
    const m = this.fitted();
    const Xm = toMatrix(X);
    const nc = m.classes.length;
    const np = (nc * (nc - 1)) / 2;
    const out = new Float64Array(Xm.rows * np);
    const sv = m.supportVectors;
    const kv = new Float64Array(sv.rows);
    const dec = new Float64Array(np);
    for (let i = 0; i < Xm.rows; i++) {
      if (m.mlSvm) for (let p = 0; p < np; p++) dec[p] = m.mlSvm[p].marginExternal(Xm, i);
      else {
        kernelRow(m.spec, Xm.data, i * Xm.cols, sv.data, sv.cols, kv);
        this.decisionValues(m, kv, dec);
      }
      out.set(dec, i * np);
    }
    return new Matrix(Xm.rows, np, out);
  }

  private decisionValues(m: FittedModel, kv: Float64Array, dec: Float64Array): void {
    const nc = m.classes.length;
    const nSV = m.svRows.length;
    const startSV = m.startSV;
    let p = 0;
    for (let i = 0; i < nc; i++) {
      for (let j = i + 1; j < nc; j++, p++) {
        let sum = 0;
        const si = startSV[i];
        const sj = startSV[j];
        const c1 = (j - 1) * nSV;
        const c2 = i * nSV;
        for (let k = 0; k < m.nSupport[i]; k++) sum += m.dualCoef[c1 + si + k] * kv[si + k];
        for (let k = 0; k < m.nSupport[j]; k++) sum += m.dualCoef[c2 + sj + k] * kv[sj + k];
        dec[p] = sum - m.rho[p];
      }
    }
  }

  /** libsvm's voting: decision > 0 votes for the first class of the pair; ties → lowest class index. */
  private predictWith(n: number, kernelRow: (i: number) => Float64Array, mlMargin: (i: number, pair: number) => number): Float64Array {
    const m = this.fitted();
    const nc = m.classes.length;
    const np = (nc * (nc - 1)) / 2;
    const dec = new Float64Array(np);
    const vote = new Int32Array(nc);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      if (m.mlSvm) for (let p = 0; p < np; p++) dec[p] = mlMargin(i, p);
      else this.decisionValues(m, kernelRow(i), dec);
      vote.fill(0);
      let p = 0;
      for (let a = 0; a < nc; a++) for (let b = a + 1; b < nc; b++, p++) { if (dec[p] > 0) vote[a]++; else vote[b]++; }
      let best = 0;
      for (let c = 1; c < nc; c++) if (vote[c] > vote[best]) best = c;
      out[i] = m.classes[best];
    }
    return out;
  }
}

// fitRows' loops live in these small functions, and fitRows itself runs few bytecodes per call, so V8
// never optimizes it: an optimized fitRows inlined the whole solver (compiled a second time, and again
// after each deopt), ~90 ms of compiling on each fit thread for no faster code (measured on the seed grid).

function assertFiniteLabels(y: ArrayLike<number>): void {
  for (let k = 0; k < y.length; k++) if (!Number.isFinite(y[k])) throw new InvalidInputError(`fit: label ${k} is not a finite number (${y[k]})`);
}

/** Training positions grouped by class, stable (libsvm's svm_group_classes with sorted labels). */
interface ClassGroups { nc: number; count: Int32Array; start: Int32Array; perm: Int32Array }

function groupByClass(classes: Float64Array, y: ArrayLike<number>): ClassGroups {
  const nc = classes.length;
  const classOf = new Int32Array(y.length);
  const count = new Int32Array(nc);
  for (let k = 0; k < y.length; k++) { const c = lowerBound(classes, y[k]); classOf[k] = c; count[c]++; }
  const start = new Int32Array(nc);
  for (let c = 1; c < nc; c++) start[c] = start[c - 1] + count[c - 1];
  const perm = new Int32Array(y.length);
  const fill = Int32Array.from(start);
  for (let k = 0; k < y.length; k++) perm[fill[classOf[k]]++] = k;
  return { nc, count, start, perm };
}

/** The binary problem of classes a (+1) and b (−1): their cache rows and labels. */
function pairProblem(g: ClassGroups, train: Int32Array, a: number, b: number): { rows: Int32Array; ys: Float64Array } {
  const { count, start, perm } = g;
  const l = count[a] + count[b];
  const rows = new Int32Array(l);
  const ys = new Float64Array(l);
  for (let t = 0; t < count[a]; t++) { rows[t] = train[perm[start[a] + t]]; ys[t] = 1; }
  for (let t = 0; t < count[b]; t++) { rows[count[a] + t] = train[perm[start[b] + t]]; ys[count[a] + t] = -1; }
  return { rows, ys };
}

function markNonzero(g: ClassGroups, coef: Float64Array, a: number, b: number, nonzero: Uint8Array): void {
  const { count, start } = g;
  for (let t = 0; t < count[a]; t++) if (coef[t] !== 0) nonzero[start[a] + t] = 1;
  for (let t = 0; t < count[b]; t++) if (coef[count[a] + t] !== 0) nonzero[start[b] + t] = 1;
}

/** Support vectors (nonzero positions, grouped by class) and libsvm's sv_coef layout. */
function oneVsOneLayout(g: ClassGroups, train: Int32Array, pairCoef: Float64Array[], nonzero: Uint8Array):
  { support: Int32Array; svRows: Int32Array; nSupport: Int32Array; startSV: Int32Array; dualCoef: Float64Array } {
  const { nc, count, start, perm } = g;
  const n = perm.length;
  const nSupport = new Int32Array(nc);
  const svIndex = new Int32Array(n).fill(-1);
  let nSV = 0;
  for (let c = 0; c < nc; c++) {
    for (let t = 0; t < count[c]; t++) if (nonzero[start[c] + t]) { svIndex[start[c] + t] = nSV++; nSupport[c]++; }
  }
  const support = new Int32Array(nSV);
  const svRows = new Int32Array(nSV);
  for (let k = 0; k < n; k++) if (svIndex[k] >= 0) { support[svIndex[k]] = perm[k]; svRows[svIndex[k]] = train[perm[k]]; }
  const dualCoef = new Float64Array((nc - 1) * nSV);
  let pi = 0;
  for (let a = 0; a < nc; a++) {
    for (let b = a + 1; b < nc; b++, pi++) {
      const coef = pairCoef[pi];
      for (let t = 0; t < count[a]; t++) { const s = svIndex[start[a] + t]; if (s >= 0) dualCoef[(b - 1) * nSV + s] = coef[t]; }
      for (let t = 0; t < count[b]; t++) { const s = svIndex[start[b] + t]; if (s >= 0) dualCoef[a * nSV + s] = coef[count[a] + t]; }
    }
  }
  const startSV = new Int32Array(nc);
  for (let c = 1; c < nc; c++) startSV[c] = startSV[c - 1] + nSupport[c - 1];
  return { support, svRows, nSupport, startSV, dualCoef };
}

function lowerBound(sorted: Float64Array, v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (sorted[mid] < v) lo = mid + 1; else hi = mid; }
  return lo;
}

function isIdentity(rows: Int32Array, n: number): boolean {
  if (rows.length !== n) return false;
  for (let i = 0; i < n; i++) if (rows[i] !== i) return false;
  return true;
}
