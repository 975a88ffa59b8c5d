// What `commune bench scaling` makes of its cells: the calibration (from the small cells), the model's
// prediction and error for every larger cell (bench/scaling-model.ts), the projections, the tables,
// the plot and the JSON. Pure: cells in, text out; the measuring lives in src/cli/bench-scaling.ts.
import {
  CALIBRATION_MAX_P, coordinatorMakespan, MIN_SPARE_CORES, daskMakespan, efficiency, fitLine, flatMakespan, modelError,
  PROJECTED_N, PROJECTED_P, type Calibration, type Machine, type PerTask,
} from './scaling-model.js';
import { linePlot, type Series } from './svg-plot.js';

export type Engine = 'flat' | 'coordinator' | 'dask' | 'floor';

export interface CellResult {
  engine: Engine;
  workload: string;
  /** Synthetic tasks: spinning (CPU) or waiting (a sleep; cells with more ranks than cores). */
  kind?: 'spin' | 'wait';
  p: number;
  tasks: number;
  /** Seconds from a common start (the engine up and warm; every worker idle) to the last rank done. */
  makespan: number;
  /** Whole launch (process start-up included), seconds; set by the driver. */
  wall?: number;
  /**
   * CPU time (ms) during the run of all the cell's processes over p, and a flat or floor rank's during
   * the tasks themselves.
   */
  cpuMsPerRank?: number;
  workCpuMsPerRank?: number;
  /**
   * CPU ms of the scheduler during the run (co-ordinator: rank 0; Dask: the process that holds the
   * client and LocalCluster's scheduler).
   */
  schedulerCpuMs?: number;
  /** Dask cells: the idle cluster's CPU per worker, as a fraction of a core (its upkeep). */
  idleCoresPerWorker?: number;
  /** Dask cells: the workers' mean RSS, MiB. */
  workerRssMiB?: number;
  /** Mean over ranks of frames and bytes received during the run. */
  messagesPerRank: number;
  bytesPerRank: number;
  ok: boolean;
}

/** The warm α, β of `bench collectives -n 2` and the anchors of the same run. */
export interface Anchors {
  alpha: number;
  beta: number;
  communeUs: number;
  mpiUs?: number;
  mpiNote: string;
  daskPerTaskMs?: number;
  daskNote: string;
}

export interface Measured {
  machine: { cpu: string; nproc: number; node: string; date: string };
  anchors: Anchors;
  cells: CellResult[];
  failures: string[];
  skipped: string[];
  daskStop?: { p: number; why: string };
  quick?: boolean;
}

export interface Analysis {
  text: string;
  svg: string;
  json: unknown;
}

/** Bytes of one synthetic task's result in the flat engine's agreement (a Float64). */
export const RECORD_BYTES = 8;

const f = (x: number | undefined | null, d = 2): string => (x === undefined || x === null || !Number.isFinite(x) ? 'n/a' : x.toFixed(d));
const pct = (e: number | undefined): string => (e === undefined ? 'n/a' : !Number.isFinite(e) ? 'model: never ends' : `${e >= 0 ? '+' : ''}${e.toFixed(0)} %`);
const synthetic = (c: CellResult): boolean => c.workload !== 'seed';
const sameTasks = (a: CellResult, b: CellResult): boolean => a.workload === b.workload && a.p === b.p && a.tasks === b.tasks;
const perTask = (k: PerTask | undefined): string => (k === undefined ? 'n/a' : `${f(k.a * 1e6, 0)} + ${f(k.b * 1e6, 0)}/w µs per task`);
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s.length === 0 ? Number.NaN : s[(s.length - 1) >> 1]!; };

