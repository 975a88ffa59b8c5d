// `commune gridsearch`: the seed's workload (scikit-learn's "Parameter estimation using grid search
// with cross-validation" on digits) as a flat world of equal ranks. Every rank builds the same plan,
// runs its share of the fits, one allgather of score records, reduces in canonical order; every rank
// refits each best model and predicts one block of the test set; the lowest rank joins the blocks,
// prints the seed's text and writes --json.
//
//   outside a launched world:  N = --ranks (default: the number of CPUs) local ranks, started by
//                              gridsearch-local.ts (the ranks check the input; with --checkpoint this
//                              process checks it and claims the directory first); N = 1 runs here
//   inside a launched world:   this process is one rank (--ranks is refused)
//
// All input is validated before any rank computes (bad input: one message, exit code 2).
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, hostname, networkInterfaces } from 'node:os';
import { detectWorld, ranksOnThisNode, selectInterface } from '../../topology/index.js';
import { block } from '../collectives/blocks.js';
import type { Communicator } from '../collectives/communicator.js';
import { UsageError } from '../errors.js';
import { msSetting } from '../settings.js';
import {
  bestIndex, classificationReport, getScorer, GridSearchCV, loadDigits, MlError, ParameterGrid, SCORER_NAMES, SearchCache, SVC, trainTestSplit,
  aggregateResults, type CvResults, type Matrix, type ParamGridSpec, type Params, type SVCBackend, type SVCParams, type TaskRecord,
} from '../ml/index.js';
import { claimCheckpointDir, CheckpointWriter } from '../search/checkpoint.js';
import { configHash, dataHash, describeConfig, type ConfigCheck, type SearchConfiguration } from '../search/config.js';
import { agreeOnStart } from '../search/start.js';
import { loadCsvDataset } from '../search/dataset.js';
import { flatEngine, RankFailedError, type FlatStats } from '../search/flat-engine.js';
import { localRunner, threadRunner, type FitRunner } from '../search/fit-runner.js';
import type { FitWorkInit } from '../search/fit-work.js';
import { livenessMs, runRounds } from '../search/resilient-rounds.js';
import { deliverOnce } from '../search/delivery.js';
import { rankLogger } from '../log.js';
import { progressMode, ProgressView, SearchProgress } from '../search/progress.js';
import { scorerTitle, seedSectionLines } from '../search/seed-report.js';
import { checkCoordinatorRanks, localRanks, relaunch } from './gridsearch-local.js';
import { checkCheckpointDir, checkJsonPath } from './output-paths.js';
import { SEED_SCORING, startEpochMs, type GridsearchOptions } from './gridsearch-options.js';

export const SEED_GRID: ParamGridSpec[] = [
  { kernel: ['rbf'], gamma: [1e-3, 1e-4], C: [1, 10, 100, 1000] },
  { kernel: ['linear'], C: [1, 10, 100, 1000] },
];

// ---- configuration ----------------------------------------------------------------------------------

export interface GridsearchConfig {
  grid: ParamGridSpec[];
  scoring: string[];
  cv: number;
  testSize: number;
  randomState: number;
  /** --data PATH (undefined: the packaged digits). */
  data?: string;
  svmBackend: SVCBackend;
}

/** Reads and checks a scikit-learn param_grid file: an object, or a list of objects, of value lists. */
export function readGridFile(path: string): ParamGridSpec[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`--grid ${path}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--grid ${path}: not valid JSON (${(e as Error).message})`);
  }
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw new UsageError(`--grid ${path}: the grid is empty (give an object of parameter → list of values, or a list of such objects)`);
  list.forEach((g, i) => {
    if (typeof g !== 'object' || g === null || Array.isArray(g)) {
      throw new UsageError(`--grid ${path}: ${Array.isArray(value) ? `entry ${i}` : 'the grid'} must be an object of parameter → list of values, got ${JSON.stringify(g)}`);
    }
  });
  return list as ParamGridSpec[];
}

