// The task plan of a grid search: a pure function of the configuration, so every rank computes
// the same plan without communicating. One fit per (distinct candidate, split), scored by every
// scorer; fits grouped by kernel affinity (same split and kernel matrix) so a group's kernel is
// built once; groups dealt to ranks by estimated cost.
import { InvalidParameterError } from './errors.js';
import { kernelKey, type KernelName } from './kernel.js';
import type { Params } from './parameterGrid.js';
import { pyDictRepr } from './pyFormat.js';
import { SVC_DEFAULTS, validateSVCParams, type SVCParams } from './svc.js';

export interface FitTask {
  id: number;
  /** The first candidate with these parameters (duplicates share the fit). */
  candidate: number;
  split: number;
  params: Params;
  /** The kernel matrix this fit reads ('rbf:scale' when gamma depends on the fold's data). */
  kernelKey: string;
  group: number;
}

export interface TaskGroup {
  id: number;
  split: number;
  kernelKey: string;
  tasks: number[];
  /** Relative cost estimate used to balance ranks. */
  cost: number;
}

export interface SearchPlan {
  candidates: Params[];
  nSplits: number;
  scoring: string[];
  tasks: FitTask[];
  groups: TaskGroup[];
  /** taskOf[candidate * nSplits + split] = task id. */
  taskOf: Int32Array;
}

/** The kernel a candidate's SVC uses, as a cache key; gamma 'scale' stays symbolic (fold-dependent). */
export function candidateKernelKey(params: Partial<SVCParams>, nFeatures?: number): string {
  const p = { ...SVC_DEFAULTS, ...params };
  const kernel = p.kernel as KernelName;
  if (p.gamma === 'scale' && kernel !== 'linear') return `${kernel}:scale:${p.coef0}:${p.degree}`;
  const gamma = p.gamma === 'auto' ? (nFeatures ? 1 / nFeatures : 'auto') : p.gamma;
  if (gamma === 'auto') return `${kernel}:auto:${p.coef0}:${p.degree}`;
  return kernelKey({ kernel, gamma: gamma as number, degree: p.degree, coef0: p.coef0 });
}

export function makeSearchPlan(opts: { candidates: Params[]; nSplits: number; scoring: string[]; baseParams?: Partial<SVCParams>; nFeatures?: number }): SearchPlan {
  const { candidates, nSplits, scoring } = opts;
  if (candidates.length === 0) throw new InvalidParameterError('paramGrid', 'the grid has no candidates');
  if (!Number.isInteger(nSplits) || nSplits < 1) throw new InvalidParameterError('cv', `needs at least one split, got ${nSplits}`);
  const firstOf = new Map<string, number>();
  const tasks: FitTask[] = [];
  const taskOf = new Int32Array(candidates.length * nSplits);
  const groupOf = new Map<string, TaskGroup>();
  const groups: TaskGroup[] = [];
  candidates.forEach((c, ci) => {
    const merged = { ...opts.baseParams, ...c } as Partial<SVCParams>;
    validateSVCParams(merged);
    const key = pyDictRepr(Object.fromEntries(Object.entries(merged).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
    const first = firstOf.get(key);
    if (first !== undefined) {
      for (let s = 0; s < nSplits; s++) taskOf[ci * nSplits + s] = taskOf[first * nSplits + s];
      return;
    }
    firstOf.set(key, ci);
    const kk = candidateKernelKey(merged, opts.nFeatures);
    for (let s = 0; s < nSplits; s++) {
      const gk = `${s}|${kk}`;
      let g = groupOf.get(gk);
      if (!g) { g = { id: groups.length, split: s, kernelKey: kk, tasks: [], cost: 0 }; groupOf.set(gk, g); groups.push(g); }
      const t: FitTask = { id: tasks.length, candidate: ci, split: s, params: c, kernelKey: kk, group: g.id };
      tasks.push(t);
      g.tasks.push(t.id);
      g.cost += 1;
      taskOf[ci * nSplits + s] = t.id;
    }
  });
  return { candidates, nSplits, scoring, tasks, groups, taskOf };
}

/**
 * Deterministic cost balancing (longest processing time first): groups by descending cost, then
 * id; each to the least-loaded rank, ties to the lowest rank. Returns the group ids per rank.
 */
export function assignGroups(plan: SearchPlan, size: number): number[][] {
  if (!Number.isInteger(size) || size < 1) throw new InvalidParameterError('size', `must be a positive integer, got ${size}`);
  const order = [...plan.groups].sort((a, b) => b.cost - a.cost || a.id - b.id);
  const load = new Array<number>(size).fill(0);
  const out: number[][] = Array.from({ length: size }, () => []);
  for (const g of order) {
    let r = 0;
    for (let k = 1; k < size; k++) if (load[k] < load[r]) r = k;
    out[r].push(g.id);
    load[r] += g.cost;
  }
  for (const l of out) l.sort((a, b) => a - b);
  return out;
}
