// Exact reuse of binary solutions across C values (see solutionHoldsFor in smo.ts): a solve that
// never touched its bound is bit-identical for every C above its peak, and so are the predictions
// of a model made entirely of such solutions. Keys are by content (kernel parameters, training
// rows, class pair), so one memo can serve several searches over the same X.
import { solutionHoldsFor, type BinarySolution } from './smo.js';

interface Entry { C: number; sol: BinarySolution; id: number }

export class SolutionMemo {
  private readonly sols = new Map<string, Entry[]>();
  private readonly preds = new Map<string, Float64Array>();
  private readonly rowKeys = new WeakMap<Int32Array, string>();
  /** A short id per distinct row-index content: keys hash a few characters, not ~700 indices per lookup. */
  private readonly contentIds = new Map<string, string>();
  private nextId = 0;
  hits = 0;
  misses = 0;

  /** A content key for a row-index array (computed once per array object; equal contents, equal keys). */
  rowsKey(rows: Int32Array): string {
    let k = this.rowKeys.get(rows);
    if (k === undefined) {
      const content = rows.join(',');
      k = this.contentIds.get(content);
      if (k === undefined) { k = `#${this.contentIds.size}`; this.contentIds.set(content, k); }
      this.rowKeys.set(rows, k);
    }
    return k;
  }

  /** A stored solution of the same subproblem valid for C. `key` names kernel, pair and solver options. */
  find(train: Int32Array, key: string, C: number): { sol: BinarySolution; id: number } | undefined {
    const e = this.sols.get(`${key}|${this.rowsKey(train)}`)?.find((x) => solutionHoldsFor(x.sol, x.C, C));
    if (e) this.hits++; else this.misses++;
    return e;
  }

  store(train: Int32Array, key: string, C: number, sol: BinarySolution): number {
    const id = this.nextId++;
    const k = `${key}|${this.rowsKey(train)}`;
    let l = this.sols.get(k);
    if (!l) { l = []; this.sols.set(k, l); }
    l.push({ C, sol, id });
    return id;
  }

  /** Predictions made by a model with `signature` (its solution ids) on the rows `test`. */
  predictions(test: Int32Array, signature: string): Float64Array | undefined {
    return this.preds.get(`${signature}|${this.rowsKey(test)}`);
  }

  storePredictions(test: Int32Array, signature: string, p: Float64Array): void {
    this.preds.set(`${signature}|${this.rowsKey(test)}`, p);
  }
}
