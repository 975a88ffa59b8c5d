// GridSearchCV shaped like scikit-learn's: a plan of fits (searchPlan.ts) executed by an engine
// (this process by default), reduced to cv_results_ (searchResults.ts), then an optional refit.
import { InvalidInputError, InvalidParameterError, MlError, NotFittedError } from './errors.js';
import { KernelCache } from './kernel.js';
import { toMatrix, type Matrix, type MatrixLike } from './matrix.js';
import { ParameterGrid, type ParamGridSpec, type Params } from './parameterGrid.js';
import { getScorer, type ScoreFunction } from './scorers.js';
import { makeSearchPlan, type SearchPlan } from './searchPlan.js';
import { aggregateResults, bestIndex, type CvResults, type TaskRecord } from './searchResults.js';
import { checkCv, type CrossValidator, type Split } from './split.js';
import { SolutionMemo } from './solutionMemo.js';
import { SVC, validateSVCParams, type SVCParams } from './svc.js';

/** Everything needed to run any task of a plan: data, splits, the shared kernel cache, scorers. */
export interface SearchContext {
  plan: SearchPlan;
  estimator: SVC;
  X: Matrix;
  y: Float64Array;
  splits: Split[];
  cache: KernelCache;
  scorers: ScoreFunction[];
  errorScore: 'raise' | number;
  clock: () => number;
  /** Exact reuse of binary solutions across C values (solutionMemo.ts). */
  memo: SolutionMemo;
}

/** Runs the tasks of the given groups, in group order, and returns their records. */
export function runGroups(ctx: SearchContext, groupIds: readonly number[]): TaskRecord[] {
  const out: TaskRecord[] = [];
  const { plan } = ctx;
  // Groups sharing a kernel matrix run back to back: the cache keeps one matrix, so each is built once
  // (also when an engine calls this one group at a time, in this order).
  const ordered = [...groupIds].sort((a, b) => {
    const ka = plan.groups[a].kernelKey;
    const kb = plan.groups[b].kernelKey;
    return ka < kb ? -1 : ka > kb ? 1 : a - b;
  });
  for (const gid of ordered) for (const tid of plan.groups[gid].tasks) out.push(runTask(ctx, tid));
  return out.sort((a, b) => a.task - b.task);
}

export function runTask(ctx: SearchContext, taskId: number): TaskRecord {
  const task = ctx.plan.tasks[taskId];
  const [train, test] = ctx.splits[task.split];
  const yTrain = Float64Array.from(train, (i) => ctx.y[i]);
  const yTest = Float64Array.from(test, (i) => ctx.y[i]);
  const t0 = ctx.clock();
  let model: SVC;
  try {
    model = ctx.estimator.clone(task.params as Partial<SVCParams>).fitRows(ctx.cache, train, yTrain, ctx.memo);
  } catch (e) {
    if (ctx.errorScore === 'raise' || !(e instanceof MlError) || e instanceof InvalidParameterError) throw e;
    const fitTime = (ctx.clock() - t0) / 1000;
    return { task: taskId, scores: new Float64Array(ctx.scorers.length).fill(ctx.errorScore), fitTime, scoreTime: 0, error: (e as Error).message };
  }
  const t1 = ctx.clock();
  const pred = model.predictRows(ctx.cache, test, ctx.memo);
  const scores = Float64Array.from(ctx.scorers, (s) => s(yTest, pred));
  const t2 = ctx.clock();
  return { task: taskId, scores, fitTime: (t1 - t0) / 1000, scoreTime: (t2 - t1) / 1000 };
}

/**
 * An execution engine: given the plan and a function that runs a set of groups on this process,
 * returns the records of every task (from every rank). The default runs all groups here.
 */
export type SearchEngine = (plan: SearchPlan, run: (groupIds: readonly number[]) => TaskRecord[]) => Promise<TaskRecord[]>;

export const localEngine: SearchEngine = async (plan, run) => run(plan.groups.map((g) => g.id));

/**
 * Kernel matrices and solved subproblems of one X, shareable between searches over the same data
 * (as the seed example's precision and recall searches): the second search reuses the first's
 * fits exactly instead of repeating them. Like scikit-learn's `memory=`, it changes speed only.
 */
export class SearchCache {
  readonly kernels: KernelCache;
  readonly memo = new SolutionMemo();
  constructor(X: MatrixLike) {
    this.kernels = new KernelCache(toMatrix(X));
  }
}

function sameMatrix(a: Matrix, b: Matrix): boolean {
  if (a === b) return true;
  if (a.rows !== b.rows || a.cols !== b.cols) return false;
  for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) return false;
  return true;
}

export interface GridSearchOptions {
  /** A scorer name or a list of names (multi-metric); default 'accuracy' (SVC.score). */
  scoring?: string | readonly string[];
  /** Number of stratified folds (default 5) or a cross-validator. */
  cv?: number | CrossValidator;
  /** true (single metric), a scorer name (required for multi-metric) or false. Default true. */
  refit?: boolean | string;
  /** Score for a failed fit (default NaN), or 'raise'. */
  errorScore?: 'raise' | number;
  engine?: SearchEngine;
  /** Milliseconds clock for fit/score times; default performance.now. */
  clock?: () => number;
  /** A cache shared with other searches on the same X (default: one per fit). */
  cache?: SearchCache;
}

export class GridSearchCV {
  readonly paramGrid: ParameterGrid;
  readonly scoring: string[];
  readonly multimetric: boolean;
  readonly refit: boolean | string;
  private readonly opts: GridSearchOptions;