/** The constants of the model, from the cells at p ≤ CALIBRATION_MAX_P only. */
export function calibrate(cells: readonly CellResult[], a: Anchors): Calibration {
  const small = cells.filter((c) => synthetic(c) && c.p <= CALIBRATION_MAX_P);
  const of = (e: Engine): CellResult[] => small.filter((c) => c.engine === e);
  const floorOf = (c: CellResult): CellResult | undefined => cells.find((x) => x.engine === 'floor' && sameTasks(x, c));
  // A task's overhead on a rank with no engine (the floor): what a cluster's rank pays per task too.
  const floorOver = of('floor').map((c) => c.makespan / Math.ceil(c.tasks / c.p) - Number(c.workload) / 1000);
  // A flat rank's CPU per task beyond a floor process's, where tasks sleep (a spinning task's own CPU
  // would swamp it).
  const extra = of('flat').filter((c) => c.kind === 'wait').flatMap((c) => {
    const f = floorOf(c);
    return c.workCpuMsPerRank === undefined || f?.workCpuMsPerRank === undefined ? [] : [(c.workCpuMsPerRank - f.workCpuMsPerRank) / 1000 / (c.tasks / c.p)];
  });
  const flatTaskCpu = extra.length ? Math.max(0, median(extra)) : 0;
  // A rank's CPU for the closing agreement against the decision's size.
  const agree = of('flat').filter((c) => c.p > 1 && c.cpuMsPerRank !== undefined && c.workCpuMsPerRank !== undefined)
    .map((c): [number, number] => [RECORD_BYTES * c.tasks, (c.cpuMsPerRank! - c.workCpuMsPerRank!) / 1000]);
  const line = fitLine(agree);
  // The scheduler's CPU per task, and all the cell's, against 1/w (see scaling-model.ts); a worker's
  // overhead per task on a core of its own is what the cell spends per task beyond the scheduler.
  // The idle cluster's CPU per worker (u, a fraction of a core), where measured; the cell's CPU per task
  // k is what remains once the upkeep over the makespan is taken out.
  const upkeep = (e: Engine): number | undefined => {
    const us = of(e).flatMap((c) => (c.idleCoresPerWorker === undefined ? [] : [c.idleCoresPerWorker]));
    return us.length ? median(us) : undefined;
  };
  const viaScheduler = (e: Engine, workers: (p: number) => number): { s?: PerTask; k?: PerTask; o?: number; u?: number } => {
    const u = upkeep(e);
    const cs = of(e).filter((c) => workers(c.p) >= 1 && c.kind === 'wait');
    const s = cs.filter((c) => c.schedulerCpuMs !== undefined).map((c): [number, number] => [1 / workers(c.p), c.schedulerCpuMs! / 1000 / c.tasks]);
    const k = cs.filter((c) => c.cpuMsPerRank !== undefined)
      .map((c): [number, number] => [1 / workers(c.p), ((c.cpuMsPerRank! * c.p) / 1000 - (u ?? 0) * workers(c.p) * c.makespan) / c.tasks]);
    if (s.length === 0 || k.length === 0) return { u };
    const S = fitLine(s);
    const K = fitLine(k);
    return { s: S, k: K, o: Math.max(0, median(k.map(([x, y]) => y - (S.a + S.b * x)))), u };
  };
  const co = viaScheduler('coordinator', (p) => p - 2);
  const dk = viaScheduler('dask', (p) => p);
  const floorOverhead = floorOver.length ? Math.max(0, median(floorOver)) : 0;
  return {
    alpha: a.alpha, beta: a.beta, recordBytes: RECORD_BYTES,
    flatTaskOverhead: floorOverhead + flatTaskCpu, flatTaskCpu,
    agreeCpu: line.a, agreeCpuPerByte: line.b,
    scheduler: co.s, cellCpu: co.k, workerTaskOverhead: co.o,
    daskScheduler: dk.s, daskCellCpu: dk.k, daskWorkerTaskOverhead: dk.o, daskUpkeep: dk.u,
  };
}

