// The analytic model behind `commune bench scaling` (see bench/README.md): makespan of N tasks of d
// seconds each on p ranks, for the flat engine, the co-ordinator and Dask, from constants calibrated
// on the small cells of the same run (p ≤ CALIBRATION_MAX_P) and checked against the larger ones.
//
// On a cluster (one core per rank) — the projections:
//   flat:   T = ⌈N/p⌉·(d + o_f) + c_a + c_b·r·N + 2⌈lg p⌉·α + r·N·β
//           each rank runs its block, then the closing tree agreement (src/collectives/tree-agreement.ts):
//           2⌈lg p⌉ hops, and every rank receives the decision, which carries all N r-byte results
//           (c_a + c_b·r·N: a rank's CPU for it).
//   co-ord: T = max(⌈N/w⌉·(d + o_w), N·s(w)) + 2α,   w = p − 2 workers (rank 0 schedules, rank 1 is the client)
//           every task passes through the one scheduler, which spends s(w) = s₀ + s₁/w CPU seconds on it
//           (measured: its process's CPU over the tasks; a turn of its event loop handles the results of
//           the workers that finished together, so its fixed cost per turn is shared by up to w tasks).
//           Once N·s exceeds the workers' share, adding ranks stops helping. Dask: the same form with its
//           own s and o_w, p workers.
//
// On the measuring machine (more ranks than cores), every process shares the same few cores, so what
// limits a cell is the CPU all its processes spend, on top of the machine's floor F — the same tasks in
// p plain processes with no engine (bench/scaling-floor.ts), measured, which holds what hundreds of
// processes waking on a few cores cost:
//   flat:   T = F + p·X/cores + 2⌈lg p⌉·α + r·N·β,   X = e_f·N/p + c_a + c_b·r·N
//           X: a rank's CPU beyond a floor process's (e_f per task: the engine's loop and event-loop
//           turns; then its agreement)
//   co-ord: T = max(F·p/w, N·k(w)/(cores − u·w), N·s(w)) + 2α,   k(w) = k₀ + k₁/w
//           k: the CPU of every process of the cell per task (scheduler, client and workers), measured
//           at p ≤ CALIBRATION_MAX_P; u: what each idle worker burns anyway, a fraction of a core (Dask's
//           heartbeats, profiler and event loops: measured on its idle cluster; commune's co-ordinator 0).
//           Once u·w reaches the cores, the upkeep alone holds the machine: no makespan (the cell stops).
// Efficiency E(p) = N·d / (p·T(p)): the fraction of the ranks' time spent on the tasks themselves.

/** A cost per task that falls as more workers' results share each turn of an event loop: a + b/w seconds. */
export interface PerTask { a: number; b: number }

export interface Calibration {
  /** Per-message latency, seconds (half a warm 8-byte allreduce at p = 2). */
  alpha: number;
  /** Seconds per byte (from the warm 1 MiB allreduce at p = 2). */
  beta: number;
  /** Flat engine: per-task overhead on a rank with a core of its own, seconds (the floor's, plus e_f). */
  flatTaskOverhead: number;
  /** Flat engine: a rank's CPU per task beyond a floor process's, seconds (e_f). */
  flatTaskCpu: number;
  /** Bytes of one task's result in the agreement. */
  recordBytes: number;
  /** Flat engine: a rank's CPU for the closing agreement, seconds, and per byte of the decision. */
  agreeCpu: number;
  agreeCpuPerByte: number;
  /** Co-ordinator: the scheduler's CPU per task s(w), all the cell's CPU per task k(w), a worker's overhead per task. */
  scheduler?: PerTask;
  cellCpu?: PerTask;
  workerTaskOverhead?: number;
  /** Dask (LocalCluster): the same constants, from its own small cells. */
  daskScheduler?: PerTask;
  daskCellCpu?: PerTask;
  daskWorkerTaskOverhead?: number;
  /** Dask: the idle cluster's CPU per worker, a fraction of a core (u). */
  daskUpkeep?: number;
}

