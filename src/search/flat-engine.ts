// The flat engine for GridSearchCV (DESIGN.md "One task plan, three engines"): every rank computes
// the same plan, runs its deterministic, cost-balanced share of the kernel-affinity groups
// (assignGroups(plan, size)[rank]), then ONE allgather of compact score records; every rank then
// reduces all records in canonical plan order (aggregateResults), so cv_results_, best_params_ and
// best_index_ are bit-identical on every rank, for every rank count, and to the local engine.
//
//   const search = new GridSearchCV(new SVC(), grid, { scoring, engine: flatEngine(comm) });
//   await search.fit(X, y);   // collective: every rank of comm calls it with the same configuration
//
// Refit: GridSearchCV's own refit runs on every rank (each rank holds the data, and the refit is
// deterministic), so bestEstimator_ is identical everywhere. Pass `refit: false` on ranks that do
// not need a model.
import type { Communicator } from '../collectives/communicator.js';
import { CommuneError } from '../errors.js';
import { assignGroups, type SearchEngine, type SearchPlan, type TaskRecord } from '../ml/index.js';

/** The records of one rank packed as a few typed arrays (MessagePack keeps them binary and exact). */
export interface PackedRecords {
  tasks: Int32Array;
  /** tasks.length × nScorers, row-major. */
  scores: Float64Array;
  fitTime: Float64Array;
  scoreTime: Float64Array;
  /** [task, message] for fits that failed and were scored with errorScore. */
  errors: Array<[number, string]>;
}

export function packRecords(records: readonly TaskRecord[], nScorers: number): PackedRecords {
  const n = records.length;
  const out: PackedRecords = {
    tasks: new Int32Array(n), scores: new Float64Array(n * nScorers), fitTime: new Float64Array(n), scoreTime: new Float64Array(n), errors: [],
  };
  records.forEach((r, i) => {
    if (r.scores.length !== nScorers) throw new CommuneError(`flat engine: task ${r.task} has ${r.scores.length} scores, expected ${nScorers}`);
    out.tasks[i] = r.task;
    out.scores.set(r.scores, i * nScorers);
    out.fitTime[i] = r.fitTime;
    out.scoreTime[i] = r.scoreTime;
    if (r.error !== undefined) out.errors.push([r.task, r.error]);
  });
  return out;
}

export function unpackRecords(p: PackedRecords, nScorers: number): TaskRecord[] {
  const errors = new Map(p.errors);
  return Array.from(p.tasks, (task, i) => {
    const r: TaskRecord = {
      task, scores: p.scores.slice(i * nScorers, (i + 1) * nScorers), fitTime: p.fitTime[i], scoreTime: p.scoreTime[i],
    };
    const e = errors.get(task);
    if (e !== undefined) r.error = e;
    return r;
  });
}

/** Merges every rank's records and checks that each task of the plan was run exactly once. */
export function mergeRecords(plan: SearchPlan, perRank: readonly PackedRecords[]): TaskRecord[] {
  const nScorers = plan.scoring.length;
  const seen = new Int32Array(plan.tasks.length).fill(-1);
  const out: TaskRecord[] = [];
  perRank.forEach((packed, rank) => {
    for (const r of unpackRecords(packed, nScorers)) {
      if (r.task < 0 || r.task >= plan.tasks.length) throw new CommuneError(`flat engine: rank ${rank} sent a record for task ${r.task}, which is not in the plan (${plan.tasks.length} tasks) — the ranks were started with different configurations`);
      if (seen[r.task] !== -1) throw new CommuneError(`flat engine: task ${r.task} was run by ranks ${seen[r.task]} and ${rank} — the ranks disagree on the plan`);
      seen[r.task] = rank;
      out.push(r);
    }
  });
  const missing = seen.indexOf(-1);
  if (missing !== -1) throw new CommuneError(`flat engine: no rank ran task ${missing} — the ranks disagree on the plan (different grid, cv or data?)`);
  return out.sort((a, b) => a.task - b.task);
}