/** Validates everything that can be checked without computing; throws UsageError (exit 2). */
export function resolveConfig(o: GridsearchOptions): GridsearchConfig {
  const grid = o.grid === undefined ? SEED_GRID : readGridFile(o.grid);
  const scoring = o.scoring.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (scoring.length === 0) throw new UsageError(`--scoring: give at least one scorer name, e.g. ${SEED_SCORING.join(',')}`);
  for (const s of scoring) {
    try { getScorer(s); } catch { throw new UsageError(`--scoring: unknown scorer '${s}'; valid names: ${SCORER_NAMES.join(', ')}`); }
  }
  if (new Set(scoring).size !== scoring.length) throw new UsageError(`--scoring: a scorer is named twice in '${o.scoring}'`);
  try {
    // Validates every candidate's SVC parameters (names and values) and the scorers.
    new GridSearchCV(new SVC(), grid, { scoring, refit: false, cv: o.cv });
  } catch (e) {
    if (e instanceof MlError) throw new UsageError(`${o.grid === undefined ? 'grid' : `--grid ${o.grid}`}: ${e.message}`);
    throw e;
  }
  return { grid, scoring, cv: o.cv, testSize: o.testSize, randomState: o.randomState, data: o.data, svmBackend: o.svmBackend ?? 'smo' };
}

interface Workload { XTrain: Matrix; XTest: Matrix; yTrain: Int32Array; yTest: Int32Array; dataHash: string }

/** Loads the data and splits it; checks that every class has at least cv training samples. */
export function loadWorkload(cfg: GridsearchConfig): Workload {
  const digits = cfg.data === undefined ? loadDigits() : loadCsvDataset(cfg.data);
  let parts: [Matrix, Matrix, Int32Array, Int32Array];
  try {
    parts = trainTestSplit(digits.data, digits.target, { testSize: cfg.testSize, randomState: cfg.randomState }) as [Matrix, Matrix, Int32Array, Int32Array];
  } catch (e) {
    if (e instanceof MlError) throw new UsageError(`--test-size ${cfg.testSize}: ${e.message}`);
    throw e;
  }
  const [XTrain, XTest, yTrain, yTest] = parts;
  const counts = new Map<number, number>();
  for (const c of yTrain) counts.set(c, (counts.get(c) ?? 0) + 1);
  const [minClass, minCount] = [...counts].reduce((a, b) => (b[1] < a[1] ? b : a));
  if (minCount < cfg.cv) {
    throw new UsageError(`--cv ${cfg.cv}: class ${minClass} has only ${minCount} training samples, fewer than the number of folds (lower --cv or --test-size)`);
  }
  return { XTrain, XTest, yTrain, yTest, dataHash: dataHash(digits.data, digits.target) };
}

/** What the ranks agree on and a checkpoint is keyed by. */
export function searchConfiguration(cfg: GridsearchConfig, w: Workload): SearchConfiguration {
  return { grid: cfg.grid, scoring: cfg.scoring, cv: cfg.cv, testSize: cfg.testSize, randomState: cfg.randomState, data: w.dataHash, svmBackend: cfg.svmBackend };
}

// ---- results ----------------------------------------------------------------------------------------

/** One scorer's view of a multi-metric cv_results_, with scikit-learn's single-metric key names. */
export function singleMetricView(cv: CvResults, scoring: readonly string[], scorer: string): CvResults {
  const out: CvResults = {};
  for (const [k, v] of Object.entries(cv)) {
    const m = /^(split\d+|mean|std|rank)_test_(.+)$/.exec(k);
    if (!m) { out[k] = v; continue; }
    if (scoring.length === 1 && m[2] === 'score') { out[k] = v; continue; }
    if (m[2] === scorer) out[`${m[1]}_test_score`] = v;
  }
  return out;
}

function jsonable(v: unknown): unknown {
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>, (x) => (Number.isFinite(x) ? x : null));
  if (Array.isArray(v)) return v.map((x) => (x === undefined ? null : x));
  return v;
}

export interface ScorerResult {
  best_params: Params;
  best_score: number;
  best_index: number;
  cv_results: Record<string, unknown>;
  test_report: string;
}

