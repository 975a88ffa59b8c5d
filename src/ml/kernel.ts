// Kernels as libsvm computes them, and the shared kernel cache that makes a grid search fast:
// one Gram matrix of the training set serves every fold, gamma and C.
import { InvalidInputError } from './errors.js';
import { Matrix } from './matrix.js';

export type KernelName = 'rbf' | 'linear' | 'poly' | 'sigmoid';

/** A kernel with its numeric parameters resolved (gamma already a number). */
export interface KernelSpec {
  kernel: KernelName;
  gamma: number;
  degree: number;
  coef0: number;
}

/** libsvm's `powi`: repeated squaring, so poly kernels round exactly as libsvm's. */
export function powi(base: number, times: number): number {
  let tmp = base;
  let ret = 1.0;
  for (let t = times; t > 0; t = Math.floor(t / 2)) {
    if (t % 2 === 1) ret *= tmp;
    tmp *= tmp;
  }
  return ret;
}

function dot(a: Float64Array, ao: number, b: Float64Array, bo: number, n: number): number {
  let s = 0;
  for (let k = 0; k < n; k++) s += a[ao + k] * b[bo + k];
  return s;
}

/** libsvm `Kernel::k_function` (used for prediction): rbf sums squared differences directly. */
export function kernelValue(spec: KernelSpec, a: Float64Array, ao: number, b: Float64Array, bo: number, n: number): number {
  switch (spec.kernel) {
    case 'linear':
      return dot(a, ao, b, bo, n);
    case 'poly':
      return powi(spec.gamma * dot(a, ao, b, bo, n) + spec.coef0, spec.degree);
    case 'sigmoid':
      return Math.tanh(spec.gamma * dot(a, ao, b, bo, n) + spec.coef0);
    case 'rbf': {
      let s = 0;
      for (let k = 0; k < n; k++) {
        const d = a[ao + k] - b[bo + k];
        s += d * d;
      }
      return Math.exp(-spec.gamma * s);
    }
  }
}

/**
 * kv[s] = kernelValue(spec, x, xo, sv, s·n, n) for every row s of `sv` (prediction's kernel row): the
 * same arithmetic per value, four support vectors at a time sharing each load of x for rbf and linear.
 */
export function kernelRow(spec: KernelSpec, x: Float64Array, xo: number, sv: Float64Array, n: number, kv: Float64Array): void {
  const rows = kv.length;
  if (spec.kernel !== 'rbf' && spec.kernel !== 'linear') {
    for (let s = 0; s < rows; s++) kv[s] = kernelValue(spec, x, xo, sv, s * n, n);
    return;
  }
  const rbf = spec.kernel === 'rbf';
  const g = spec.gamma;
  let s = 0;
  for (; s + 3 < rows; s += 4) {
    const o0 = s * n, o1 = o0 + n, o2 = o1 + n, o3 = o2 + n;
    let v0 = 0, v1 = 0, v2 = 0, v3 = 0;
    if (rbf) {
      for (let k = 0; k < n; k++) {
        const a = x[xo + k];
        const d0 = a - sv[o0 + k], d1 = a - sv[o1 + k], d2 = a - sv[o2 + k], d3 = a - sv[o3 + k];
        v0 += d0 * d0; v1 += d1 * d1; v2 += d2 * d2; v3 += d3 * d3;
      }
      kv[s] = Math.exp(-g * v0); kv[s + 1] = Math.exp(-g * v1); kv[s + 2] = Math.exp(-g * v2); kv[s + 3] = Math.exp(-g * v3);
    } else {
      for (let k = 0; k < n; k++) {
        const a = x[xo + k];
        v0 += a * sv[o0 + k]; v1 += a * sv[o1 + k]; v2 += a * sv[o2 + k]; v3 += a * sv[o3 + k];
      }
      kv[s] = v0; kv[s + 1] = v1; kv[s + 2] = v2; kv[s + 3] = v3;
    }
  }
  for (; s < rows; s++) kv[s] = kernelValue(spec, x, xo, sv, s * n, n);
}

export function kernelKey(spec: KernelSpec): string {
  switch (spec.kernel) {
    case 'linear': return 'linear';
    case 'rbf': return `rbf:${spec.gamma}`;
    case 'poly': return `poly:${spec.gamma}:${spec.coef0}:${spec.degree}`;
    case 'sigmoid': return `sigmoid:${spec.gamma}:${spec.coef0}`;
  }
}