  cvResults_?: CvResults;
  bestIndex_?: number;
  bestScore_?: number;
  bestParams_?: Params;
  bestEstimator_?: SVC;
  refitTime_?: number;
  nSplits_?: number;
  plan_?: SearchPlan;
  /** Per-task records (canonical plan order), for engines and checkpoints. */
  records_?: TaskRecord[];

  constructor(readonly estimator: SVC, paramGrid: ParamGridSpec | readonly ParamGridSpec[], opts: GridSearchOptions = {}) {
    const known = ['scoring', 'cv', 'refit', 'errorScore', 'engine', 'clock', 'cache'];
    for (const k of Object.keys(opts)) if (!known.includes(k)) throw new InvalidParameterError(k, `GridSearchCV has no option '${k}'; valid options: ${known.join(', ')}`);
    this.paramGrid = new ParameterGrid(paramGrid);
    // Every candidate is checked now, so a typo fails before any fit (the error names the parameter).
    for (const c of this.paramGrid) validateSVCParams(c as Partial<SVCParams>);
    this.scoring = opts.scoring === undefined ? ['accuracy'] : typeof opts.scoring === 'string' ? [opts.scoring] : [...opts.scoring];
    if (this.scoring.length === 0) throw new InvalidParameterError('scoring', 'give at least one scorer name');
    this.scoring.forEach((s) => getScorer(s));
    this.multimetric = typeof opts.scoring === 'object';
    this.refit = opts.refit ?? true;
    if (this.multimetric && this.refit === true) {
      throw new InvalidParameterError('refit', `with several scorers, refit must be the name of the scorer that picks the best candidate (one of ${this.scoring.join(', ')}) or false`);
    }
    if (typeof this.refit === 'string' && !this.scoring.includes(this.refit)) {
      throw new InvalidParameterError('refit', `'${this.refit}' is not one of the scorers ${this.scoring.join(', ')}`);
    }
    const es = opts.errorScore;
    if (es !== undefined && es !== 'raise' && typeof es !== 'number') throw new InvalidParameterError('errorScore', `must be 'raise' or a number, got ${String(es)}`);
    this.opts = opts;
  }

  /**
   * The plan of a search on (X, y) and the context that runs any of its groups: what fit() builds
   * before handing the plan to its engine (also for engines that run groups elsewhere, e.g. a thread).
   */
  prepare(X: MatrixLike, y: ArrayLike<number>): SearchContext {
    const Xm = toMatrix(X);
    if (Xm.rows !== y.length) throw new InvalidInputError(`fit: X has ${Xm.rows} rows but y has ${y.length} labels`);
    const yf = Float64Array.from(y);
    const cv = checkCv(this.opts.cv, true);
    const splits = [...cv.split(Xm, yf)];
    const candidates = this.paramGrid.toArray();
    const plan = makeSearchPlan({ candidates, nSplits: splits.length, scoring: this.scoring, baseParams: this.estimator.getParams(), nFeatures: Xm.cols });
    const clock = this.opts.clock ?? (() => performance.now());
    const shared = this.opts.cache;
    if (shared && !sameMatrix(shared.kernels.X, Xm)) {
      throw new InvalidParameterError('cache', 'the SearchCache was built for a different X; build one per data set');
    }
    return {
      plan, estimator: this.estimator, X: Xm, y: yf, splits, cache: shared?.kernels ?? new KernelCache(Xm),
      scorers: this.scoring.map(getScorer), errorScore: this.opts.errorScore ?? NaN, clock, memo: shared?.memo ?? new SolutionMemo(),
    };
  }

  async fit(X: MatrixLike, y: ArrayLike<number>): Promise<this> {
    const ctx = this.prepare(X, y);
    const { plan, X: Xm, y: yf, splits, clock } = ctx;
    const candidates = plan.candidates;
    const shared = this.opts.cache;
    const records = await (this.opts.engine ?? localEngine)(plan, (groups) => runGroups(ctx, groups));
    const agg = aggregateResults(plan, records);
    this.plan_ = plan;
    this.records_ = [...records].sort((a, b) => a.task - b.task);
    this.nSplits_ = splits.length;
    this.cvResults_ = agg.cvResults;
    if (this.refit !== false || !this.multimetric) {
      const metric = typeof this.refit === 'string' ? this.refit : this.scoring[0];
      this.bestIndex_ = bestIndex(agg.ranks[metric]);
      this.bestScore_ = agg.means[metric][this.bestIndex_];
      this.bestParams_ = candidates[this.bestIndex_];
    }
    if (this.refit !== false) {
      const t0 = clock();
      const all = Int32Array.from({ length: Xm.rows }, (_, i) => i);
      this.bestEstimator_ = this.estimator.clone(this.bestParams_ as Partial<SVCParams>).fitRows(ctx.cache, all, yf, ctx.memo);
      this.refitTime_ = (clock() - t0) / 1000;
    }
    ctx.cache.release(!shared);
    return this;
  }

  private best(): SVC {
    if (!this.bestEstimator_) throw new NotFittedError(this.refit === false ? 'this search was run with refit: false; refit a model with bestParams_ to predict' : 'call await fit(X, y) before predict');
    return this.bestEstimator_;
  }

  predict(X: MatrixLike): Float64Array {
    return this.best().predict(X);
  }

  /** The refit scorer on (X, y) with the best estimator. */
  score(X: MatrixLike, y: ArrayLike<number>): number {
    const metric = typeof this.refit === 'string' ? this.refit : this.scoring[0];
    return getScorer(metric)(Float64Array.from(y), this.predict(X));
  }
}
