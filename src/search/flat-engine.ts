// The flat engine for GridSearchCV (DESIGN.md "One task plan, three engines"): every rank computes
// the same plan, runs its deterministic, cost-balanced share of the kernel-affinity groups
// (assignGroups(plan, size)[rank]), then ONE exchange of compact score records; every rank then
// reduces all records in canonical plan order (aggregateResults), so cv_results_, best_params_ and
// best_index_ are bit-identical on every rank, for every rank count, and to the local engine.
//
// The exchange is a fault-tolerant agreement (resilient-rounds.ts), not a plain allgather: when ranks
// die, the survivors agree on who is left and on what each delivered, re-plan the missing groups over
// themselves and run another round. Fits are deterministic, so the records, hence the results, are the
// same bits as without failures.
//
//   const search = new GridSearchCV(new SVC(), grid, { scoring, engine: flatEngine(comm) });
//   await search.fit(X, y);   // collective: every rank of comm calls it with the same configuration
//
// `commune gridsearch` instead hands the engine an asynchronous runner (fit-runner.ts: the fits run
// on a worker thread) and a mesh that is still joining, so the fits start at once.
//
// Refit: GridSearchCV's own refit runs on every rank (each rank holds the data, and the refit is
// deterministic), so bestEstimator_ is identical everywhere. Pass `refit: false` on ranks that do
// not need a model.
import { CommuneError } from '../errors.js';
import type { Mesh } from '../mesh/mesh.js';
import { assignGroups, type SearchPlan, type TaskRecord } from '../ml/index.js';
import { assertSameConfiguration, type ConfigCheck } from './config.js';
import { livenessMs, runRounds } from './resilient-rounds.js';

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

/**
 * Takes one round's records of every rank (ascending by rank) into `known`, checking that each is in
 * the plan and was run by one rank only; returns the tasks taken.
 */
export function takeRecords(plan: SearchPlan, perRank: ReadonlyArray<[number, PackedRecords]>, known: Map<number, TaskRecord>): number[] {
  const nScorers = plan.scoring.length;
  const seen = new Map<number, number>();
  for (const [rank, packed] of perRank) {
    for (const r of unpackRecords(packed, nScorers)) {
      if (r.task < 0 || r.task >= plan.tasks.length) throw new CommuneError(`flat engine: rank ${rank} sent a record for task ${r.task}, which is not in the plan (${plan.tasks.length} tasks) — the ranks were started with different configurations`);
      if (seen.has(r.task)) throw new CommuneError(`flat engine: task ${r.task} was run by ranks ${seen.get(r.task)} and ${rank} — the ranks disagree on the plan`);
      seen.set(r.task, rank);
      known.set(r.task, r);
    }
  }
  return [...seen.keys()];
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
  /** Called on this rank with the group ids it is about to run, each round (tests, progress). */
  onAssigned?: (groupIds: readonly number[], round: number) => void;
  /**
   * Records already known (a checkpoint), identical on every rank: groups whose tasks are all here
   * are not run, and these records are used for them.
   */
  done?: readonly TaskRecord[];
  /** Called after each group this rank ran, with its records (checkpoint appends, progress). */
  onGroupDone?: (records: readonly TaskRecord[]) => void;
  /** Called once before any fit with the number of fits all ranks together will run. */
  onStart?: (fitsToRun: number) => void;
  /** Called when the survivors agreed that `lost` died and will redo `fits` fits among themselves. */
  onLost?: (lost: readonly number[], fits: number) => void;
  /** Called when this rank's share is run and the round's agreement starts (tests). */
  onExchange?: (round: number) => void;
  /** Filled in after the search. */
  stats?: Partial<FlatStats>;
  /** Liveness deadline, ms (default COMMUNE_LIVENESS_MS, else 5 s). */
  livenessMs?: number;
  /**
   * This rank's configuration, checked by round 0's agreement instead of a start-up agreement before
   * any fit: on a mismatch every rank stops with the same ConfigMismatchError, its fits discarded.
   */
  check?: ConfigCheck;
}

export interface FlatStats {
  /** Fits run in this search by all ranks together (redone ones included). */
  fitsRun: number;
  /** Fits taken from `done` (a checkpoint). */
  fitsReused: number;
  /** Fits run again because the rank that had run them died before delivering. */
  fitsRedone: number;
  /** Ranks that died during the search. */
  lost: number[];
  /** The surviving ranks, ascending. */
  alive: number[];
}

/** What the engine needs of a world: a Communicator, or a world of one (no mesh). */
export interface FlatWorld {
  rank: number;
  size: number;
  mesh?: Mesh;
  timeoutMs?: number;
  /** Ranks still alive (default: all); later phases of a job pass on the survivors of earlier ones. */
  alive?: readonly number[];
  /**
   * The mesh while it still joins (instead of `mesh`): round 0's fits start at once, since the plan
   * needs no communication, and only its agreement waits for the mesh. A failed join stops the fits.
   * (Fits must then run off this thread — see fit-runner.ts — or the join would only progress between groups.)
   */
  joining?: Promise<Mesh>;
}