/** Every rank's fits failing is reported the same way on every rank, naming the failed ranks. */
export class RankFailedError extends CommuneError {
  constructor(readonly failed: ReadonlyArray<[number, string]>) {
    super(`grid search failed on ${failed.length === 1 ? 'rank' : 'ranks'} ${failed.map(([r]) => r).join(', ')}: ` +
      failed.map(([r, m]) => `rank ${r}: ${m}`).join('; ') + ' — no results; every rank stops');
  }
}

/** Options of the flat engine. */
export interface FlatEngineOptions {
  /** Called on this rank with the group ids it is about to run (tests, progress). */
  onAssigned?: (groupIds: readonly number[]) => void;
  /**
   * Records already known (a checkpoint), identical on every rank: groups whose tasks are all here
   * are not run, and these records are used for them.
   */
  done?: readonly TaskRecord[];
  /** Called after each group this rank ran, with its records (checkpoint appends, progress). */
  onGroupDone?: (records: readonly TaskRecord[]) => void;
  /** Called once before any fit with the number of fits all ranks together will run. */
  onStart?: (fitsToRun: number) => void;
  /** Filled in after the search: fits run in this search by all ranks together. */
  stats?: { fitsRun: number; fitsReused: number };
}

/** The groups still to run: those with a task that has no record in `done`. */
export function remainingGroups(plan: SearchPlan, done: ReadonlyMap<number, TaskRecord>): number[] {
  return plan.groups.filter((g) => g.tasks.some((t) => !done.has(t))).map((g) => g.id);
}

interface RankOutcome { records?: PackedRecords; error?: string }

const yieldToEventLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * A GridSearchCV engine that spreads the plan over the ranks of `comm` (a collective call). A rank
 * whose fits throw still joins the allgather with its error, so every rank stops at once with the
 * same RankFailedError instead of waiting for the deadline.
 */
export function flatEngine(comm: Pick<Communicator, 'rank' | 'size' | 'allgather'>, opts: FlatEngineOptions = {}): SearchEngine {
  return async (plan, run) => {
    const nScorers = plan.scoring.length;
    const done = new Map<number, TaskRecord>();
    for (const r of opts.done ?? []) {
      if (r.task >= 0 && r.task < plan.tasks.length && r.scores.length === nScorers) done.set(r.task, r);
    }
    const todo = new Set(remainingGroups(plan, done));
    const mine = assignGroups({ ...plan, groups: plan.groups.filter((g) => todo.has(g.id)) }, comm.size)[comm.rank];
    let outcome: RankOutcome;
    try {
      opts.onStart?.(plan.groups.reduce((n, g) => n + (todo.has(g.id) ? g.tasks.length : 0), 0));
      opts.onAssigned?.(mine);
      // One group at a time, in kernel order (as runGroups), yielding between groups so the mesh
      // (liveness, progress gossip) keeps running during a long share.
      const ordered = [...mine].sort((a, b) => {
        const ka = plan.groups[a].kernelKey;
        const kb = plan.groups[b].kernelKey;
        return ka < kb ? -1 : ka > kb ? 1 : a - b;
      });
      const local: TaskRecord[] = [];
      for (const gid of ordered) {
        const recs = run([gid]);
        local.push(...recs);
        opts.onGroupDone?.(recs);
        await yieldToEventLoop();
      }
      outcome = { records: packRecords(local, nScorers) };
    } catch (e) {
      outcome = { error: (e as Error)?.message ?? String(e) };
    }
    const all = await comm.allgather(outcome);
    const failed = all.flatMap((o, rank): Array<[number, string]> => (typeof o.error === 'string' ? [[rank, o.error]] : []));
    if (failed.length > 0) throw new RankFailedError(failed);
    const perRank = all.map((o) => o.records!);
    const fresh = new Set(perRank.flatMap((p) => Array.from(p.tasks)));
    // Recorded fits of groups nobody ran are reused; every other task must come from exactly one rank.
    const reused = [...done.values()].filter((r) => !fresh.has(r.task));
    if (opts.stats) { opts.stats.fitsRun = fresh.size; opts.stats.fitsReused = reused.length; }
    return mergeRecords(plan, [...perRank, packRecords(reused, nScorers)]);
  };
}