// ---- running ---------------------------------------------------------------------------------------

/** COMMUNE_LOG_LEVEL=debug: when this rank reached each phase, in ms since the job started (one per process). */
let phases: ((phase: string) => void) | undefined;
function phaseLogger(rank: number): (phase: string) => void {
  if (phases) return phases;
  const log = rankLogger(rank, 'gridsearch');
  if (!log.isLevelEnabled('debug')) return (phases = () => {});
  const t0 = startEpochMs();
  log.debug({ phase: 'process', ms: Math.round(performance.timeOrigin - t0) }, 'phase');
  phases = (name) => log.debug({ phase: name, ms: Math.round(Date.now() - t0) }, 'phase');
  process.once('exit', () => phases?.('exit'));
  return phases;
}

/** The note printed after the results when ranks died: which ones, and how much work was redone. */
export function lostRanksLine(lost: readonly number[], redone: number, run: number): string {
  return `Lost ${lost.length === 1 ? 'rank' : 'ranks'} ${lost.join(', ')} during the search; the survivors redid ${redone} of ${run} fits (results are unchanged)`;
}

/**
 * One rank's world: rank and size come from the launcher, so they are known while the mesh still joins.
 * `saturated`: this node's ranks use all its cores.
 */
export interface RankWorld { rank: number; size: number; timeoutMs: number; joining: Promise<Communicator>; saturated: boolean }

/** One rank of the search (the whole search when world is undefined). The lowest live rank prints and writes --json. */
export async function runGridsearchRank(cfg: GridsearchConfig, o: GridsearchOptions, world: RankWorld | undefined, w: Workload): Promise<void> {
  const size = world?.size ?? 1;
  const init: FitWorkInit = {
    grid: cfg.grid, scoring: cfg.scoring, cv: cfg.cv, svmBackend: cfg.svmBackend,
    XTrain: w.XTrain, yTrain: w.yTrain, XTest: w.XTest, yTest: w.yTest,
  };
  const fits = world && size > 1 ? await threadRunner(init, world.saturated) : localRunner(init);
  try {
    await searchAndReport(cfg, o, world ?? { rank: 0, size: 1, timeoutMs: 600_000 }, w, fits);
  } finally {
    await fits.close();
  }
}

