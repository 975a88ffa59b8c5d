// scikit-learn's ParameterGrid: candidates in the same order, so candidate indices agree.
import { InvalidParameterError } from './errors.js';

export type ParamValue = number | string | boolean | null;
export type Params = Record<string, ParamValue>;
/** Parameter name → values to try. `undefined` entries (as TypeScript infers for a list of
 * differently-shaped literal dicts) are ignored. */
export type ParamGridSpec = { readonly [name: string]: readonly ParamValue[] | undefined };
type CleanSpec = Record<string, readonly ParamValue[]>;

export class ParameterGrid implements Iterable<Params> {
  private readonly grids: CleanSpec[];

  constructor(grid: ParamGridSpec | readonly ParamGridSpec[]) {
    const list: ParamGridSpec[] = Array.isArray(grid) ? [...grid] : [grid as ParamGridSpec];
    this.grids = list.map((g, i) => {
      if (typeof g !== 'object' || g === null || Array.isArray(g)) throw new InvalidParameterError('paramGrid', `entry ${i} must be an object of parameter → list of values`);
      const clean: CleanSpec = {};
      for (const [k, v] of Object.entries(g)) {
        if (v === undefined) continue;
        if (!Array.isArray(v)) throw new InvalidParameterError(k, `the grid value must be a list of values, got ${JSON.stringify(v)}`);
        if (v.length === 0) throw new InvalidParameterError(k, 'the grid lists no values: give at least one');
        clean[k] = v;
      }
      return clean;
    });
  }

  /** Number of candidates. */
  get length(): number {
    return this.grids.reduce((s, g) => s + Object.values(g).reduce((p, v) => p * v.length, 1), 0);
  }

  /** Per grid: keys sorted, then the product with the last key varying fastest (itertools.product). */
  *[Symbol.iterator](): Iterator<Params> {
    for (const g of this.grids) {
      const keys = Object.keys(g).sort();
      const lists = keys.map((k) => g[k]);
      const idx = new Array<number>(keys.length).fill(0);
      for (;;) {
        const p: Params = {};
        keys.forEach((k, i) => { p[k] = lists[i][idx[i]]; });
        yield p;
        let d = keys.length - 1;
        while (d >= 0 && ++idx[d] === lists[d].length) { idx[d] = 0; d--; }
        if (d < 0) break;
      }
    }
  }

  toArray(): Params[] {
    return [...this];
  }
}
