// dask-ml's GridSearchCV on the co-ordinator: the same task plan as the flat engine (makeSearchPlan,
// fits de-duplicated across scorers, one task per distinct (candidate, split)), each task the
// built-in 'commune.svc-fit-score-group' on the workers, reduced by the same aggregateResults. dask-ml's
// defaults where they differ from scikit-learn's: cv = 3 folds, iid = true (test-size-weighted
// mean and std), errorScore = 'raise'. Identical candidates share one task (pure keys); the scorer
// is part of every key, so two searches that differ only in scoring never share results.
import {
  aggregateResults, bestIndex, GridSearchCV as MlGridSearchCV, KernelCache, rankMin, SolutionMemo, StratifiedKFold, SVC, toMatrix,
  type CvResults, type MatrixLike, type ParamGridSpec, type Params, type SearchEngine, type SVCParams, type TaskRecord,
} from '../src/ml/index.js';
import { svcFitScoreGroup, type FitScoreSpec } from './builtins.js';
import { Client, tokenize } from './client.js';
import { CompatUsageError } from './errors.js';
import type { Future } from './future.js';
import { encode } from './serialize.js';

export interface DaskGridSearchOptions {
  scoring?: string | string[];
  /** Number of stratified folds; dask-ml's default is 3. */
  cv?: number;
  /** dask-ml's default true: mean/std weighted by test-fold size. */
  iid?: boolean;
  refit?: boolean | string;
  errorScore?: 'raise' | number;
  returnTrainScore?: boolean;
  /** The Client (dask-ml's scheduler=client); default: the current Client. */
  scheduler?: Client;
  /** Accepted for compatibility: every worker thread extracts each fold once anyway (dask-ml's cache_cv). */
  cacheCv?: boolean;
  /** Accepted for compatibility; ignored under a distributed Client, as in dask-ml. */
  nJobs?: number;
}

const KNOWN = ['scoring', 'cv', 'iid', 'refit', 'errorScore', 'returnTrainScore', 'scheduler', 'cacheCv', 'nJobs'];

/** np.average(v, weights=w) and the weighted std, as dask-ml's iid=True. */
function weighted(v: Float64Array, w: Float64Array): { mean: number; std: number } {
  let sw = 0;
  let s = 0;
  for (let i = 0; i < v.length; i++) { s += v[i] * w[i]; sw += w[i]; }
  const mean = s / sw;
  let d = 0;
  for (let i = 0; i < v.length; i++) d += (v[i] - mean) ** 2 * w[i];
  return { mean, std: Math.sqrt(d / sw) };
}

export class GridSearchCV {
  readonly options: Required<Pick<DaskGridSearchOptions, 'cv' | 'iid' | 'refit' | 'errorScore'>> & DaskGridSearchOptions;
  cvResults_?: CvResults;
  bestIndex_?: number;
  bestScore_?: number;
  bestParams_?: Params;
  bestEstimator_?: SVC;
  nSplits_?: number;
  multimetric_ = false;
  records_?: TaskRecord[];
  /** Tasks submitted for this search (kernel-affinity groups of the plan). */
  nTasks_?: number;
  /** Distinct fits of the plan (candidates de-duplicated, shared by every scorer). */
  nFits_?: number;

  constructor(readonly estimator: SVC, readonly paramGrid: ParamGridSpec | ParamGridSpec[], o: DaskGridSearchOptions = {}) {
    for (const k of Object.keys(o)) if (!KNOWN.includes(k)) throw new CompatUsageError(`GridSearchCV has no option '${k}'; valid options: ${KNOWN.join(', ')}`);
    if (o.returnTrainScore) throw new CompatUsageError('GridSearchCV: returnTrainScore is not supported by this engine (the plan scores test folds only); leave it false');
    if (o.cv !== undefined && (!Number.isInteger(o.cv) || o.cv < 2)) throw new CompatUsageError(`GridSearchCV: cv must be an integer number of folds ≥ 2, got ${String(o.cv)}`);
    this.options = { ...o, cv: o.cv ?? 3, iid: o.iid ?? true, refit: o.refit ?? true, errorScore: o.errorScore ?? 'raise' };
    this.multimetric_ = Array.isArray(o.scoring);
    // Validates the grid, scorers and refit now, before any task is submitted.
    new MlGridSearchCV(estimator, paramGrid, { scoring: o.scoring, cv: this.options.cv, refit: this.options.refit, errorScore: this.options.errorScore });
  }

  get scheduler(): Client {
    const c = this.options.scheduler ?? Client.current();
    if (!c) throw new CompatUsageError('GridSearchCV: no scheduler — pass { scheduler: client } or create a Client first');
    return c;
  }