async function searchAndReport(cfg: GridsearchConfig, o: GridsearchOptions, world: Omit<RankWorld, 'joining' | 'saturated'> & Partial<RankWorld>,
  w: Workload, fits: FitRunner): Promise<void> {
  const { rank, size, timeoutMs } = world;
  const log = rankLogger(rank, 'gridsearch');
  const phase = phaseLogger(rank);
  const sc = searchConfiguration(cfg, w);
  const joining = size > 1 ? world.joining?.then((c) => c.mesh) : undefined;
  let start: { hash: string; alive?: number[]; done?: TaskRecord[]; check?: ConfigCheck };
  if (o.checkpoint !== undefined || joining === undefined) {
    // Agreement before any work (the checkpoint's records decide what is left to run).
    start = await agreeOnStart({ rank, size, mesh: await joining, timeoutMs }, sc, o.checkpoint === undefined ? undefined : { dir: o.checkpoint, nScorers: cfg.scoring.length });
    phase('agreed');
  } else {
    // Nothing to read first: the fits start while the mesh joins, and round 0's agreement checks the
    // configuration (every rank stops with the same message on a mismatch, its fits discarded).
    const hash = configHash(sc);
    start = { hash, check: { hash, summary: describeConfig(sc) } };
  }
  const writer = o.checkpoint === undefined ? undefined : new CheckpointWriter(o.checkpoint, start.hash, rank);
  const progress = new SearchProgress(joining, rank, size, rank === 0 ? new ProgressView(progressMode(o.quiet)) : undefined, !o.quiet);
  const stats: Partial<FlatStats> = {};
  const liveness = livenessMs();
  const plan = fits.plan;
  let midSearch = false;
  let records: TaskRecord[];
  try {
    records = await flatEngine({ rank, size, joining, timeoutMs, alive: start.alive }, {
      done: start.done, check: start.check, stats, livenessMs: liveness,
      onStart: (n) => progress.start(n),
      onGroupDone: (recs) => {
        writer?.append(recs);
        progress.add(recs.length);
        if (!midSearch) { midSearch = true; phase('fitting'); } // this rank's first group done
      },
      onLost: (lost, n) => log.warn({ lost, fits: n }, `ranks ${lost.join(', ')} lost; the survivors redo their ${n} fits`),
    })(plan, (groups) => fits.run(groups));
  } finally {
    writer?.close();
    progress.finish();
  }
  phase('searched');
  const best = bestPerScorer(cfg, aggregateResults(plan, records).cvResults, plan.candidates);
  // One refit per distinct best candidate (the seed's two scorers pick the same one). Every live rank
  // refits it and predicts one block of the test set, so no rank idles while another predicts alone
  // (the prediction is most of a refit's time); the printing rank joins the blocks into the report.
  // In resilient rounds too: a rank dying during its part has it redone by another.
  const toRefit = [...new Set(best.map((b) => b.index))];
  const parts = stats.alive!.length;
  const items = toRefit.flatMap((c) => Array.from({ length: parts }, (_, part) => ({ c, part })));
  const predicted = new Map<number, Float64Array>(); // by item
  const refits = await runRounds<{ preds: Array<[number, Float64Array]>; error?: string }>({
    rank, alive: stats.alive!, mesh: joining, livenessMs: liveness, timeoutMs,
  }, {
    what: 'refit',
    pending: () => items.map((_, i) => i).filter((i) => !predicted.has(i)),
    share: (pending, n, index) => pending.filter((_, k) => k % n === index),
    run: async (mine) => {
      const out: Array<[number, Float64Array]> = [];
      try {
        for (const i of mine) out.push([i, await fits.predict(items[i].c, items[i].part, parts)]);
        return { preds: out };
      } catch (e) {
        // A failed refit still joins the exchange, so every rank stops with the same error instead of waiting.
        return { preds: out, error: `refit of the best model: ${(e as Error)?.message ?? String(e)}` };
      }
    },
    absorb: (payloads) => {
      const failed = payloads.flatMap(([r, g]): Array<[number, string]> => (typeof g.error === 'string' ? [[r, g.error]] : []));
      if (failed.length > 0) throw new RankFailedError(failed);
      for (const [, g] of payloads) for (const [i, p] of g.preds) predicted.set(i, p);
    },
  });
  phase('refitted');
  // Delivery is part of the job (search/delivery.ts): the lowest live rank prints and writes --json;
  // if it dies first, the next one does. A printer lost on the way is named by its replacement.
  const lost = [...stats.lost!, ...refits.lost];
  await deliverOnce({ rank, alive: refits.alive, mesh: joining, livenessMs: liveness, timeoutMs }, (printers) => {
    // Item j·parts + part holds block `part` of candidate toRefit[j]'s prediction (FitWork.predict).
    const reports = new Map(toRefit.map((c, j) => {
      const pred = new Float64Array(w.yTest.length);
      for (let part = 0; part < parts; part++) pred.set(predicted.get(j * parts + part)!, block(pred.length, parts, part).start);
      return [c, classificationReport(w.yTest, pred)] as [number, string];
    }));
    emitResults(cfg, o, best, new Map(best.map((b, i) => [i, reports.get(b.index)!])), {
      mode: 'flat', ranks: size, fitsRun: stats.fitsRun ?? 0, fitsReused: stats.fitsReused ?? 0, fitsRedone: stats.fitsRedone ?? 0,
      lost: [...lost, ...printers], printedBy: rank,
    });
  }, () => phase('printed'));
  phase('delivered');
}

type Best = { view: CvResults; index: number; score: number; params: Params };

/** The best candidate of every scorer, from a (multi-metric) cv_results_. */
function bestPerScorer(cfg: GridsearchConfig, cv: CvResults, candidates: Params[]): Best[] {
  return cfg.scoring.map((s) => {
    const view = singleMetricView(cv, cfg.scoring, s);
    const index = bestIndex(view.rank_test_score as Int32Array);
    return { view, index, score: (view.mean_test_score as Float64Array)[index], params: candidates[index] };
  });
}

