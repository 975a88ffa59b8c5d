// `commune bench startup`, the pure part: what each side runs, how a run's output is read, and the table,
// the fitted CPU exponent and the plot. The driver (src/cli/bench-startup.ts) spawns the runs.
//
// Every side does the same steps at P processes — start, init, one 8-byte allreduce, a barrier, finish
// — and every run is timed from outside by GNU time (wall, CPU of the whole process tree, peak RSS of
// its largest process), so the sides are measured alike:
//   commune   `commune launch -n P -- node dist/bench/startup-rank.js` (the public API, as a user's script)
//   floor     `commune launch -n P -- node -e 0`: starting P Node processes at all, which no Node
//             runtime can beat
//   mpi4py    the same steps in Python under `mpirun --oversubscribe` (the lesson's own MPI layer)
//   Open MPI  the same steps in C (bench/startup_mpi.c, built with mpicc) under `mpirun`: the native reference
//   Dask      `LocalCluster(n_workers=P)` until every worker is connected
import { linePlot, type Series } from './svg-plot.js';

export type Side = 'commune' | 'floor' | 'mpi4py' | 'openmpi' | 'dask';
export const SIDES: Side[] = ['commune', 'floor', 'mpi4py', 'openmpi', 'dask'];

export const SIDE_LABEL: Record<Side, string> = {
  commune: 'commune (init + allreduce + barrier)',
  floor: 'floor: launch -n P -- node -e 0',
  mpi4py: 'mpi4py (mpirun)',
  openmpi: 'Open MPI C (mpirun)',
  dask: 'Dask LocalCluster(n_workers=P)',
};

/** One run of one side at one P. */
export interface Run {
  ok: boolean;
  /** Wall time of the whole job, s (GNU time). */
  wallS?: number;
  /** CPU of the whole process tree, user + system, s. */
  cpuS?: number;
  /** Peak RSS of the largest process, MiB. */
  peakRssMiB?: number;
  /** Slowest rank's init, ms (as the side reports it). */
  slowestInitMs?: number;
  /** Slowest rank's first collective, ms. */
  firstCollectiveMs?: number;
  /** Why a run failed. */
  error?: string;
}

export interface Row {
  side: Side;
  p: number;
  runs: Run[];
  /** Why the side was not run at all. */
  skipped?: string;
}

/** GNU time's `-f '%e %U %S %M'` line: elapsed s, user s, system s, max RSS KiB. */
export function parseTime(text: string): { wallS: number; cpuS: number; peakRssMiB: number } | undefined {
  const m = /^\s*([\d.]+) ([\d.]+) ([\d.]+) (\d+)\s*$/m.exec(text);
  if (!m) return undefined;
  return { wallS: Number(m[1]), cpuS: Number(m[2]) + Number(m[3]), peakRssMiB: Number(m[4]) / 1024 };
}

/** The side's own `STARTUP {json}` report. */
export function parseReport(stdout: string): { p?: number; slowestInitMs?: number; firstCollectiveMs?: number } | undefined {
  const line = stdout.split('\n').map((l) => l.replace(/^\[\d+\] /, '')).find((l) => l.startsWith('STARTUP '));
  if (!line) return undefined;
  try {
    return JSON.parse(line.slice('STARTUP '.length)) as { p?: number; slowestInitMs?: number; firstCollectiveMs?: number };
  } catch {
    return undefined;
  }
}

export function median(xs: readonly number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[(s.length - 1) >> 1];
}

/** The median of `key` over a row's completed runs. */
export function medianOf(row: Row | undefined, key: 'wallS' | 'cpuS' | 'peakRssMiB' | 'slowestInitMs' | 'firstCollectiveMs'): number | undefined {
  return median((row?.runs ?? []).filter((r) => r.ok && r[key] !== undefined).map((r) => r[key]!));
}

/** Least-squares slope of log y against log x: y grows like x^k. */
export function fitExponent(points: ReadonlyArray<[number, number]>): number | undefined {
  const pts = points.filter(([x, y]) => x > 0 && y > 0).map(([x, y]) => [Math.log(x), Math.log(y)] as const);
  if (pts.length < 2) return undefined;
  const mx = pts.reduce((s, [x]) => s + x, 0) / pts.length;
  const my = pts.reduce((s, [, y]) => s + y, 0) / pts.length;
  const num = pts.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const den = pts.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return den === 0 ? undefined : num / den;
}

const f = (x: number | undefined, digits = 2): string => (x === undefined ? 'n/a' : x.toFixed(digits));

/** The markdown table: one row per side and P, medians over completed runs, with the ratio to the floor. */
export function table(rows: readonly Row[]): string {
  const out = [
    '| side | P | wall s (median) | × floor | slowest init ms | first collective ms | CPU s, all processes | peak RSS MiB (largest process) | runs completed |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const row of [...rows].sort((a, b) => a.p - b.p || SIDES.indexOf(a.side) - SIDES.indexOf(b.side))) {
    if (row.skipped) { out.push(`| ${SIDE_LABEL[row.side]} | ${row.p} | skipped: ${row.skipped} | | | | | | |`); continue; }
    const floor = medianOf(rows.find((r) => r.side === 'floor' && r.p === row.p), 'wallS');
    const wall = medianOf(row, 'wallS');
    const done = row.runs.filter((r) => r.ok).length;
    const failed = row.runs.find((r) => !r.ok)?.error;
    out.push(`| ${SIDE_LABEL[row.side]} | ${row.p} | ${f(wall)} | ${wall !== undefined && floor ? `${(wall / floor).toFixed(2)}×` : 'n/a'} | ${f(medianOf(row, 'slowestInitMs'), 0)} | ${f(medianOf(row, 'firstCollectiveMs'), 0)} | ${f(medianOf(row, 'cpuS'))} | ${f(medianOf(row, 'peakRssMiB'), 0)} | ${done}/${row.runs.length}${failed ? ` (${failed})` : ''} |`);
  }
  return out.join('\n');
}

const COLOURS: Record<Side, string> = { commune: '#d62728', floor: '#7f7f7f', mpi4py: '#1f77b4', openmpi: '#2ca02c', dask: '#ff7f0e' };

/** Wall time against P for every side that completed runs. */
export function plot(rows: readonly Row[]): string {
  const series: Series[] = SIDES.map((side) => ({
    label: SIDE_LABEL[side].replace(/ \(.*\)$/, ''),
    colour: COLOURS[side],
    dashed: side === 'floor',
    points: rows.filter((r) => r.side === side).flatMap((r) => { const w = medianOf(r, 'wallS'); return w === undefined ? [] : [[r.p, w] as [number, number]]; }),
  })).filter((s) => s.points.length > 0);
  const yMax = Math.max(1, ...series.flatMap((s) => s.points.map(([, y]) => y))) * 1.1;
  return linePlot('start-up: init + 8 B allreduce + barrier + finish, median wall time', 'P (processes)', 'wall time, s', series, yMax);
}
