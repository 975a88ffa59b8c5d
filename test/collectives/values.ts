import type { ReduceArray, UserOp } from '../../src/collectives/types.js';
import type { Dtype } from './support.js';

// Contributions whose reductions have a closed form (as in MPICH's allred.c): integer types are
// reduced exactly in BigInt and then wrapped like C; float values are dyadic and small enough that
// every partial sum or product is exact, so any order gives the same bits.

export type CaseOp = 'sum' | 'prod' | 'min' | 'max' | 'minloc' | 'maxloc' | 'usersum';
export const CASE_OPS: CaseOp[] = ['sum', 'prod', 'min', 'max', 'minloc', 'maxloc', 'usersum'];

function scalar(dtype: Dtype, op: CaseOp, r: number, i: number): bigint | number {
  if (dtype === BigInt64Array) return BigInt.asIntN(64, BigInt(i + r + 1) * 0x0123456789abcdefn);
  if (dtype === Int32Array) return Number(BigInt.asIntN(32, BigInt(i + r + 1) * 123456789n));
  if (dtype === Uint8Array) return (i * 31 + r * 7 + 1) & 255;
  if (op === 'prod') return ((i + r) % 3 + 1) * 0.5;
  if (op === 'min' || op === 'max') return ((i * 7919 + r * 104729) % 1009) - 500 + 0.25;
  return (i % 1000) + 2 * r + 0.5;
}

const memo = new Map<string, ReduceArray>();
function cached(key: string, make: () => ReduceArray): ReduceArray {
  let v = memo.get(key);
  if (!v) { v = make(); memo.set(key, v); }
  return v;
}

/** Rank r's contribution: `n` elements (minloc/maxloc: n [value, index] pairs). A shared array: do not modify. */
export function contribution(dtype: Dtype, op: CaseOp, r: number, n: number): ReduceArray {
  return cached(`c ${dtype.name} ${op} ${r} ${n}`, () => makeContribution(dtype, op, r, n));
}

/** The reduction over ranks 0..p−1, computed exactly and stored in `dtype` (shared: do not modify). */
export function expected(dtype: Dtype, op: CaseOp, p: number, n: number): ReduceArray {
  return cached(`e ${dtype.name} ${op} ${p} ${n}`, () => makeExpected(dtype, op, p, n));
}

function makeContribution(dtype: Dtype, op: CaseOp, r: number, n: number): ReduceArray {
  if (op === 'minloc' || op === 'maxloc') {
    const a = new dtype(2 * n) as ReduceArray;
    for (let i = 0; i < n; i++) {
      const v = (i * 7 + r * 3) % 5;
      (a as unknown as (number | bigint)[])[2 * i] = dtype === BigInt64Array ? BigInt(v) : v;
      (a as unknown as (number | bigint)[])[2 * i + 1] = dtype === BigInt64Array ? BigInt(r) : r;
    }
    return a;
  }
  const a = new dtype(n) as ReduceArray;
  for (let i = 0; i < n; i++) (a as unknown as (number | bigint)[])[i] = scalar(dtype, op, r, i);
  return a;
}

function makeExpected(dtype: Dtype, op: CaseOp, p: number, n: number): ReduceArray {
  if (op === 'minloc' || op === 'maxloc') {
    const out = new dtype(2 * n) as unknown as (number | bigint)[];
    for (let i = 0; i < n; i++) {
      let best = -1, bestV = 0;
      for (let r = 0; r < p; r++) {
        const v = (i * 7 + r * 3) % 5;
        if (best < 0 || (op === 'minloc' ? v < bestV : v > bestV)) { best = r; bestV = v; }
      }
      out[2 * i] = dtype === BigInt64Array ? BigInt(bestV) : bestV;
      out[2 * i + 1] = dtype === BigInt64Array ? BigInt(best) : best;
    }
    return out as unknown as ReduceArray;
  }
  const out = new dtype(n) as ReduceArray;
  const o = out as unknown as (number | bigint)[];
  for (let i = 0; i < n; i++) {
    let x: bigint | number;
    if (dtype === Float64Array || dtype === Float32Array) {
      const fs = Array.from({ length: p }, (_, r) => scalar(dtype, op, r, i) as number);
      x = op === 'prod' ? fs.reduce((a, b) => a * b) : op === 'min' ? Math.min(...fs) : op === 'max' ? Math.max(...fs) : fs.reduce((a, b) => a + b);
    } else {
      const big = Array.from({ length: p }, (_, r) => BigInt(scalar(dtype, op, r, i)));
      const e = op === 'prod' ? big.reduce((a, b) => a * b) : op === 'min' ? big.reduce((a, b) => (b < a ? b : a))
        : op === 'max' ? big.reduce((a, b) => (b > a ? b : a)) : big.reduce((a, b) => a + b);
      x = dtype === BigInt64Array ? BigInt.asIntN(64, e) : dtype === Int32Array ? Number(BigInt.asIntN(32, e)) : Number(BigInt.asUintN(8, e));
    }
    o[i] = x;
  }
  return out;
}

/** A commutative user op (elementwise sum into a new array), to exercise the user-op paths. */
export const userSum: UserOp = {
  name: 'usersum',
  commutative: true,
  fn: (a, b) => {
    const c = new (a.constructor as new (n: number) => ReduceArray)(a.length) as unknown as (number | bigint)[];
    const x = a as unknown as (number | bigint)[], y = b as unknown as (number | bigint)[];
    for (let i = 0; i < a.length; i++) c[i] = (x[i] as number) + (y[i] as number);
    return c as unknown as ReduceArray;
  },
};

export function opFor(op: CaseOp): 'sum' | 'prod' | 'min' | 'max' | 'minloc' | 'maxloc' | UserOp {
  return op === 'usersum' ? userSum : op;
}

/** 3×3 matrix product (row-major Float64Array(9)): associative, not commutative. */
export const matmul: UserOp<Float64Array> = {
  name: 'matmul',
  commutative: false,
  fn: (a, b) => {
    const c = new Float64Array(9);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
      let s = 0;
      for (let k = 0; k < 3; k++) s += a[3 * i + k] * b[3 * k + j];
      c[3 * i + j] = s;
    }
    return c;
  },
};
