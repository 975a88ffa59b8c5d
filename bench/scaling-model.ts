// The analytic model behind `commune bench scaling` (see bench/README.md): makespan of N tasks of d
// seconds each on p ranks, for the flat engine, the co-ordinator and Dask, from constants calibrated
// on the small cells of the same run (p ≤ CALIBRATION_MAX_P) and checked against the larger ones.
//
// On a cluster (one core per rank) — the projections:
//   flat:   T = ⌈N/p⌉·(d + o_f) + c_a + c_b·r·N + 2⌈lg p⌉·α + r·N·β
//           each rank runs its block, then the closing tree agreement (src/collectives/tree-agreement.ts):
//           2⌈lg p⌉ hops, and every rank receives the decision, which carries all N r-byte results
//           (c_a + c_b·r·N: a rank's CPU for it).
//   co-ord: T = max(⌈N/w⌉·(d + o_w), N·s) + 2α,   w = p − 2 workers (rank 0 schedules, rank 1 is the client)
//           every task passes through the one scheduler, s = s₀ + s₁·w seconds each (choosing a worker
//           may cost per worker): once N·s exceeds the workers' share, adding ranks stops helping.
//           Dask: the same form with its own s₀, s₁ and o_w.
//
// On the measuring machine (more ranks than cores), two things are measured rather than modelled:
//   - the floor F: the same tasks in p plain processes with no engine (bench/scaling-floor.ts), which
//     holds what the machine itself costs — hundreds of processes waking on a few cores;
//   - the inflation κ: how much more CPU a wake-up costs at this p than at the calibration cells'
//     (the floor's CPU per task, relative), since every message an engine handles pays it too.
//   flat:   T = F + κ·p·(c_a + c_b·r·N)/cores + 2⌈lg p⌉·α + r·N·β   (every rank's agreement CPU shares the cores)
//   co-ord: T = max(F·p/w, κ·N·s) + 2α
// Efficiency E(p) = N·d / (p·T(p)): the fraction of the ranks' time spent on the tasks themselves.

export interface Calibration {
  /** Per-message latency, seconds (half a warm 8-byte allreduce at p = 2). */
  alpha: number;
  /** Seconds per byte (from the warm 1 MiB allreduce at p = 2). */
  beta: number;
  /** Flat engine: per-task overhead on a rank, seconds. */
  flatTaskOverhead: number;
  /** Bytes of one task's result in the agreement. */
  recordBytes: number;
  /** Flat engine: a rank's CPU for the closing agreement, seconds, and per byte of the decision. */
  agreeCpu: number;
  agreeCpuPerByte: number;
  /**
   * Co-ordinator: the scheduler's cost per task (s = s₀ + s₁·w: choosing among w workers may cost per
   * worker), and per-task overhead on a worker, seconds.
   */
  schedulerPerTask?: number;
  schedulerPerTaskPerWorker?: number;
  workerTaskOverhead?: number;
  /** Dask (LocalCluster): the same constants, from its own small cells. */
  daskSchedulerPerTask?: number;
  daskSchedulerPerTaskPerWorker?: number;
  daskWorkerTaskOverhead?: number;
}

/** What the measuring machine adds at one cell's p (both undefined: one core per rank, a cluster). */
export interface Machine {
  cores: number;
  /** Makespan of the same tasks with no engine, seconds. */
  floor: number;
  /** CPU per wake-up at this p relative to the calibration cells' (≥ 0; 1: no inflation). */
  inflation: number;
}

/** Cells at p up to this calibrate the model; the larger ones validate it. */
export const CALIBRATION_MAX_P = 8;

const lg = (p: number): number => Math.ceil(Math.log2(p));

export function flatMakespan(p: number, n: number, d: number, c: Calibration, m?: Machine): number {
  const bytes = c.recordBytes * n;
  const latency = p > 1 ? 2 * lg(p) * c.alpha + bytes * c.beta : 0;
  const agreeCpu = p > 1 ? c.agreeCpu + c.agreeCpuPerByte * bytes : 0;
  if (m) return m.floor + (m.inflation * p * agreeCpu) / Math.min(p, m.cores) + latency;
  return Math.ceil(n / p) * (d + c.flatTaskOverhead) + agreeCpu + latency;
}

interface Scheduler { s?: number; perWorker?: number; o?: number }

function viaScheduler(p: number, n: number, d: number, k: Scheduler, alpha: number, m?: Machine): number | undefined {
  if (k.s === undefined || k.o === undefined || p < 3) return undefined;
  const w = p - 2;
  const compute = m ? (m.floor * p) / w : Math.ceil(n / w) * (d + k.o);
  return Math.max(compute, (m?.inflation ?? 1) * n * (k.s + (k.perWorker ?? 0) * w)) + 2 * alpha;
}

export function coordinatorMakespan(p: number, n: number, d: number, c: Calibration, m?: Machine): number | undefined {
  return viaScheduler(p, n, d, { s: c.schedulerPerTask, perWorker: c.schedulerPerTaskPerWorker, o: c.workerTaskOverhead }, c.alpha, m);
}

/** Dask's LocalCluster has no rank for the client: p workers. */
export function daskMakespan(p: number, n: number, d: number, c: Calibration, m?: Machine): number | undefined {
  const k = { s: c.daskSchedulerPerTask, perWorker: c.daskSchedulerPerTaskPerWorker, o: c.daskWorkerTaskOverhead };
  return viaScheduler(p + 2, n, d, k, c.alpha, m && { ...m, floor: (m.floor * p) / (p + 2) });
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
