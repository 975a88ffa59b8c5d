// Turning task records into scikit-learn's cv_results_, best index and score (pure, canonical
// order), so every engine and every rank reduces the same records to the same numbers.
import type { ParamValue, Params } from './parameterGrid.js';
import type { SearchPlan } from './searchPlan.js';

/** The compact result of one fit: one test score per scorer, and its timings (seconds). */
export interface TaskRecord {
  task: number;
  scores: Float64Array;
  fitTime: number;
  scoreTime: number;
  /** Set when the fit failed and errorScore was used. */
  error?: string;
}

export type CvResults = Record<string, Float64Array | Int32Array | Params[] | Array<ParamValue | undefined>>;

/** Row means and ddof=0 stds as scikit-learn's `_store` (np.average over splits). */
function meanStd(values: Float64Array, rows: number, cols: number): { mean: Float64Array; std: Float64Array } {
  const mean = new Float64Array(rows);
  const std = new Float64Array(rows);
  const dev = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const row = values.subarray(r * cols, r * cols + cols);
    mean[r] = sumNumpy(row) / cols;
    for (let c = 0; c < cols; c++) { const d = row[c] - mean[r]; dev[c] = d * d; }
    std[r] = Math.sqrt(sumNumpy(dev) / cols);
  }
  return { mean, std };
}

// numpy's pairwise sum for the short rows of cv_results (splits ≤ 128).
function sumNumpy(a: Float64Array): number {
  const n = a.length;
  if (n < 8) { let s = 0; for (let i = 0; i < n; i++) s += a[i]; return s; }
  const r = Array.from(a.subarray(0, 8));
  let i = 8;
  for (; i < n - (n % 8); i += 8) for (let k = 0; k < 8; k++) r[k] += a[i + k];
  let s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
  for (; i < n; i++) s += a[i];
  return s;
}

/** `rankdata(-means, method='min')`, NaN means tied with the worst (scikit-learn ≥ 1.1). */
export function rankMin(means: Float64Array): Int32Array {
  const n = means.length;
  const ranks = new Int32Array(n);
  if (means.every((m) => Number.isNaN(m))) return ranks.fill(1);
  let min = Infinity;
  for (const m of means) if (!Number.isNaN(m) && m < min) min = m;
  const v = Array.from(means, (m) => (Number.isNaN(m) ? min - 1 : m));
  for (let i = 0; i < n; i++) {
    let better = 0;
    for (let j = 0; j < n; j++) if (v[j] > v[i]) better++;
    ranks[i] = better + 1;
  }
  return ranks;
}

export interface AggregatedSearch {
  cvResults: CvResults;
  /** Per scorer: mean, std and rank arrays. */
  means: Record<string, Float64Array>;
  ranks: Record<string, Int32Array>;
}

/** Builds cv_results_ from the records of every task of `plan` (any order). */
export function aggregateResults(plan: SearchPlan, records: readonly TaskRecord[]): AggregatedSearch {
  const { candidates, nSplits, scoring } = plan;
  const byTask = new Map<number, TaskRecord>();
  for (const r of records) byTask.set(r.task, r);
  const nc = candidates.length;
  const get = (c: number, s: number): TaskRecord => {
    const t = plan.taskOf[c * nSplits + s];
    const r = byTask.get(t);
    if (!r) throw new Error(`aggregateResults: no record for task ${t} (candidate ${c}, split ${s})`);
    return r;
  };
  const fit = new Float64Array(nc * nSplits);
  const score = new Float64Array(nc * nSplits);
  for (let c = 0; c < nc; c++) for (let s = 0; s < nSplits; s++) { const r = get(c, s); fit[c * nSplits + s] = r.fitTime; score[c * nSplits + s] = r.scoreTime; }
  const res: CvResults = {};
  const ft = meanStd(fit, nc, nSplits);
  const st = meanStd(score, nc, nSplits);
  res.mean_fit_time = ft.mean;
  res.std_fit_time = ft.std;
  res.mean_score_time = st.mean;
  res.std_score_time = st.std;
  // param_<name> in first-seen order; undefined where a candidate lacks the parameter (masked).
  const names: string[] = [];
  for (const c of candidates) for (const k of Object.keys(c)) if (!names.includes(k)) names.push(k);
  for (const k of names) res[`param_${k}`] = candidates.map((c) => (k in c ? c[k] : undefined));
  res.params = candidates;
  const means: Record<string, Float64Array> = {};
  const ranks: Record<string, Int32Array> = {};
  const single = scoring.length === 1;
  scoring.forEach((name, si) => {
    const suffix = single ? 'score' : name;
    const v = new Float64Array(nc * nSplits);
    for (let c = 0; c < nc; c++) for (let s = 0; s < nSplits; s++) v[c * nSplits + s] = get(c, s).scores[si];
    for (let s = 0; s < nSplits; s++) res[`split${s}_test_${suffix}`] = Float64Array.from({ length: nc }, (_, c) => v[c * nSplits + s]);
    const ms = meanStd(v, nc, nSplits);
    res[`mean_test_${suffix}`] = ms.mean;
    res[`std_test_${suffix}`] = ms.std;
    const rk = rankMin(ms.mean);
    res[`rank_test_${suffix}`] = rk;
    means[name] = ms.mean;
    ranks[name] = rk;
  });
  return { cvResults: res, means, ranks };
}

/** First index with rank 1 (scikit-learn's `rank.argmin()`: ties go to the first candidate). */
export function bestIndex(ranks: Int32Array): number {
  let best = 0;
  for (let i = 1; i < ranks.length; i++) if (ranks[i] < ranks[best]) best = i;
  return best;
}