/** The measuring machine at a cell: its floor, when the floor was measured and p > cores. */
function machineAt(c: CellResult, cells: readonly CellResult[], nproc: number): Machine | undefined {
  if (c.p <= nproc || !synthetic(c)) return undefined;
  const floor = cells.find((x) => x.engine === 'floor' && sameTasks(x, c));
  return floor ? { cores: nproc, floor: floor.makespan } : undefined;
}

export function predict(c: CellResult, C: Calibration, m: Machine | undefined): number | undefined {
  if (!synthetic(c)) return undefined;
  const d = Number(c.workload) / 1000;
  switch (c.engine) {
    case 'flat': return flatMakespan(c.p, c.tasks, d, C, m);
    case 'coordinator': return coordinatorMakespan(c.p, c.tasks, d, C, m);
    case 'dask': return daskMakespan(c.p, c.tasks, d, C, m);
    default: return undefined;
  }
}

export function analyse(x: Measured): Analysis {
  const { cells, anchors: a } = x;
  const nproc = x.machine.nproc;
  const C = calibrate(cells, a);
  const out: string[] = [];
  out.push(`## commune bench scaling — flat vs co-ordinator vs Dask${x.quick ? ' (--quick)' : ''}`);
  out.push('');
  out.push(`machine: ${x.machine.cpu}, nproc ${nproc}; node ${x.machine.node}; ${x.machine.date}`);
  out.push(`calibration (cells at p ≤ ${CALIBRATION_MAX_P}): α = ${f(C.alpha * 1e6, 1)} µs (warm 8 B allreduce ${f(a.communeUs, 1)} µs / 2), β = ${f(C.beta * 1e9, 3)} ns/B; ` +
    `flat: per-task overhead ${f(C.flatTaskOverhead * 1e6, 0)} µs (CPU beyond the floor's ${f(C.flatTaskCpu * 1e6, 0)} µs), agreement CPU per rank ${f(C.agreeCpu * 1e3, 2)} ms + ${f(C.agreeCpuPerByte * 1e9, 1)} ns/B of decision; ` +
    `co-ordinator: scheduler CPU ${perTask(C.scheduler)}, all processes' CPU ${perTask(C.cellCpu)}; Dask: scheduler CPU ${perTask(C.daskScheduler)}, all processes' CPU ${perTask(C.daskCellCpu)}, idle upkeep ${C.daskUpkeep === undefined ? 'n/a' : `${f(C.daskUpkeep * 100, 1)} % of a core per worker`}`);
  out.push(`anchors: Open MPI 8 B allreduce ${a.mpiUs === undefined ? `n/a (${a.mpiNote})` : `${f(a.mpiUs, 1)} µs (${a.mpiNote})`}; ` +
    `Dask per task ${a.daskPerTaskMs === undefined ? `n/a (${a.daskNote})` : `${f(a.daskPerTaskMs * 1000, 0)} µs (${a.daskNote})`}`);
  out.push('');
  out.push('| engine | workload | p | tasks | makespan s | efficiency T1/(p·Tp) | of the floor | per-task overhead µs | CPU ms/rank | scheduler CPU µs/task | msgs/rank | bytes/rank | model s | model error |');
  out.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  const t1 = (c: CellResult): number | undefined => (synthetic(c)
    ? (c.tasks * Number(c.workload)) / 1000
    : cells.find((y) => y.engine === 'flat' && y.workload === 'seed' && y.p === 1)?.makespan);
  const rows: unknown[] = [];
  const errors: Array<{ cell: string; error: number }> = [];
  const order: Engine[] = ['flat', 'coordinator', 'dask', 'floor'];
  const sorted = [...cells].sort((p, q) => p.workload.localeCompare(q.workload, 'en', { numeric: true }) || order.indexOf(p.engine) - order.indexOf(q.engine) || p.p - q.p || p.tasks - q.tasks);
  for (const c of sorted) {
    const T1 = t1(c);
    const eff = T1 === undefined ? undefined : T1 / (c.p * c.makespan);
    const over = !synthetic(c) || T1 === undefined ? undefined : ((c.p * c.makespan - T1) / c.tasks) * 1e6;
    const floor = c.engine === 'floor' ? undefined : cells.find((y) => y.engine === 'floor' && sameTasks(y, c));
    const ofFloor = floor ? floor.makespan / c.makespan : undefined;
    const m = machineAt(c, cells, nproc);
    const validated = c.p > CALIBRATION_MAX_P;
    const model = predict(c, C, m);
    const err = validated ? modelError(model, c.makespan) : undefined;
    const name = `${c.engine} p=${c.p} ${c.tasks} × ${c.workload} ms`;
    if (err !== undefined) errors.push({ cell: name, error: err });
    rows.push({ ...c, efficiency: eff ?? null, ofFloor: ofFloor ?? null, perTaskOverheadUs: over ?? null, modelSeconds: model ?? null, modelErrorPercent: err ?? null, role: validated ? 'validation' : 'calibration', floorSeconds: m?.floor ?? null });
    out.push(`| ${c.engine} | ${synthetic(c) ? `${c.workload} ms${c.kind === 'wait' ? ' sleeping' : ''}` : 'seed grid search'} | ${c.p}${c.p > nproc ? ' (oversubscribed)' : ''} | ${c.tasks} | ${f(c.makespan, 3)} | ` +
      `${f(eff)} | ${f(ofFloor)} | ${f(over, 0)} | ${f(c.cpuMsPerRank, 1)} | ${c.schedulerCpuMs === undefined ? '—' : f((c.schedulerCpuMs * 1000) / c.tasks, 0)} | ${f(c.messagesPerRank, 0)} | ${f(c.bytesPerRank, 0)} | ${f(model, 3)} | ${validated ? pct(err) : 'calibration'} |`);
  }
  for (const y of x.failures) out.push(`failed: ${y}`);
  for (const y of x.skipped) out.push(y);
  if (x.daskStop) out.push(`Dask stops at p=${x.daskStop.p} on this machine: ${x.daskStop.why}`);
  if (C.daskUpkeep) out.push(`model: Dask's idle upkeep alone holds the ${nproc} cores from about p=${Math.ceil((nproc * (1 - MIN_SPARE_CORES)) / C.daskUpkeep)} workers`);
  const within = errors.filter((e) => Math.abs(e.error) <= 25);
  const worst = [...errors].sort((p, q) => Math.abs(q.error) - Math.abs(p.error))[0];
  const validation = { validatedCells: errors.length, within25Percent: within.length, worst: worst ?? null, errors };
  out.push('');
  out.push(errors.length === 0 ? 'model validation: no cells above the calibration range'
    : `model validation (predicted from the cells at p ≤ ${CALIBRATION_MAX_P}): ${within.length} of ${errors.length} cells within ±25 %; worst ${worst!.cell}: ${pct(worst!.error)}`);
  const counts = order.map((e) => [e, cells.filter((c) => c.engine === e).length] as const).filter(([, n]) => n > 0);
  out.push(`cells completed: ${counts.map(([e, n]) => `${e} ${n}`).join(', ')}${x.failures.length ? `; failed ${x.failures.length}` : ''}`);

  // Projections: one core per rank (a cluster), fixed task counts (strong scaling).
  const durations = [...new Set(cells.filter(synthetic).map((c) => Number(c.workload)))].sort((p, q) => p - q);
  const projections: Array<{ taskMs: number; tasks: number; p: number; flat: number | null; coordinator: number | null; dask: number | null }> = [];
  out.push('');
  out.push('Projected efficiency on a cluster, one core per rank (model): flat / co-ordinator / Dask');
  out.push('');
  out.push(`| task | tasks | ${PROJECTED_P.map((p) => `p=${p}`).join(' | ')} |`);
  out.push(`|---|---|${PROJECTED_P.map(() => '---').join('|')}|`);
  for (const ms of durations) {
    for (const n of PROJECTED_N) {
      const d = ms / 1000;
      const txt = PROJECTED_P.map((p) => {
        const e = {
          flat: efficiency(p, n, d, flatMakespan(p, n, d, C)) ?? null,
          coordinator: efficiency(p, n, d, coordinatorMakespan(p, n, d, C)) ?? null,
          dask: efficiency(p, n, d, daskMakespan(p, n, d, C)) ?? null,
        };
        projections.push({ taskMs: ms, tasks: n, p, ...e });
        return `${f(e.flat)} / ${f(e.coordinator)} / ${f(e.dask)}`;
      });
      out.push(`| ${ms} ms | ${n.toExponential(0)} | ${txt.join(' | ')} |`);
    }
  }
  return {
    text: out.join('\n') + '\n',
    svg: plot(cells, C, nproc),
    json: { date: x.machine.date, machine: x.machine, calibration: C, anchors: a, cells: rows, validation, projections, failures: x.failures, skipped: x.skipped, daskStop: x.daskStop ?? null },
  };
}