/** The seed's text and `Time taken` on stdout, and --json. */
interface RunFacts { mode: string; ranks: number; fitsRun: number; fitsReused: number; fitsRedone: number; lost: number[]; printedBy: number }

/** Everything is prepared first and written only at the end: the delivery's critical moment is short (search/delivery.ts). */
function emitResults(cfg: GridsearchConfig, o: GridsearchOptions, best: Best[], reports: Map<number, string>, run: RunFacts): void {
  const lines: string[] = [];
  const scorers: Record<string, ScorerResult> = {};
  cfg.scoring.forEach((s, i) => {
    const b = best[i];
    const report = reports.get(i)!;
    lines.push(...seedSectionLines(scorerTitle(s), b.params, b.view, report));
    scorers[s] = {
      best_params: b.params, best_score: b.score, best_index: b.index,
      cv_results: Object.fromEntries(Object.entries(b.view).map(([k, v]) => [k, jsonable(v)])), test_report: report,
    };
  });
  if (run.lost.length > 0) lines.push(lostRanksLine(run.lost, run.fitsRedone, run.fitsRun));
  const wall = (Date.now() - startEpochMs()) / 1000;
  const text = lines.join('\n') + '\n' + `Time taken: ${wall.toFixed(3)}\n`;
  // The JSON goes to a file of this rank's beside --json now, renamed into place at the write: a
  // printer that dies before that leaves its file to its replacement, which removes it (search/delivery.ts).
  if (o.json !== undefined) {
    writeFileSync(jsonTmp(o.json, run.printedBy), JSON.stringify({
      mode: run.mode, ranks: run.ranks, wall_seconds: wall, fits_run: run.fitsRun, fits_reused: run.fitsReused,
      fits_redone: run.fitsRedone, lost_ranks: run.lost, printed_by: run.printedBy, scorers,
    }, null, 2) + '\n');
    for (const r of run.lost) rmSync(jsonTmp(o.json, r), { force: true });
  }
  // Whole or not at all: a reader never sees half a file, and a failed write leaves the old one.
  if (o.json !== undefined) renameSync(jsonTmp(o.json, run.printedBy), o.json);
  if (!o.quiet) process.stdout.write(text);
}

/** Where rank `rank` prepares the --json file before it delivers it. */
const jsonTmp = (json: string, rank: number): string => `${json}.rank${rank}.tmp`;

/**
 * --mode coordinator: one rank of a dask-mpi-shaped run (commune/compat). Rank 0 schedules, ranks ≥ 2
 * fit, rank 1 runs the same plan through GridSearchCV(scheduler: client) — the same 5-fold,
 * unweighted search as the flat engine, hence the same numbers — refits, prints and writes --json.
 */
export async function runCoordinatorRank(cfg: GridsearchConfig, o: GridsearchOptions, w: Workload): Promise<void> {
  const { initialize, Client, GridSearchCV: CoordinatorGridSearchCV, sendCloseSignal } = await import('../../compat/index.js');
  const isClient = await initialize({ interface: o.interface, exit: false });
  if (!isClient) return;
  try {
    const client = new Client();
    const info = await client.schedulerInfo();
    const search = await new CoordinatorGridSearchCV(new SVC({ backend: cfg.svmBackend }), cfg.grid, {
      scoring: cfg.scoring.length === 1 ? cfg.scoring[0] : cfg.scoring, cv: cfg.cv, iid: false, refit: false, errorScore: NaN, scheduler: client,
    }).fit(w.XTrain, w.yTrain);
    const candidates = new ParameterGrid(cfg.grid).toArray();
    const best = bestPerScorer(cfg, search.cvResults_!, candidates);
    const cache = new SearchCache(w.XTrain);
    const all = Int32Array.from({ length: w.XTrain.rows }, (_, i) => i);
    const yf = Float64Array.from(w.yTrain);
    const byCandidate = new Map<number, string>();
    const reports = new Map(best.map((b, i) => {
      let text = byCandidate.get(b.index);
      if (text === undefined) {
        const model = new SVC({ backend: cfg.svmBackend }).clone(b.params as Partial<SVCParams>).fitRows(cache.kernels, all, yf, cache.memo);
        text = classificationReport(w.yTest, model.predict(w.XTest));
        byCandidate.set(b.index, text);
      }
      return [i, text] as [number, string];
    }));
    emitResults(cfg, o, best, reports, { mode: 'coordinator', ranks: info.n_workers + 2, fitsRun: search.nFits_ ?? 0, fitsReused: 0, fitsRedone: 0, lost: [], printedBy: 1 });
  } finally {
    await sendCloseSignal();
  }
}