  async fit(X: MatrixLike, y: ArrayLike<number>): Promise<this> {
    const client = this.scheduler;
    const Xm = toMatrix(X);
    const yf = Float64Array.from(y);
    const o = this.options;
    const scoring = o.scoring === undefined ? ['accuracy'] : typeof o.scoring === 'string' ? [o.scoring] : [...o.scoring];
    let testSizes: Float64Array | undefined;
    const engine: SearchEngine = async (plan) => {
      // The data travel once (scatter, hashed keys: a second search on the same X reuses them).
      const [xf, yfut] = client.scatter([{ rows: Xm.rows, cols: Xm.cols, data: Xm.data }, yf]) as Future[];
      const spec: FitScoreSpec = {
        token: '', candidates: plan.candidates, nFolds: o.cv, scoring: plan.scoring, baseParams: this.estimator.getParams(), errorScore: o.errorScore,
      };
      spec.token = tokenize(encode({ ...spec, x: xf.key, y: yfut.key }));
      const name = `svc-fit-score-${spec.token}`;
      // One task per kernel-affinity group of the plan (a split and a kernel): its fits share one
      // kernel matrix and reuse each other's exact solutions across C, as on the flat engine.
      // Groups in kernel order, as runGroups, so consecutive tasks on a thread share a matrix.
      const order = [...plan.groups].sort((a, b) => (a.kernelKey < b.kernelKey ? -1 : a.kernelKey > b.kernelKey ? 1 : a.id - b.id));
      const futures = order.map((g) => client.submit(svcFitScoreGroup, spec, xf, yfut, g.id, { key: `${name}-g${g.id}` }));
      this.nTasks_ = futures.length;
      this.nFits_ = plan.tasks.length;
      const records = ((await client.gather(futures)) as TaskRecord[][]).flat();
      futures.forEach((f) => f.release());
      xf.release();
      yfut.release();
      if (o.iid) {
        testSizes = Float64Array.from([...new StratifiedKFold({ nSplits: o.cv }).split(Xm, yf)], ([, test]) => test.length);
      }
      return records.map((r) => ({ ...r, scores: Float64Array.from(r.scores) }));
    };
    const inner = await new MlGridSearchCV(this.estimator, this.paramGrid, { scoring: o.scoring, cv: o.cv, refit: false, errorScore: o.errorScore, engine }).fit(Xm, yf);
    const plan = inner.plan_!;
    const cv = { ...inner.cvResults_! };
    const single = scoring.length === 1;
    const ranks: Record<string, Int32Array> = {};
    const means: Record<string, Float64Array> = {};
    const agg = aggregateResults(plan, inner.records_!);
    for (const s of scoring) { ranks[s] = agg.ranks[s]; means[s] = agg.means[s]; }
    if (o.iid && testSizes) {
      for (const s of scoring) {
        const suffix = single ? 'score' : s;
        const n = plan.candidates.length;
        const m = new Float64Array(n);
        const sd = new Float64Array(n);
        for (let c = 0; c < n; c++) {
          const v = Float64Array.from({ length: plan.nSplits }, (_, k) => (cv[`split${k}_test_${suffix}`] as Float64Array)[c]);
          const r = weighted(v, testSizes);
          m[c] = r.mean;
          sd[c] = r.std;
        }
        cv[`mean_test_${suffix}`] = m;
        cv[`std_test_${suffix}`] = sd;
        cv[`rank_test_${suffix}`] = rankMin(m);
        ranks[s] = cv[`rank_test_${suffix}`] as Int32Array;
        means[s] = m;
      }
    }
    this.cvResults_ = cv;
    this.records_ = inner.records_;
    this.nSplits_ = plan.nSplits;
    if (o.refit !== false || !this.multimetric_) {
      const metric = typeof o.refit === 'string' ? o.refit : scoring[0];
      this.bestIndex_ = bestIndex(ranks[metric]);
      this.bestScore_ = means[metric][this.bestIndex_];
      this.bestParams_ = plan.candidates[this.bestIndex_];
    }
    if (o.refit !== false) {
      // dask-ml refits the first best candidate on all of X (its 'best-estimator' graph); here on the client.
      const all = Int32Array.from({ length: Xm.rows }, (_, i) => i);
      this.bestEstimator_ = this.estimator.clone(this.bestParams_ as Partial<SVCParams>).fitRows(new KernelCache(Xm), all, yf, new SolutionMemo());
    }
    return this;
  }

  predict(X: MatrixLike): Float64Array {
    if (!this.bestEstimator_) throw new CompatUsageError(this.options.refit === false ? 'GridSearchCV was fit with refit: false; there is no best estimator to predict with' : 'call await fit(X, y) first');
    return this.bestEstimator_.predict(X);
  }
}