/**
 * Full n×n kernel matrices over the rows of one base matrix, built from a single Gram matrix
 * (x_i·x_j; rbf uses the squared distance ‖x_i‖² + ‖x_j‖² − 2 x_i·x_j, libsvm's training formula).
 * A fold's kernel is the sub-matrix at its row indices, so nothing is recomputed per fold or per C.
 * The latest matrix is memoised (asking for another kernel drops it); `release()` drops it too.
 */
export class KernelCache {
  readonly n: number;
  private gramM?: Float64Array;
  private readonly memo = new Map<string, Float64Array>();

  constructor(readonly X: Matrix) {
    this.n = X.rows;
    if (X.rows === 0) throw new InvalidInputError('KernelCache: X has no rows');
  }

  /** Gram matrix G[i*n+j] = x_i·x_j (symmetric, computed once). */
  gram(): Float64Array {
    if (!this.gramM) {
      const { n } = this;
      const c = this.X.cols;
      const x = this.X.data;
      const g = new Float64Array(n * n);
      // Four columns j at a time share each load of x_i (each sum still runs k = 0, 1, … in order, so
      // the bits are those of one dot product at a time): ~2× faster, paid by every rank at start.
      for (let i = 0; i < n; i++) {
        const io = i * c;
        let j = i;
        for (; j + 3 < n; j += 4) {
          const j0 = j * c, j1 = j0 + c, j2 = j1 + c, j3 = j2 + c;
          let v0 = 0, v1 = 0, v2 = 0, v3 = 0;
          for (let k = 0; k < c; k++) {
            const xi = x[io + k];
            v0 += xi * x[j0 + k]; v1 += xi * x[j1 + k]; v2 += xi * x[j2 + k]; v3 += xi * x[j3 + k];
          }
          g[i * n + j] = v0; g[j * n + i] = v0;
          g[i * n + j + 1] = v1; g[(j + 1) * n + i] = v1;
          g[i * n + j + 2] = v2; g[(j + 2) * n + i] = v2;
          g[i * n + j + 3] = v3; g[(j + 3) * n + i] = v3;
        }
        for (; j < n; j++) {
          const jo = j * c;
          let v = 0;
          for (let k = 0; k < c; k++) v += x[io + k] * x[jo + k];
          g[i * n + j] = v;
          g[j * n + i] = v;
        }
      }
      this.gramM = g;
    }
    return this.gramM;
  }

  /** The n×n kernel matrix for `spec`. */
  matrix(spec: KernelSpec): Float64Array {
    const key = kernelKey(spec);
    let k = this.memo.get(key);
    if (k) return k;
    const { n } = this;
    // One matrix at a time (besides the Gram matrix): searches run the fits of one kernel back to back,
    // and a long grid of gammas would otherwise hold n² doubles per gamma.
    if (spec.kernel !== 'linear') this.memo.clear();
    if (spec.kernel === 'linear') {
      k = this.gram();
    } else if (spec.kernel === 'rbf') {
      // libsvm's training formula exp(−γ(‖x_i‖² + ‖x_j‖² − 2 x_i·x_j)), straight from the Gram matrix.
      // The matrix is symmetric bit for bit (the two norms add in either order), so each exp is
      // computed once for both triangles.
      const gm = this.gram();
      k = new Float64Array(n * n);
      const g = spec.gamma;
      for (let i = 0; i < n; i++) {
        const xi = gm[i * n + i];
        for (let j = i; j < n; j++) {
          const v = Math.exp(-g * (xi + gm[j * n + j] - 2 * gm[i * n + j]));
          k[i * n + j] = v;
          k[j * n + i] = v;
        }
      }
    } else {
      const gm = this.gram();
      k = new Float64Array(n * n);
      const { gamma, coef0, degree } = spec;
      if (spec.kernel === 'poly') for (let t = 0; t < k.length; t++) k[t] = powi(gamma * gm[t] + coef0, degree);
      else for (let t = 0; t < k.length; t++) k[t] = Math.tanh(gamma * gm[t] + coef0);
    }
    this.memo.set(key, k);
    return k;
  }

  /** Drops memoised kernel matrices (not the Gram matrix unless `all`). */
  release(all = false): void {
    this.memo.clear();
    if (all) this.gramM = undefined;
  }
}
