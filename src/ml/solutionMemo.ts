// Exact reuse of binary solutions across C values within one search (see solutionHoldsFor):
// a solve that never touched its bound is bit-identical for every C above its peak, and so are
// the predictions of a model made entirely of such reused solutions.
import { solutionHoldsFor, type BinarySolution } from './smo.js';

interface Entry { C: number; sol: BinarySolution; id: number }

export class SolutionMemo {
  private readonly sols = new WeakMap<Float64Array, WeakMap<Int32Array, Map<string, Entry[]>>>();
  private readonly preds = new WeakMap<Int32Array, Map<string, Float64Array>>();
  private nextId = 0;
  hits = 0;
  misses = 0;

  private list(K: Float64Array, train: Int32Array, key: string): Entry[] {
    let byTrain = this.sols.get(K);
    if (!byTrain) { byTrain = new WeakMap(); this.sols.set(K, byTrain); }
    let byKey = byTrain.get(train);
    if (!byKey) { byKey = new Map(); byTrain.set(train, byKey); }
    let l = byKey.get(key);
    if (!l) { l = []; byKey.set(key, l); }
    return l;
  }

  /** A stored solution of the same subproblem (kernel matrix, training rows, key) valid for C. */
  find(K: Float64Array, train: Int32Array, key: string, C: number): { sol: BinarySolution; id: number } | undefined {
    const e = this.list(K, train, key).find((x) => solutionHoldsFor(x.sol, x.C, C));
    if (e) this.hits++; else this.misses++;
    return e;
  }

  store(K: Float64Array, train: Int32Array, key: string, C: number, sol: BinarySolution): number {
    const id = this.nextId++;
    this.list(K, train, key).push({ C, sol, id });
    return id;
  }

  /** Predictions made by a model with `signature` (its solution ids) on the rows `test`. */
  predictions(test: Int32Array, signature: string): Float64Array | undefined {
    return this.preds.get(test)?.get(signature);
  }

  storePredictions(test: Int32Array, signature: string, p: Float64Array): void {
    let m = this.preds.get(test);
    if (!m) { m = new Map(); this.preds.set(test, m); }
    m.set(signature, p);
  }
}
