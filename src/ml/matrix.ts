// A dense row-major matrix of float64 values: the one array type the workload computes on.
import { InvalidInputError } from './errors.js';

export class Matrix {
  constructor(readonly rows: number, readonly cols: number, readonly data: Float64Array) {
    if (data.length !== rows * cols) {
      throw new InvalidInputError(`Matrix: data has ${data.length} values, expected rows*cols = ${rows}*${cols}`);
    }
  }

  /** A view (no copy) of row `i`. */
  row(i: number): Float64Array {
    return this.data.subarray(i * this.cols, (i + 1) * this.cols);
  }

  get(i: number, j: number): number {
    return this.data[i * this.cols + j];
  }

  /** The rows at `indices`, in that order, as a new matrix. */
  takeRows(indices: ArrayLike<number>): Matrix {
    const c = this.cols;
    const out = new Float64Array(indices.length * c);
    for (let k = 0; k < indices.length; k++) out.set(this.data.subarray(indices[k] * c, indices[k] * c + c), k * c);
    return new Matrix(indices.length, c, out);
  }

  toArrays(): number[][] {
    const out: number[][] = [];
    for (let i = 0; i < this.rows; i++) out.push(Array.from(this.row(i)));
    return out;
  }

  static fromArrays(rows: ArrayLike<ArrayLike<number>>): Matrix {
    const n = rows.length;
    const c = n === 0 ? 0 : rows[0].length;
    const data = new Float64Array(n * c);
    for (let i = 0; i < n; i++) {
      const r = rows[i];
      if (r.length !== c) throw new InvalidInputError(`row ${i} has ${r.length} features, row 0 has ${c}: all rows must have the same length`);
      for (let j = 0; j < c; j++) data[i * c + j] = r[j];
    }
    return new Matrix(n, c, data);
  }
}

/** What estimators accept as X: a Matrix, or rows of numbers. */
export type MatrixLike = Matrix | ArrayLike<ArrayLike<number>>;

export function toMatrix(X: MatrixLike, what = 'X'): Matrix {
  const m = X instanceof Matrix ? X : Matrix.fromArrays(X);
  for (let k = 0; k < m.data.length; k++) {
    if (!Number.isFinite(m.data[k])) {
      throw new InvalidInputError(`${what} contains a non-finite value (${m.data[k]}) at row ${Math.floor(k / m.cols)}, column ${k % m.cols}: clean or impute the data first`);
    }
  }
  return m;
}

/** Rows of `a` selected by `indices`, keeping the container kind (Matrix, typed array, plain array). */
export function takeRows<T>(a: T, indices: ArrayLike<number>): T {
  if (a instanceof Matrix) return a.takeRows(indices) as T;
  if (ArrayBuffer.isView(a) && !(a instanceof DataView)) {
    const src = a as unknown as { length: number; [i: number]: number; constructor: new (n: number) => { [i: number]: number } };
    const out = new src.constructor(indices.length);
    for (let k = 0; k < indices.length; k++) out[k] = src[indices[k]];
    return out as T;
  }
  if (Array.isArray(a)) return Array.from(indices, (i) => a[i]) as T;
  throw new InvalidInputError('takeRows: expected a Matrix, a typed array or an array');
}

export function numRows(a: unknown): number {
  if (a instanceof Matrix) return a.rows;
  if (Array.isArray(a) || (ArrayBuffer.isView(a) && !(a instanceof DataView))) return (a as ArrayLike<unknown>).length;
  throw new InvalidInputError('expected a Matrix, a typed array or an array');
}
