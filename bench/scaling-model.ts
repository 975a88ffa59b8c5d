// The analytic model behind `commune bench scaling` (see bench/README.md): makespan of N tasks of d
// seconds each on p ranks, for both engines, from a handful of constants calibrated on this machine.
//
// Flat (every rank a worker, no co-ordinator):
//   T_flat(p) = ⌈N/p⌉·(d + o_f) + T_agree(p),   T_agree(p) = 2⌈lg p⌉·α + r·N·β
//   each rank runs its block of tasks, then the tree agreement (src/collectives/tree-agreement.ts):
//   the r-byte records go up a binomial tree to rank 0 and its decision, carrying all N of them, comes
//   back down — 2⌈lg p⌉ hops.
// Co-ordinator (Dask model: rank 0 scheduler, rank 1 client, p−2 workers):
//   T_coord(p) = max(⌈N/w⌉·(d + o_w), N·s) + 2α,   w = max(1, p−2)
//   the workers compute in parallel, but every task passes through the scheduler, which handles one
//   at a time (s seconds each): once N·s exceeds the workers' share, adding ranks stops helping.
// On the measuring machine, p ranks on fewer cores stretch the compute by p / cores (oversubscribed
// rows); projections assume one core per rank, as on a cluster.
// Efficiency E(p) = N·d / (p·T(p)): the fraction of the ranks' time spent on the tasks themselves.
// Start-up (process launch, joining the mesh) is reported separately and left out of both.

export interface Calibration {
  /** Per-message latency, seconds (half an 8-byte allreduce round trip at p = 2). */
  alpha: number;
  /** Seconds per byte (from the 1 MiB allreduce at p = 2). */
  beta: number;
  /** Flat engine: per-task overhead on a rank, seconds (measured at p = 1). */
  flatTaskOverhead: number;
  /** Bytes of one task's record in the exchange. */
  recordBytes: number;
  /** Co-ordinator: the scheduler's cost per task, seconds (undefined: not measured). */
  schedulerPerTask?: number;
  /** Co-ordinator: per-task overhead on a worker, seconds. */
  workerTaskOverhead?: number;
  /** Cores available to all the ranks (the measuring machine's; undefined: one core per rank, a cluster). */
  cores?: number;
}

/** More ranks than cores share them: compute stretches by p / cores. */
const stretch = (p: number, c: Calibration): number => (c.cores !== undefined && p > c.cores ? p / c.cores : 1);

export function flatMakespan(p: number, n: number, d: number, c: Calibration): number {
  const agree = p > 1 ? 2 * Math.ceil(Math.log2(p)) * c.alpha + c.recordBytes * n * c.beta : 0;
  return Math.ceil(n / p) * (d + c.flatTaskOverhead) * stretch(p, c) + agree;
}

export function coordinatorMakespan(p: number, n: number, d: number, c: Calibration): number | undefined {
  if (c.schedulerPerTask === undefined || c.workerTaskOverhead === undefined || p < 3) return undefined;
  const workers = p - 2;
  return Math.max(Math.ceil(n / workers) * (d + c.workerTaskOverhead) * stretch(p, c), n * c.schedulerPerTask) + 2 * c.alpha;
}

export function efficiency(p: number, n: number, d: number, makespan: number | undefined): number | undefined {
  return makespan === undefined || makespan <= 0 ? undefined : (n * d) / (p * makespan);
}

/** Model error in percent: (predicted − measured) / measured. */
export function modelError(predicted: number | undefined, measured: number): number | undefined {
  return predicted === undefined || measured <= 0 ? undefined : (100 * (predicted - measured)) / measured;
}

/** The ranks and task counts the model projects to. */
export const PROJECTED_P = [16, 64, 256, 1024, 4096];
export const PROJECTED_N = [1e3, 1e4, 1e5, 1e6];
