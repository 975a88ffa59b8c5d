// `commune bench scaling`: the flat engine against the co-ordinator engine at p = 1, 2, 4, 8 real rank
// processes, for the seed workload and for synthetic tasks of 0.1, 1, 10 and 100 ms, with makespan,
// efficiency T1/(p·Tp), per-task overhead, and messages and bytes per rank; then a model calibrated on
// this run (bench/scaling-model.ts) projected to p = 16 … 4096 and 10^3 … 10^6 tasks, printed beside
// the measurements with its error. Anchors in the same invocation when installed: Open MPI's 8-byte
// allreduce (through `commune bench collectives`) and Dask's per-task overhead (LocalCluster).
//
//   driver (default):  spawns `commune launch -n P -- node main.js bench scaling --rank-mode …` per cell
//   --rank-mode:       (internal) one rank; rank 0 (flat) or rank 1 (co-ordinator, the client) prints
//                      `RESULT {json}`
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { coordinatorMakespan, efficiency, flatMakespan, modelError, PROJECTED_N, PROJECTED_P, type Calibration } from '../../bench/scaling-model.js';
import { spin, tasksFor, wait } from '../../bench/scaling-tasks.js';
import { linePlot, type Series } from '../../bench/svg-plot.js';
import { block } from '../collectives/blocks.js';
import { CommuneError } from '../errors.js';
import { shipAs } from '../../compat/task-ref.js';
import { SEED_SCORING } from './gridsearch-options.js';

export type Engine = 'flat' | 'coordinator' | 'dask';

export interface BenchScalingOptions {
  quick?: boolean;
  json?: string;
  svg?: string;
  rankMode?: boolean;
  engine?: Engine;
  /** Tasks that wait (a timer) instead of spinning: for cells with more ranks than cores. */
  waitTasks?: boolean;
  /** 'seed' or a task duration in ms. */
  workload?: string;
  tasks?: number;
  /** The driver's cells: rank counts, task lengths (ms), tasks per rank, engines (defaults: see driver). */
  p?: number[];
  taskMs?: number[];
  tasksPerRank?: number[];
  engines?: Engine[];
}

interface CellResult {
  engine: Engine;
  workload: string;
  /** Synthetic tasks: spinning (CPU) or waiting (a timer; cells with more ranks than cores). */
  kind?: 'spin' | 'wait';
  p: number;
  tasks: number;
  /** Seconds from a common start (after the mesh is up) to the last rank done. */
  makespan: number;
  /** Whole launch (process start-up included), seconds; set by the driver. */
  wall?: number;
  /** Mean over ranks of frames and bytes sent during the run. */
  messagesPerRank: number;
  bytesPerRank: number;
  ok: boolean;
}

const here = dirname(fileURLToPath(import.meta.url));
const MAIN = join(here, 'main.js');
const ROOT = resolve(here, '..', '..', '..');
const PY = '/usr/bin/python3';

// ---- rank mode -------------------------------------------------------------------------------------

/** The compat API this benchmark drives (typed here: the co-ordinator lives in compat/, above src/). */
interface CompatApi {
  initialize(o: { nthreads?: number }): Promise<unknown>;
  GridSearchCV: new (estimator: unknown, grid: unknown, o: Record<string, unknown>) => { fit(X: unknown, y: unknown): Promise<{ nFits_?: number; cvResults_?: unknown }> };
  Client: new () => {
    map(fn: (...a: never[]) => unknown, ...args: unknown[]): unknown[];
    gather(fs: unknown[]): Promise<unknown[]>;
    close(): Promise<void>;
  };
}