export async function gridsearch(o: GridsearchOptions): Promise<void> {
  const world = detectWorld(process.env, hostname());
  const inWorld = world.launcher !== 'single';
  let cfg: GridsearchConfig;
  let w: Workload;
  let timeoutMs: number;
  try {
    if (inWorld && o.ranks !== undefined) {
      throw new UsageError(`--ranks ${o.ranks}: this process is already one rank of a ${world.launcher} world of ${world.size}; the launcher decides the number of ranks`);
    }
    timeoutMs = msSetting(process.env, 'COMMUNE_TIMEOUT_MS', 600_000);
    cfg = resolveConfig(o);
    // Where the results will go, before any work: a search must not end in an error at its last step.
    if (o.json !== undefined) checkJsonPath(o.json);
    if (o.checkpoint !== undefined) checkCheckpointDir(o.checkpoint);
    const coordinator = o.mode === 'coordinator';
    if (coordinator && o.checkpoint !== undefined) throw new UsageError('--checkpoint works with --mode flat only (the co-ordinator keeps no checkpoint); drop one of the two');
    if (!inWorld) checkCoordinatorRanks(o);
    if (coordinator && inWorld && world.size < 3) throw new UsageError(`--mode coordinator needs at least 3 ranks (scheduler, client and one worker); this ${world.launcher} world has ${world.size}`);
    w = loadWorkload(cfg); // data and the cv-versus-class-size check, before any rank starts
    if (o.checkpoint !== undefined) {
      const sc = searchConfiguration(cfg, w);
      claimCheckpointDir(o.checkpoint, configHash(sc), describeConfig(sc), false);
    }
    if (!inWorld) {
      // Local ranks all bind on this node: an unknown --interface is bad input, reported before launching.
      if (o.interface !== undefined) selectInterface(o.interface, networkInterfaces(), hostname());
      const ranks = localRanks(o);
      if (ranks > 1) { process.exitCode = await relaunch(o, ranks); return; }
      await runGridsearchRank(cfg, o, undefined, w);
      return;
    }
  } catch (e) {
    // Every rank of a launched world sees the same bad input; only the lowest rank reports it.
    if (inWorld && world.rank !== 0 && e instanceof UsageError) process.exit(e.exitCode);
    throw e;
  }
  if (o.mode === 'coordinator') { await runCoordinatorRank(cfg, o, w); return; }
  // The fits start while the mesh joins, so what the join would reject is checked first: each node
  // has its own interfaces, and every rank reports a missing one (exit 2) before any fit.
  if (o.interface !== undefined) selectInterface(o.interface, networkInterfaces(), world.node);
  const phase = phaseLogger(world.rank);
  phase('loaded');
  // The mesh joins while the fit thread starts and runs the first fits (runGridsearchRank).
  const joining = import('../index.js').then(({ init }) => init({ timeoutMs, interface: o.interface }));
  joining.then(() => phase('joined'), () => {});
  try {
    await runGridsearchRank(cfg, o, { rank: world.rank, size: world.size, timeoutMs, joining, saturated: ranksOnThisNode(world) >= availableParallelism() }, w);
  } finally {
    // A join that failed has already failed the search with its error.
    await (await joining.catch(() => undefined))?.close();
    phase('closed');
  }
}

