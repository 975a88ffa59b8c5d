// Built-in tasks: they travel by name, so every worker has them without importing user code.
// 'commune.svc-fit-score' runs one task of a grid-search plan with exactly the code the flat engine
// and the single-process search run (runTask on the same plan), so results are bit-identical.
import {
  checkCv, getScorer, KernelCache, makeSearchPlan, Matrix, runGroups, runTask, SolutionMemo, SVC,
  type Params, type SearchContext, type SVCParams, type TaskRecord,
} from '../src/ml/index.js';
import { registerBuiltin } from './task-ref.js';

export interface FitScoreSpec {
  /** Identifies the search (data, grid, folds, scorers): a worker builds its context once per token. */
  token: string;
  candidates: Params[];
  nFolds: number;
  scoring: string[];
  baseParams: Partial<SVCParams>;
  errorScore: 'raise' | number;
}

export interface PlainMatrix { rows: number; cols: number; data: Float64Array }

const contexts = new Map<string, SearchContext>();

function context(spec: FitScoreSpec, X: PlainMatrix, y: Float64Array): SearchContext {
  let ctx = contexts.get(spec.token);
  if (ctx) return ctx;
  const Xm = new Matrix(X.rows, X.cols, X.data);
  const splits = [...checkCv(spec.nFolds, true).split(Xm, y)];
  const estimator = new SVC(spec.baseParams);
  const plan = makeSearchPlan({ candidates: spec.candidates, nSplits: splits.length, scoring: spec.scoring, baseParams: estimator.getParams(), nFeatures: Xm.cols });
  ctx = {
    plan, estimator, X: Xm, y, splits, cache: new KernelCache(Xm), scorers: spec.scoring.map(getScorer),
    errorScore: spec.errorScore === 'raise' ? 'raise' : spec.errorScore, clock: () => performance.now(), memo: new SolutionMemo(),
  };
  // One search context per thread at a time: a new search's kernels replace the last one's.
  for (const [k, old] of contexts) { old.cache.release(true); contexts.delete(k); }
  contexts.set(spec.token, ctx);
  return ctx;
}

/** Fits and scores plan task `taskId` (all scorers on one fit). */
export function svcFitScore(spec: FitScoreSpec, X: PlainMatrix, y: Float64Array, taskId: number): TaskRecord {
  return runTask(context(spec, X, y), taskId);
}

/** Runs one kernel-affinity group of the plan (its fits in plan order share one kernel matrix). */
export function svcFitScoreGroup(spec: FitScoreSpec, X: PlainMatrix, y: Float64Array, groupId: number): TaskRecord[] {
  return runGroups(context(spec, X, y), [groupId]);
}

export function identity<T>(x: T): T { return x; }

registerBuiltin('commune.svc-fit-score', svcFitScore);
registerBuiltin('identity', identity);
registerBuiltin('commune.svc-fit-score-group', svcFitScoreGroup);