/** What the measuring machine adds at one cell's p (undefined: one core per rank, a cluster). */
export interface Machine {
  cores: number;
  /** Makespan of the same tasks with no engine, seconds. */
  floor: number;
}

/** Cells at p up to this calibrate the model; the larger ones validate it. */
export const CALIBRATION_MAX_P = 8;

const lg = (p: number): number => Math.ceil(Math.log2(p));
const at = (k: PerTask, w: number): number => k.a + k.b / w;

export function flatMakespan(p: number, n: number, d: number, c: Calibration, m?: Machine): number {
  const bytes = c.recordBytes * n;
  const latency = p > 1 ? 2 * lg(p) * c.alpha + bytes * c.beta : 0;
  const agreeCpu = p > 1 ? c.agreeCpu + c.agreeCpuPerByte * bytes : 0;
  if (m) return m.floor + (p * (c.flatTaskCpu * n / p + agreeCpu)) / Math.min(p, m.cores) + latency;
  return Math.ceil(n / p) * (d + c.flatTaskOverhead) + agreeCpu + latency;
}

interface Scheduler { s?: PerTask; k?: PerTask; o?: number; u?: number }

/** Below this share of the machine left over by the idle workers' upkeep, a cell is taken not to finish. */
export const MIN_SPARE_CORES = 0.05;

function viaScheduler(p: number, w: number, n: number, d: number, x: Scheduler, alpha: number, m?: Machine): number | undefined {
  if (x.s === undefined || w < 1) return undefined;
  const scheduler = n * at(x.s, w);
  if (m) {
    if (x.k === undefined) return undefined;
    const cores = Math.min(p, m.cores);
    const spare = cores - (x.u ?? 0) * w;
    if (spare < MIN_SPARE_CORES * cores) return Number.POSITIVE_INFINITY;
    return Math.max((m.floor * p) / w, (n * at(x.k, w)) / spare, scheduler) + 2 * alpha;
  }
  if (x.o === undefined) return undefined;
  return Math.max(Math.ceil(n / w) * (d + x.o), scheduler) + 2 * alpha;
}

export function coordinatorMakespan(p: number, n: number, d: number, c: Calibration, m?: Machine): number | undefined {
  return viaScheduler(p, p - 2, n, d, { s: c.scheduler, k: c.cellCpu, o: c.workerTaskOverhead }, c.alpha, m);
}

/** Dask's LocalCluster has no rank for the client or the scheduler: p workers. */
export function daskMakespan(p: number, n: number, d: number, c: Calibration, m?: Machine): number | undefined {
  return viaScheduler(p, p, n, d, { s: c.daskScheduler, k: c.daskCellCpu, o: c.daskWorkerTaskOverhead, u: c.daskUpkeep }, c.alpha, m);
}

export function efficiency(p: number, n: number, d: number, makespan: number | undefined): number | undefined {
  return makespan === undefined || makespan <= 0 ? undefined : (n * d) / (p * makespan);
}

/** Model error in percent: (predicted − measured) / measured. */
export function modelError(predicted: number | undefined, measured: number): number | undefined {
  return predicted === undefined || measured <= 0 ? undefined : (100 * (predicted - measured)) / measured;
}

/** Least-squares line y = a + b·x through the points (b = 0 when the xs do not vary). */
export function fitLine(points: ReadonlyArray<[number, number]>): { a: number; b: number } {
  const n = points.length;
  if (n === 0) return { a: 0, b: 0 };
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  const b = sxx > 0 ? Math.max(0, points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0) / sxx) : 0;
  return { a: Math.max(0, my - b * mx), b };
}

/** The ranks and task counts the model projects to. */
export const PROJECTED_P = [16, 64, 256, 1024, 4096];
export const PROJECTED_N = [1e3, 1e4, 1e5, 1e6];