/** Runs groups: synchronously here (GridSearchCV's runner), or elsewhere (a fit thread). */
export type GroupRunner = (groupIds: readonly number[]) => TaskRecord[] | Promise<TaskRecord[]>;

/** The groups still to run: those with a task that has no record in `done`. */
export function remainingGroups(plan: SearchPlan, done: ReadonlyMap<number, TaskRecord>): number[] {
  return plan.groups.filter((g) => g.tasks.some((t) => !done.has(t))).map((g) => g.id);
}

interface RankOutcome { records?: PackedRecords; error?: string; check?: ConfigCheck }

const yieldToEventLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * A GridSearchCV engine that spreads the plan over the live ranks of `world` (a collective call). A
 * rank whose fits throw still joins the exchange with its error, so every rank stops at once with the
 * same RankFailedError instead of waiting for the deadline. A rank that dies or stops is survived.
 */
export function flatEngine(world: FlatWorld, opts: FlatEngineOptions = {}): (plan: SearchPlan, run: GroupRunner) => Promise<TaskRecord[]> {
  return async (plan, run) => {
    const nScorers = plan.scoring.length;
    const known = new Map<number, TaskRecord>();
    for (const r of opts.done ?? []) {
      if (r.task >= 0 && r.task < plan.tasks.length && r.scores.length === nScorers) known.set(r.task, r);
    }
    const fresh = new Set<number>();
    const stats: FlatStats = { fitsRun: 0, fitsReused: 0, fitsRedone: 0, lost: [], alive: [] };
    const fitsOf = (gids: readonly number[]): number => gids.reduce((n, g) => n + plan.groups[g].tasks.length, 0);
    opts.onStart?.(fitsOf(remainingGroups(plan, known)));
    let mesh = world.mesh;
    let joinFailed: Error | undefined;
    world.joining?.then((m) => { mesh = m; }, (e: Error) => { joinFailed = e; });
    // Stops this rank's fits: it was evicted, or it could not join at all.
    const stopped = (): Error | undefined => joinFailed ?? mesh?.evictedBy;

    const outcome = await runRounds<RankOutcome>({
      rank: world.rank,
      alive: world.alive ?? Array.from({ length: world.size }, (_, r) => r),
      mesh: world.size > 1 ? world.mesh ?? world.joining : undefined,
      livenessMs: opts.livenessMs ?? livenessMs(),
      timeoutMs: world.timeoutMs ?? 600_000,
    }, {
      what: 'search',
      pending: () => remainingGroups(plan, known),
      share: (pending, parts, index) => {
        const todo = new Set(pending);
        return assignGroups({ ...plan, groups: plan.groups.filter((g) => todo.has(g.id)) }, parts)[index];
      },
      run: async (mine, round) => {
        const check = round === 0 ? opts.check : undefined;
        try {
          opts.onAssigned?.(mine, round);
          // One group at a time, in kernel order (as runGroups), yielding between groups so the mesh
          // (liveness pings, progress gossip) keeps running during a long share.
          const ordered = [...mine].sort((a, b) => {
            const ka = plan.groups[a].kernelKey;
            const kb = plan.groups[b].kernelKey;
            return ka < kb ? -1 : ka > kb ? 1 : a - b;
          });
          const local: TaskRecord[] = [];
          for (const gid of ordered) {
            const recs = await run([gid]);
            local.push(...recs);
            opts.onGroupDone?.(recs);
            await yieldToEventLoop();
            const stop = stopped();
            if (stop) throw stop;
          }
          opts.onExchange?.(round);
          return { records: packRecords(local, nScorers), check };
        } catch (e) {
          const stop = stopped();
          if (stop) throw stop;
          return { error: (e as Error)?.message ?? String(e), check };
        }
      },
      absorb: (payloads, round, lost) => {
        if (round === 0 && opts.check) {
          const gathered: ConfigCheck[] = [];
          for (const [rank, o] of payloads) gathered[rank] = o.check ?? { hash: '(none)', summary: 'no configuration sent' };
          assertSameConfiguration(gathered);
        }
        const failed = payloads.flatMap(([rank, o]): Array<[number, string]> => (typeof o.error === 'string' ? [[rank, o.error]] : []));
        if (failed.length > 0) throw new RankFailedError(failed);
        const taken = takeRecords(plan, payloads.map(([rank, o]) => [rank, o.records!]), known);
        for (const t of taken) fresh.add(t);
        stats.fitsRun += taken.length;
        if (round > 0) stats.fitsRedone += taken.length;
        if (lost.length > 0) opts.onLost?.(lost, fitsOf(remainingGroups(plan, known)));
      },
    });
    stats.fitsReused = [...known.keys()].filter((t) => !fresh.has(t)).length;
    stats.lost = outcome.lost;
    stats.alive = outcome.alive;
    if (opts.stats) Object.assign(opts.stats, stats);
    return [...known.values()].sort((a, b) => a.task - b.task);
  };
}