async function flatRank(o: BenchScalingOptions): Promise<void> {
  const { init } = await import('../index.js');
  const { runRounds, livenessMs } = await import('../search/resilient-rounds.js');
  const comm = await init({ timeoutMs: 600_000 });
  try {
    await comm.barrier();
    const before = { ...comm.mesh.traffic };
    const t0 = performance.now();
    let tasks: number;
    let ok: boolean;
    if (o.workload === 'seed') {
      const { GridSearchCV, loadDigits, SVC, trainTestSplit } = await import('../ml/index.js');
      const { flatEngine } = await import('../search/flat-engine.js');
      const { SEED_GRID } = await import('./gridsearch.js');
      const d = loadDigits();
      const [X, , y] = trainTestSplit(d.data, d.target, { testSize: 0.5, randomState: 0 });
      const s = await new GridSearchCV(new SVC(), SEED_GRID, { scoring: SEED_SCORING, refit: false, engine: flatEngine(comm) }).fit(X as never, y as Int32Array);
      tasks = s.plan_!.tasks.length;
      ok = s.cvResults_ !== undefined;
    } else {
      const ms = Number(o.workload);
      tasks = o.tasks!;
      const done = new Float64Array(tasks).fill(-1);
      await runRounds<Float64Array>({ rank: comm.rank, alive: Array.from({ length: comm.size }, (_, r) => r), mesh: comm.mesh, livenessMs: livenessMs(), timeoutMs: 600_000 }, {
        what: 'tasks',
        pending: () => { const out: number[] = []; done.forEach((v, i) => { if (v < 0) out.push(i); }); return out; },
        share: (pending, parts, i) => { const b = block(pending.length, parts, i); return pending.slice(b.start, b.end); },
        run: async (mine) => {
          const out = new Float64Array(mine.length);
          let lastYield = performance.now();
          for (let k = 0; k < mine.length; k++) {
            out[k] = o.waitTasks ? await wait(mine[k], ms) : spin(mine[k], ms);
            // Keep the mesh (liveness pings) served during a long share.
            if (performance.now() - lastYield > 50) { await new Promise((r) => setImmediate(r)); lastYield = performance.now(); }
          }
          return Float64Array.from([...mine, ...out]);
        },
        absorb: (payloads) => {
          for (const [, pl] of payloads) { const n = pl.length / 2; for (let k = 0; k < n; k++) done[pl[k]] = pl[n + k]; }
        },
      });
      ok = done.every((v, i) => v === i);
    }
    const seconds = (performance.now() - t0) / 1000;
    const t = comm.mesh.traffic;
    // Received frames and bytes: exact on both data planes (a direct-plane send does not know its encoded size).
    const mine = { seconds, sent: t.received - before.received, bytes: t.receivedBytes - before.receivedBytes, ok };
    const all = await comm.allgather(mine);
    if (comm.rank === 0) {
      const r: CellResult = {
        engine: 'flat', workload: o.workload!, p: comm.size, tasks, makespan: Math.max(...all.map((a) => a.seconds)),
        messagesPerRank: all.reduce((s, a) => s + a.sent, 0) / comm.size, bytesPerRank: all.reduce((s, a) => s + a.bytes, 0) / comm.size, ok: all.every((a) => a.ok),
      };
      process.stdout.write(`RESULT ${JSON.stringify(r)}\n`);
    }
  } finally {
    await comm.close();
  }
}

async function coordinatorRank(o: BenchScalingOptions): Promise<void> {
  // Functions travel by module URL and export name. From the bundled CLI `spin` lives in the bundle,
  // which a worker cannot import it from: name its own module (built beside this file) instead.
  const tasksModule = new URL('../../bench/scaling-tasks.js', import.meta.url).href;
  shipAs(spin, tasksModule, 'spin');
  shipAs(wait, tasksModule, 'wait');
  const compat = (await import('../../compat/index.js')) as unknown as CompatApi;
  if (typeof compat.initialize !== 'function') throw new CommuneError('the co-ordinator engine (compat/) is not built');
  await compat.initialize({ nthreads: 1 }); // ranks 0 and ≥ 2 serve (scheduler, workers) and never return here
  const client = new compat.Client();
  const p = Number(process.env.COMMUNE_SIZE ?? process.env.SLURM_NTASKS ?? 0);
  if (o.workload === 'seed') {
    // The same plan as the flat engine's seed cell (5-fold, unweighted, both scorers), through the scheduler.
    const { loadDigits, SVC, trainTestSplit } = await import('../ml/index.js');
    const { SEED_GRID } = await import('./gridsearch.js');
    const d = loadDigits();
    const [X, , y] = trainTestSplit(d.data, d.target, { testSize: 0.5, randomState: 0 });
    const t0 = performance.now();
    const s = await new compat.GridSearchCV(new SVC(), SEED_GRID, { scoring: SEED_SCORING, cv: 5, iid: false, refit: false, errorScore: NaN, scheduler: client }).fit(X, y);
    const r: CellResult = {
      engine: 'coordinator', workload: 'seed', p, tasks: s.nFits_ ?? 0, makespan: (performance.now() - t0) / 1000,
      messagesPerRank: Number.NaN, bytesPerRank: Number.NaN, ok: s.cvResults_ !== undefined,
    };
    process.stdout.write(`RESULT ${JSON.stringify(r)}\n`);
    await client.close();
    return;
  }
  const ms = Number(o.workload);
  const ids = Array.from({ length: o.tasks! }, (_, i) => i);
  const t0 = performance.now();
  const out = await client.gather(client.map(o.waitTasks ? wait : spin, ids, ids.map(() => ms), { pure: false }));
  const seconds = (performance.now() - t0) / 1000;
  const r: CellResult = {
    engine: 'coordinator', workload: o.workload!, p, tasks: ids.length, makespan: seconds,
    // Every task is two messages through the scheduler (assignment, result) plus the client's submit
    // and gather: reported as the mean per rank of a 4-message-per-task exchange.
    messagesPerRank: (4 * ids.length) / p, bytesPerRank: Number.NaN, ok: out.every((v, i) => v === i),
  };
  process.stdout.write(`RESULT ${JSON.stringify(r)}\n`);
  await client.close();
}