const COLOURS: Record<Engine, string> = { flat: '#1f77b4', coordinator: '#ff7f0e', dask: '#2ca02c', floor: '#7f7f7f' };
const LABEL: Record<Engine, string> = { flat: 'flat', coordinator: 'co-ord', dask: 'Dask', floor: 'floor (no engine)' };

/**
 * Efficiency against p for one task length (10 ms when measured) at the most tasks per rank: measured
 * points, the model on this machine through the measured p, and the model on a cluster to 4096 ranks.
 */
function plot(cells: readonly CellResult[], C: Calibration, nproc: number): string {
  const syn = cells.filter(synthetic);
  const lengths = [...new Set(syn.map((c) => c.workload))];
  const workload = lengths.includes('10') ? '10' : lengths[0];
  if (workload === undefined) return linePlot('Efficiency T1/(p·Tp)', 'ranks p (log scale)', 'efficiency', []);
  const d = Number(workload) / 1000;
  const perRank = Math.max(...syn.filter((c) => c.workload === workload).map((c) => Math.round(c.tasks / c.p)));
  const at = syn.filter((c) => c.workload === workload && Math.round(c.tasks / c.p) === perRank);
  const series: Series[] = [];
  for (const e of ['flat', 'coordinator', 'dask', 'floor'] as Engine[]) {
    const mine = at.filter((c) => c.engine === e).sort((p, q) => p.p - q.p);
    if (mine.length === 0) continue;
    const colour = COLOURS[e];
    series.push({ label: `${LABEL[e]} measured`, colour, markers: true, points: mine.map((c) => [c.p, (c.tasks * d) / (c.p * c.makespan)]) });
    if (e === 'floor') continue;
    const model = mine.map((c): [number, number] => [c.p, efficiency(c.p, c.tasks, d, predict(c, C, machineAt(c, cells, nproc))) ?? Number.NaN]).filter(([, y]) => Number.isFinite(y));
    if (model.length) series.push({ label: `${LABEL[e]} model, this machine`, colour, points: model });
    const ps = [4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096];
    const cluster = ps.map((p): [number, number] => {
      const n = perRank * p;
      const t = e === 'flat' ? flatMakespan(p, n, d, C) : e === 'coordinator' ? coordinatorMakespan(p, n, d, C) : daskMakespan(p, n, d, C);
      return [p, efficiency(p, n, d, t) ?? Number.NaN];
    }).filter(([, y]) => Number.isFinite(y));
    if (cluster.length) series.push({ label: `${LABEL[e]} model, a cluster`, colour, dashed: true, points: cluster });
  }
  return linePlot(`Efficiency, ${workload} ms tasks × ${perRank} per rank (${nproc} cores; a cluster: one core per rank)`, 'ranks p (log scale)', 'efficiency', series);
}
