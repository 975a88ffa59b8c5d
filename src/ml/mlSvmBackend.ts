// The `backend: 'ml-svm'` option: one-vs-one over the ml-svm package's binary SVM. Kept for
// comparison only — ml-svm is a simplified SMO with a random second index (Stanford CS229),
// ~30× slower than the 'smo' backend and only approximately equal to scikit-learn (see
// shared/reference/svm-and-sklearn.md §8). Workarounds applied here, one per trap:
//  - whitening:false (its min-max whitening turns constant columns into NaN and predicts −1 for all);
//  - labels exactly ±1 and rows as plain number[] (typed-array rows are misread as one sample);
//  - a precomputed kernel object reading the shared kernel cache, so kernels equal libsvm's;
//  - the kernel scaled to a unit diagonal with C scaled back (an equivalent dual): its absolute
//    1e-3 update threshold otherwise stops the linear kernel almost at once on 0..16 pixels;
//  - a seeded generator per binary problem (its default is Math.random: irreproducible);
//  - its 'max iterations reached' throw becomes a typed error; margins computed here (its own
//    marginOne allocates a matrix per support vector and sample).
// Not worked around: its clipping bound H = min(C, C + αj + αi) (should be αj − αi) can let α exceed C.
import { createRequire } from 'node:module';
import { MlError } from './errors.js';
import { KernelCache, kernelValue, type KernelSpec } from './kernel.js';
import { Matrix } from './matrix.js';

interface MlSvmInstance {
  train(features: number[][], labels: number[]): void;
  b: number;
  alphas: number[];
  Y: number[];
  X: number[][];
  _supportVectorIdx: number[];
}
type MlSvmCtor = new (options: Record<string, unknown>) => MlSvmInstance;

// Loaded on first use: ml-svm and its ml-matrix cost ~50 ms of start-up that 'smo' runs never need.
let mlSvm: MlSvmCtor | undefined;
const MlSvm = (): MlSvmCtor => (mlSvm ??= createRequire(import.meta.url)('ml-svm') as MlSvmCtor);

export interface MlSvmPairModel {
  /** y·α per subproblem position, in the original kernel scale (0 for non-support vectors). */
  coef: Float64Array;
  /** Decision value for a row of the training cache. */
  marginRow(row: number): number;
  /** Decision value for row i of an external matrix. */
  marginExternal(X: Matrix, i: number): number;
}

function mulberry32(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class MlSvmError extends MlError {}

export function fitMlSvmPair(cache: KernelCache, spec: KernelSpec, rows: Int32Array, ys: Float64Array, C: number, seed: number): MlSvmPairModel {
  const K = cache.matrix(spec);
  const N = cache.n;
  let maxDiag = 0;
  for (const r of rows) maxDiag = Math.max(maxDiag, K[r * N + r]);
  const f = maxDiag > 0 ? 1 / maxDiag : 1;
  // Features are [cache row] for training rows; the kernel object looks values up in the cache.
  const kernel = { compute: (a: number[], b: number[]): number => f * K[a[0] * N + b[0]] };
  const svm = new (MlSvm())({ C: C / f, kernel, whitening: false, random: mulberry32(seed) });
  try {
    svm.train(Array.from(rows, (r) => [r]), Array.from(ys));
  } catch (e) {
    throw new MlSvmError(`ml-svm failed on a binary subproblem of ${rows.length} samples (C=${C}, kernel=${spec.kernel}): ${(e as Error).message}; use backend 'smo'`);
  }
  const coef = new Float64Array(rows.length);
  svm._supportVectorIdx.forEach((t, k) => { coef[t] = ys[t] * svm.alphas[k] * f; });
  const svRows = svm.X.map((x) => x[0]);
  const weights = svm.alphas.map((a, k) => a * svm.Y[k]);
  const b = svm.b;
  return {
    coef,
    marginRow(row: number): number {
      let ans = b;
      for (let k = 0; k < svRows.length; k++) ans += weights[k] * (f * K[row * N + svRows[k]]);
      return ans;
    },
    marginExternal(X: Matrix, i: number): number {
      let ans = b;
      const S = cache.X;
      for (let k = 0; k < svRows.length; k++) ans += weights[k] * (f * kernelValue(spec, X.data, i * X.cols, S.data, svRows[k] * S.cols, S.cols));
      return ans;
    },
  };
}