// ---- driver ----------------------------------------------------------------------------------------

function runCell(engine: Engine, p: number, workload: string, tasks: number, waitTasks: boolean): Promise<CellResult | string> {
  return new Promise((done) => {
    const args = [MAIN, 'bench', 'scaling', '--rank-mode', '--engine', engine, '--workload', workload, '--tasks', String(tasks), ...(waitTasks ? ['--wait-tasks'] : [])];
    const t0 = performance.now();
    const child = spawn(process.execPath, [MAIN, 'launch', '-n', String(p), '--', process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let result: CellResult | undefined;
    const tail: string[] = [];
    createInterface({ input: child.stdout! }).on('line', (l) => {
      const m = /^\[\d+\] RESULT (.*)$/.exec(l);
      if (m) result = JSON.parse(m[1]) as CellResult;
    });
    createInterface({ input: child.stderr! }).on('line', (l) => { tail.push(l); if (tail.length > 5) tail.shift(); });
    child.on('close', (code) => {
      if (result && code === 0) done({ ...result, p, wall: (performance.now() - t0) / 1000 });
      else done(`exit ${code}: ${tail.join(' | ').slice(0, 400)}`);
    });
  });
}

/** One Dask cell (bench/scaling_dask.py): a LocalCluster of p workers, the same synthetic tasks. */
function runDaskCell(p: number, workload: string, tasks: number, waitTasks: boolean): CellResult | string {
  const script = join(ROOT, 'bench', 'scaling_dask.py');
  const r = spawnSync(PY, [script, String(p), workload, String(tasks), waitTasks ? 'wait' : 'spin'], { encoding: 'utf8', timeout: 900_000 });
  const m = /^RESULT (.*)$/m.exec(r.stdout);
  if (!m) return (/^FAILED (.*)$/m.exec(r.stdout)?.[1] ?? `exit ${r.status ?? r.signal}: ${r.stderr.slice(-300)}`).trim();
  const d = JSON.parse(m[1]!) as { makespan: number; ok: boolean };
  return { engine: 'dask', workload, p, tasks, makespan: d.makespan, messagesPerRank: Number.NaN, bytesPerRank: Number.NaN, ok: d.ok };
}

/** α and β from `commune bench collectives -n 2` (which also runs the Open MPI anchor). */
function calibrate(tmp: string): { alpha: number; beta: number; mpiUs?: number; communeUs: number; note: string } {
  const json = join(tmp, 'coll.json');
  const r = spawnSync(process.execPath, [MAIN, 'bench', 'collectives', '-n', '2', '--sizes', '8,1MiB', '--iterations', '200', '--json', json], { encoding: 'utf8' });
  if (r.status !== 0 || !existsSync(json)) throw new CommuneError(`calibration (bench collectives) failed: ${r.stderr.slice(-500)}`);
  type Row = { collective: string; bytes: number; avgUs: number };
  const j = JSON.parse(readFileSync(json, 'utf8')) as { commune: { rows: Row[] }; openmpi: { status: string; rows?: Row[]; reason?: string } };
  const at = (rows: Row[] | undefined, b: number): number | undefined => rows?.find((x) => x.collective === 'allreduce' && x.bytes === b)?.avgUs;
  const small = at(j.commune.rows, 8)!;
  const big = at(j.commune.rows, 1024 * 1024)!;
  return {
    alpha: small / 2 / 1e6, beta: Math.max(0, big - small) / 1e6 / (1024 * 1024), communeUs: small,
    mpiUs: j.openmpi.status === 'ok' ? at(j.openmpi.rows, 8) : undefined,
    note: j.openmpi.status === 'ok' ? 'Open MPI 4.1 TCP loopback, same run' : `Open MPI anchor skipped: ${j.openmpi.reason}`,
  };
}

/** Dask's per-task time (client.map + gather of no-op tasks on a 2-worker LocalCluster), or why not. */
function daskAnchor(n: number): { perTaskMs?: number; note: string } {
  const script = join(ROOT, 'bench', 'compat_overhead_dask.py');
  if (!existsSync(PY) || !existsSync(script)) return { note: `Dask anchor skipped: ${existsSync(PY) ? script : PY} not found` };
  const has = spawnSync(PY, ['-c', 'import distributed'], { encoding: 'utf8' });
  if (has.status !== 0) return { note: 'Dask anchor skipped: python3-distributed not installed (apt-get install -y python3-distributed)' };
  const r = spawnSync(PY, [script, String(n), '2'], { encoding: 'utf8' });
  const s = [...r.stdout.matchAll(/BENCH_SECONDS ([\d.e-]+)/g)].map((m) => Number(m[1]));
  if (s.length === 0) return { note: `Dask anchor skipped: run failed (${r.stderr.slice(-200)})` };
  return { perTaskMs: (Math.min(...s) / n) * 1000, note: `Dask LocalCluster 2 workers × 1 thread, ${n} no-op tasks` };
}

const f = (x: number | undefined, d = 2): string => (x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(d));

async function driver(o: BenchScalingOptions): Promise<void> {
  const nproc = availableParallelism();
  const ps = o.p ?? (o.quick ? [1, 2, 4] : [1, 2, 4, 8]);
  const durations = o.taskMs ?? (o.quick ? [1, 10] : [0.1, 1, 10, 100]);
  const engines = o.engines ?? ['flat', 'coordinator'];
  // Tasks per cell: a fixed amount of work in all (the default), or so many per rank (--tasks-per-rank).
  const taskCounts = (p: number, ms: number): number[] => (o.tasksPerRank ? o.tasksPerRank.map((k) => k * p) : [tasksFor(ms, work)]);
  const work = o.quick ? 0.4 : 2;
  const tmp = mkdtempSync(join(tmpdir(), 'commune-scaling-'));
  const cells: CellResult[] = [];
  const failures: string[] = [];
  const skipped: string[] = [];
  let cal: ReturnType<typeof calibrate>;
  let dask: ReturnType<typeof daskAnchor>;
  try {
    process.stderr.write('scaling: calibrating α, β (commune bench collectives -n 2, with the Open MPI anchor)…\n');
    cal = calibrate(tmp);
    process.stderr.write('scaling: Dask per-task anchor…\n');
    dask = daskAnchor(o.quick ? 500 : 5000);
    const workloads = [...durations.map(String), ...(o.quick || o.taskMs ? [] : ['seed'])];
    // A missing anchor is skipped with the reason, not failed.
    const noDask = !engines.includes('dask') ? undefined : !existsSync(PY) ? `${PY} not found`
      : spawnSync(PY, ['-c', 'import distributed'], { encoding: 'utf8' }).status !== 0 ? 'python3-distributed not installed (apt-get install -y python3-distributed)' : undefined;
    if (noDask) { skipped.push(`dask cells skipped: ${noDask}`); process.stderr.write(`scaling: ${skipped.at(-1)}\n`); }
    for (const workload of workloads) {
      for (const engine of engines) {
        if (engine === 'dask' && (workload === 'seed' || noDask)) continue; // Dask's grid search is `bench gridsearch`'s anchor
        for (const p of ps) {
          if (engine === 'coordinator' && p < 3) continue; // dask-mpi needs a scheduler, a client and a worker
          for (const tasks of workload === 'seed' ? [0] : taskCounts(p, Number(workload))) {
            // More ranks than cores: tasks that wait, so the cell measures the engine, not core sharing.
            const waitTasks = workload !== 'seed' && p > nproc;
            const what = `${engine} p=${p} ${workload === 'seed' ? 'seed workload' : `${tasks} × ${workload} ms${waitTasks ? ' (waiting)' : ''}`}`;
            process.stderr.write(`scaling: ${what}…\n`);
            const r = engine === 'dask' ? runDaskCell(p, workload, tasks, waitTasks) : await runCell(engine, p, workload, tasks, waitTasks);
            if (typeof r === 'string') failures.push(`${what}: ${r}`);
            else cells.push({ ...r, ...(workload === 'seed' ? {} : { kind: waitTasks ? 'wait' : 'spin' }) });
          }
        }
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }

  // Calibration from the measurements themselves: the flat per-task overhead at p = 1, the
  // co-ordinator's scheduler cost from its shortest tasks (where it saturates) and worker overhead.
  const flat1 = cells.filter((c) => c.engine === 'flat' && c.p === 1 && c.workload !== 'seed');
  const flatOverhead = flat1.length ? Math.max(0, Math.min(...flat1.map((c) => (c.makespan - c.tasks * Number(c.workload) / 1000) / c.tasks))) : 0;
  const coord = cells.filter((c) => c.engine === 'coordinator' && c.workload !== 'seed');
  const sched = coord.length ? Math.min(...coord.map((c) => c.makespan / c.tasks)) : undefined;
  // Worker overhead: per task on a worker beyond the task itself, where the scheduler keeps up best.
  const workerOverhead = coord.length ? Math.max(0, Math.min(...coord.map((c) => (c.makespan * (c.p - 2)) / c.tasks - Number(c.workload) / 1000))) : undefined;
  const C: Calibration = { alpha: cal.alpha, beta: cal.beta, flatTaskOverhead: flatOverhead, recordBytes: 16, schedulerPerTask: sched, workerTaskOverhead: workerOverhead };

  const out: string[] = [];
  out.push(`## commune bench scaling — flat vs co-ordinator${o.quick ? ' (--quick)' : ''}`);
  out.push('');
  out.push(`machine: ${cpus()[0]?.model?.trim() ?? 'unknown'}, nproc ${nproc}; node ${process.version}; ${new Date().toISOString()}`);
  out.push(`calibration: α = ${f(cal.alpha * 1e6, 1)} µs (8 B allreduce ${f(cal.communeUs, 1)} µs / 2), β = ${f(cal.beta * 1e9, 3)} ns/B; ` +
    `flat per-task overhead ${f(flatOverhead * 1e6, 1)} µs; scheduler per task ${sched === undefined ? 'n/a' : `${f(sched * 1e6, 1)} µs`}; worker overhead ${workerOverhead === undefined ? 'n/a' : `${f(workerOverhead * 1e6, 1)} µs`}`);
  out.push(`anchors: Open MPI 8 B allreduce ${cal.mpiUs === undefined ? `n/a (${cal.note})` : `${f(cal.mpiUs, 1)} µs (${cal.note})`}; ` +
    `Dask per task ${dask.perTaskMs === undefined ? `n/a (${dask.note})` : `${f(dask.perTaskMs * 1000, 0)} µs (${dask.note})`}`);
  out.push('');
  out.push('| engine | workload | p | tasks | makespan s | efficiency T1/(p·Tp) | per-task overhead µs | msgs/rank | bytes/rank | model s | model error |');
  out.push('|---|---|---|---|---|---|---|---|---|---|---|');
  const t1 = (c: CellResult): number | undefined => (c.workload === 'seed'
    ? cells.find((x) => x.engine === 'flat' && x.workload === 'seed' && x.p === 1)?.makespan
    : (c.tasks * Number(c.workload)) / 1000);
  /** What the tables print, for --json. */
  const rows: Array<CellResult & Record<string, number | null | string | boolean>> = [];
  const projections: Array<{ taskMs: number; tasks: number; p: number; flat: number | null; coordinator: number | null }> = [];
  for (const c of cells) {
    const d = Number(c.workload) / 1000;
    const T1 = t1(c);
    const eff = T1 === undefined ? undefined : T1 / (c.p * c.makespan);
    const over = c.workload === 'seed' || T1 === undefined ? undefined : ((c.p * c.makespan - T1) / c.tasks) * 1e6;
    // Waiting tasks do not share the cores: no stretch for more ranks than cores.
    const here = { ...C, cores: c.kind === 'wait' ? undefined : nproc };
    // Dask's cells are measured only: the model describes commune's two engines.
    const model = c.workload === 'seed' || c.engine === 'dask' ? undefined : c.engine === 'flat' ? flatMakespan(c.p, c.tasks, d, here) : coordinatorMakespan(c.p, c.tasks, d, here);
    const err = model === undefined ? undefined : modelError(model, c.makespan);
    rows.push({ ...c, efficiency: eff ?? null, perTaskOverheadUs: over ?? null, modelSeconds: model ?? null, modelErrorPercent: err ?? null });
    out.push(`| ${c.engine} | ${c.workload === 'seed' ? 'seed grid search' : `${c.workload} ms${c.kind === 'wait' ? ' waiting' : ''}`} | ${c.p}${c.p > nproc ? ' (oversubscribed)' : ''} | ${c.tasks} | ${f(c.makespan, 3)} | ` +
      `${f(eff)} | ${f(over, 0)} | ${f(c.messagesPerRank, 0)} | ${f(c.bytesPerRank, 0)} | ${f(model, 3)} | ${err === undefined ? 'n/a' : `${err >= 0 ? '+' : ''}${f(err, 0)} %`} |`);
  }
  for (const x of failures) out.push(`failed: ${x}`);
  for (const x of skipped) out.push(x);
  out.push('');
  out.push('Projected efficiency (model): flat / co-ordinator');
  out.push('');
  out.push(`| task | tasks | ${PROJECTED_P.map((p) => `p=${p}`).join(' | ')} |`);
  out.push(`|---|---|${PROJECTED_P.map(() => '---').join('|')}|`);
  for (const ms of durations) {
    for (const n of PROJECTED_N) {
      const d = ms / 1000;
      const cellsTxt = PROJECTED_P.map((p) => {
        const flat = efficiency(p, n, d, flatMakespan(p, n, d, C));
        const coordinator = efficiency(p, n, d, coordinatorMakespan(p, n, d, C));
        projections.push({ taskMs: ms, tasks: n, p, flat: flat ?? null, coordinator: coordinator ?? null });
        return `${f(flat)} / ${f(coordinator)}`;
      });
      out.push(`| ${ms} ms | ${n.toExponential(0)} | ${cellsTxt.join(' | ')} |`);
    }
  }
  process.stdout.write(out.join('\n') + '\n');

  if (o.svg) {
    const colours = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728'];
    const series: Series[] = [];
    const curveP = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096];
    durations.forEach((ms, i) => {
      const d = ms / 1000;
      const n = 1e5;
      const colour = colours[i % colours.length];
      series.push({ label: `flat ${ms} ms (model, 1e5 tasks)`, colour, points: curveP.map((p) => [p, efficiency(p, n, d, flatMakespan(p, n, d, C)) ?? NaN]) });
      series.push({ label: `co-ord ${ms} ms (model)`, colour, dashed: true, points: curveP.filter((p) => p >= 3).map((p) => [p, efficiency(p, n, d, coordinatorMakespan(p, n, d, C)) ?? NaN]) });
      for (const engine of [...new Set(cells.map((c) => c.engine))]) {
        const pts = cells.filter((c) => c.engine === engine && c.workload === String(ms)).map((c): [number, number] => [c.p, (c.tasks * d) / (c.p * c.makespan)]);
        if (pts.length) series.push({ label: `${engine === 'coordinator' ? 'co-ord' : engine} ${ms} ms measured`, colour, markers: true, points: pts });
      }
    });
    writeFileSync(o.svg, linePlot('Efficiency T1/(p·Tp): flat vs co-ordinator', 'ranks p (log scale)', 'efficiency', series));
    process.stderr.write(`wrote ${o.svg}\n`);
  }
  if (o.json) {
    writeFileSync(o.json, JSON.stringify({ date: new Date().toISOString(), machine: { cpu: cpus()[0]?.model, nproc }, calibration: C, anchors: { openmpiAllreduce8BUs: cal.mpiUs, daskPerTaskMs: dask.perTaskMs, notes: [cal.note, dask.note] }, cells: rows, projections, failures, skipped }, null, 2) + '\n');
    process.stderr.write(`wrote ${o.json}\n`);
  }
  // A failed cell is a failed benchmark: its row is missing from every table above.
  if (failures.length > 0) throw new CommuneError(`bench scaling: ${failures.length} of ${failures.length + cells.length} cells failed — ${failures.join('; ')}`);
}

/** The action of `commune bench scaling`. */
export async function benchScaling(o: BenchScalingOptions): Promise<void> {
  if (!o.rankMode) { await driver(o); return; }
  if (o.engine === 'coordinator') await coordinatorRank(o);
  else await flatRank(o);
}
