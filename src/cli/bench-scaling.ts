// `commune bench scaling`: the flat engine, the co-ordinator and Dask on the same synthetic tasks at
// p = 2 … 256 real processes (tasks of 1, 10, 100 ms; 10 and 100 per rank), beside the machine's floor
// (the same tasks in p plain processes, no engine). More ranks than cores: the tasks sleep, so a cell
// measures each engine's own overhead, not how the cores are shared. bench/scaling-analysis.ts then
// calibrates the model (bench/scaling-model.ts) on the small cells, checks it against the larger ones
// and projects it to 4096 ranks; the anchors (Open MPI's 8-byte allreduce, Dask's per-task cost) come
// from the same invocation.
//
//   driver (default):  spawns `commune launch -n P -- node main.js bench scaling --rank-mode …` per cell
//   --rank-mode:       (internal) one rank; rank 0 (flat) or rank 1 (co-ordinator, the client) prints
//                      `RESULT {json}`
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, freemem, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { analyse, type Anchors, type CellResult, type Engine, type Measured } from '../../bench/scaling-analysis.js';
import { spin, wait } from '../../bench/scaling-tasks.js';
import { cpuBetween, jobCpuMs } from '../../bench/job-cpu.js';
import { runDaskCell, runFloorCell } from '../../bench/scaling-other-cells.js';
import { block } from '../collectives/blocks.js';
import { CommuneError, UsageError } from '../errors.js';
import { shipAs } from '../../compat/task-ref.js';

export type { Engine };

export interface BenchScalingOptions {
  quick?: boolean;
  json?: string;
  svg?: string;
  rankMode?: boolean;
  engine?: Engine;
  /** Tasks that sleep instead of spinning: for cells with more ranks than cores. */
  waitTasks?: boolean;
  /** The task duration in ms. */
  workload?: string;
  tasks?: number;
  /** The driver's cells: rank counts, task lengths (ms), tasks per rank, engines (defaults: see driver). */
  p?: number[];
  taskMs?: number[];
  tasksPerRank?: number[];
  engines?: Engine[];
  /** Re-analyse an earlier run's --json instead of measuring. */
  analyse?: string;
}

const here = dirname(fileURLToPath(import.meta.url));
const MAIN = join(here, 'main.js');
const ROOT = resolve(here, '..', '..', '..');
const PY = '/usr/bin/python3';

/** Memory available for new processes, MiB (Linux MemAvailable; elsewhere free memory). */
function availableMiB(): number {
  try {
    const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch { /* not Linux */ }
  return freemem() / 2 ** 20;
}

// ---- rank mode -------------------------------------------------------------------------------------

/** The compat API this benchmark drives (typed here: the co-ordinator lives in compat/, above src/). */
interface CompatApi {
  initialize(o: { nthreads?: number }): Promise<unknown>;
  Client: new () => {
    schedulerInfo(): Promise<{ n_workers: number }>;
    map(fn: (...a: never[]) => unknown, ...args: unknown[]): unknown[];
    gather(fs: unknown[]): Promise<unknown[]>;
    close(): Promise<void>;
  };
}

/** Wall-clock milliseconds (comparable across the ranks of one node, and across nodes to NTP's skew). */
const wallMs = (): number => performance.timeOrigin + performance.now();
const cpuMsNow = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

/** A synthetic job's state, made before the timed round: its bookkeeping is the benchmark's, not the engine's. */
interface SyntheticJob { tasks: number; all: number[]; done: Float64Array; left: number }

const syntheticJob = (tasks: number): SyntheticJob => ({ tasks, all: Array.from({ length: tasks }, (_, i) => i), done: new Float64Array(tasks).fill(-1), left: tasks });

/** Every task's result arrived, and is its own id. */
function syntheticOk(job: SyntheticJob): boolean {
  for (let i = 0; i < job.tasks; i++) if (job.done[i] !== i) return false;
  return true;
}

/**
 * One `runRounds` over synthetic tasks, as the search runs its fits: each rank's payload is its
 * share's results only (which units a rank had follows from the share, as in the search).
 */
async function syntheticRounds(comm: Awaited<ReturnType<typeof import('../index.js').init>>, job: SyntheticJob, ms: number, task: (id: number, ms: number) => number, marks: { workCpuMs?: number } = {}): Promise<void> {
  const { runRounds, livenessMs } = await import('../search/resilient-rounds.js');
  const { all, done } = job;
  // Without failures the rounds see all tasks pending, then none: no pass over the tasks (run once per
  // process, such loops stay unoptimised and cost a rank more CPU than the agreement they bracket).
  const pending = (): number[] => {
    if (job.left === job.tasks) return all;
    if (job.left === 0) return [];
    const out: number[] = [];
    for (let i = 0; i < job.tasks; i++) if (done[i]! < 0) out.push(i);
    return out;
  };
  const share = (units: readonly number[], parts: number, i: number): number[] => { const b = block(units.length, parts, i); return units.slice(b.start, b.end); };
  let alive = Array.from({ length: comm.size }, (_, r) => r);
  let before: number[] = [];
  const liveness = livenessMs();
  const yieldMs = liveness / 4;
  await runRounds<Float64Array>({ rank: comm.rank, alive, mesh: comm.mesh, livenessMs: liveness, timeoutMs: 600_000 }, {
    what: 'tasks',
    pending: () => (before = pending()),
    share,
    run: async (mine) => {
      const out = new Float64Array(mine.length);
      let lastYield = performance.now();
      for (let k = 0; k < mine.length; k++) {
        out[k] = task(mine[k]!, ms);
        // Keep the mesh (liveness pings) served during a long share: a turn of the event loop well
        // within the liveness deadline, not more often — each turn costs a rank CPU that would be
        // charged to the engine (the search's fits run in a thread and never hold the loop).
        if (performance.now() - lastYield > yieldMs) { await new Promise((r) => setImmediate(r)); lastYield = performance.now(); }
      }
      marks.workCpuMs = cpuMsNow();
      return out;
    },
    absorb: (payloads, _round, lost) => {
      for (const [r, pl] of payloads) {
        const b = block(before.length, alive.length, alive.indexOf(r));
        if (before === all) done.set(pl, b.start); // round 0: a rank's units are its block of all
        else for (let k = 0; k < pl.length; k++) done[before[b.start + k]!] = pl[k]!;
        job.left -= pl.length;
      }
      alive = alive.filter((r) => !lost.includes(r));
    },
  });
}

async function flatRank(o: BenchScalingOptions): Promise<void> {
  const { init } = await import('../index.js');
  const comm = await init({ timeoutMs: 600_000 });
  try {
    const ms = Number(o.workload);
    const task = o.waitTasks ? wait : spin;
    const job = syntheticJob(o.tasks!);
    // Warm, as `bench collectives` is: one untimed round of a task per rank (connections, code).
    await syntheticRounds(comm, syntheticJob(comm.size), 0, task);
    // A common start, as Dask's cell starts once every worker is idle and connected: rank 0 names an
    // instant past the time a broadcast takes to reach everyone; a rank it reaches late starts late,
    // and that counts.
    const b0 = wallMs();
    await comm.barrier();
    const margin = Math.max(20, 4 * (wallMs() - b0));
    const t0 = await comm.bcast(comm.rank === 0 ? wallMs() + margin : 0, 0);
    const early = t0 - wallMs();
    if (early > 0) await new Promise((r) => setTimeout(r, early));
    const before = { ...comm.mesh.traffic };
    const cpu0 = cpuMsNow();
    const marks: { workCpuMs?: number } = {};
    await syntheticRounds(comm, job, ms, task, marks);
    const end = wallMs();
    const cpu = cpuMsNow() - cpu0;
    const ok = syntheticOk(job);
    const t = { ...comm.mesh.traffic };
    // The statistics' exchange waits until every rank is done: on an oversubscribed machine it would
    // otherwise take the cores from ranks still finishing the timed work.
    await comm.barrier();
    // Received frames and bytes: exact on both data planes (a direct-plane send does not know its encoded size).
    const mine = { seconds: (end - t0) / 1000, cpu, workCpu: (marks.workCpuMs ?? cpu0) - cpu0, sent: t.received - before.received, bytes: t.receivedBytes - before.receivedBytes, ok };
    const all = await comm.allgather(mine);
    if (comm.rank === 0) {
      const r: CellResult = {
        engine: 'flat', workload: o.workload!, p: comm.size, tasks: job.tasks, makespan: Math.max(...all.map((a) => a.seconds)),
        cpuMsPerRank: all.reduce((s, a) => s + a.cpu, 0) / comm.size,
        workCpuMsPerRank: all.reduce((s, a) => s + a.workCpu, 0) / comm.size,
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
  const ms = Number(o.workload);
  const task = o.waitTasks ? wait : spin;
  // Timed once every worker is connected and warm, as Dask's cell (wait_for_workers, a warm-up map).
  while ((await client.schedulerInfo()).n_workers < p - 2) await new Promise((r) => setTimeout(r, 50));
  const warm = Array.from({ length: p - 2 }, (_, i) => i);
  await client.gather(client.map(task, warm, warm.map(() => 0), { pure: false }));
  const ids = Array.from({ length: o.tasks! }, (_, i) => i);
  const job = process.env.COMMUNE_JOB_ID;
  const cpu0 = job ? jobCpuMs(job) : undefined;
  const t0 = performance.now();
  const out = await client.gather(client.map(task, ids, ids.map(() => ms), { pure: false }));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpu0 && job ? cpuBetween(cpu0, jobCpuMs(job)!) : undefined;
  const r: CellResult = {
    engine: 'coordinator', workload: o.workload!, p, tasks: ids.length, makespan: seconds,
    ...(cpu?.size === p ? { cpuMsPerRank: [...cpu.values()].reduce((a, b) => a + b, 0) / p, schedulerCpuMs: cpu.get(0)! } : {}),
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

/** α and β from `commune bench collectives -n 2`, warm as it measures (and the Open MPI anchor of the same run). */
function collectivesAnchor(tmp: string): { alpha: number; beta: number; mpiUs?: number; communeUs: number; note: string } {
  const json = join(tmp, 'coll.json');
  const r = spawnSync(process.execPath, [MAIN, 'bench', 'collectives', '-n', '2', '--sizes', '8,1MiB', '--reps', '1', '--json', json], { encoding: 'utf8' });
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

async function driver(o: BenchScalingOptions): Promise<void> {
  const nproc = availableParallelism();
  const ps = o.p ?? (o.quick ? [2, 4] : [2, 8, 32, 64, 128, 256]);
  const durations = o.taskMs ?? (o.quick ? [1, 10] : [1, 10, 100]);
  const perRank = o.tasksPerRank ?? (o.quick ? [10] : [10, 100]);
  const engines = o.engines ?? (o.quick ? ['flat', 'coordinator', 'floor'] : ['flat', 'coordinator', 'dask', 'floor']);
  const tmp = mkdtempSync(join(tmpdir(), 'commune-scaling-'));
  const cells: CellResult[] = [];
  const failures: string[] = [];
  const skipped: string[] = [];
  let daskStop: { p: number; why: string } | undefined;
  let cal: ReturnType<typeof collectivesAnchor>;
  let dask: ReturnType<typeof daskAnchor>;
  try {
    process.stderr.write('scaling: calibrating α, β (commune bench collectives -n 2, with the Open MPI anchor)…\n');
    cal = collectivesAnchor(tmp);
    process.stderr.write('scaling: Dask per-task anchor…\n');
    dask = daskAnchor(o.quick ? 500 : 5000);
    const workloads = durations.map(String);
    // A missing anchor is skipped with the reason, not failed.
    const noDask = !engines.includes('dask') ? undefined : !existsSync(PY) ? `${PY} not found`
      : spawnSync(PY, ['-c', 'import distributed'], { encoding: 'utf8' }).status !== 0 ? 'python3-distributed not installed (apt-get install -y python3-distributed)' : undefined;
    if (noDask) { skipped.push(`dask cells skipped: ${noDask}`); process.stderr.write(`scaling: ${skipped.at(-1)}\n`); }
    // Dask runs as far as it starts here: its first failure, or a p whose workers would not fit in
    // memory (from the largest cell's measured worker RSS), ends its cells, with the reason.
    let daskRssMiB: number | undefined;
    for (const workload of workloads) {
      for (const engine of engines) {
        if (engine === 'dask' && noDask) continue;
        for (const p of ps) {
          if (engine === 'coordinator' && p < 3) continue; // dask-mpi needs a scheduler, a client and a worker
          if (engine === 'dask' && daskStop !== undefined && p >= daskStop.p) continue;
          if (engine === 'dask' && daskRssMiB !== undefined && p * daskRssMiB > availableMiB()) {
            daskStop = { p, why: `${p} workers of ${daskRssMiB.toFixed(0)} MiB each (measured) need ${((p * daskRssMiB) / 1024).toFixed(1)} GiB; this machine has ${(availableMiB() / 1024).toFixed(1)} GiB available` };
            process.stderr.write(`scaling: Dask stops at p=${p}: ${daskStop.why}\n`);
            continue;
          }
          for (const tasks of perRank.map((k) => k * p)) {
            // More ranks than cores: tasks that sleep, so the cell measures the engine, not core sharing.
            const waitTasks = p > nproc;
            const what = `${engine} p=${p} ${tasks} × ${workload} ms${waitTasks ? ' (sleeping)' : ''}`;
            process.stderr.write(`scaling: ${what}…\n`);
            const r = engine === 'dask' ? runDaskCell(ROOT, PY, p, workload, tasks, waitTasks)
              : engine === 'floor' ? await runFloorCell(ROOT, p, workload, tasks, waitTasks)
                : await runCell(engine, p, workload, tasks, waitTasks);
            if (typeof r === 'string' && engine === 'dask') {
              // Dask's limit on this machine is a finding, not a failure of the benchmark.
              daskStop = { p, why: r };
              process.stderr.write(`scaling: Dask stops at p=${p}: ${r}\n`);
              break;
            }
            if (typeof r === 'string') failures.push(`${what}: ${r}`);
            else {
              if (r.workerRssMiB !== undefined) daskRssMiB = Math.max(daskRssMiB ?? 0, r.workerRssMiB);
              cells.push({ ...r, kind: waitTasks ? 'wait' : 'spin' });
            }
          }
        }
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }

  const anchors: Anchors = { alpha: cal.alpha, beta: cal.beta, communeUs: cal.communeUs, mpiUs: cal.mpiUs, mpiNote: cal.note, daskPerTaskMs: dask.perTaskMs, daskNote: dask.note };
  const measured: Measured = {
    machine: { cpu: cpus()[0]?.model?.trim() ?? 'unknown', nproc, node: process.version, date: new Date().toISOString() },
    anchors, cells, failures, skipped, daskStop, quick: o.quick,
  };
  report(measured, o);
  // A failed cell is a failed benchmark: its row is missing from every table above.
  if (failures.length > 0) throw new CommuneError(`bench scaling: ${failures.length} of ${failures.length + cells.length} cells failed — ${failures.join('; ')}`);
}

/** Prints the tables and writes --svg and --json. */
function report(measured: Measured, o: BenchScalingOptions): void {
  const a = analyse(measured);
  process.stdout.write(a.text);
  if (o.svg) { writeFileSync(o.svg, a.svg); process.stderr.write(`wrote ${o.svg}\n`); }
  if (o.json) { writeFileSync(o.json, JSON.stringify(a.json, null, 2) + '\n'); process.stderr.write(`wrote ${o.json}\n`); }
}

/** `--analyse FILE`: the tables, plot and JSON again from an earlier run's --json, without measuring. */
function reanalyse(file: string, o: BenchScalingOptions): void {
  let j: Measured & { daskStop?: Measured['daskStop'] | null };
  try {
    j = JSON.parse(readFileSync(file, 'utf8')) as typeof j;
  } catch (e) {
    throw new UsageError(`--analyse ${file}: cannot read it as the JSON of \`commune bench scaling --json\` (${(e as Error).message})`);
  }
  if (!Array.isArray(j.cells) || typeof j.machine?.nproc !== 'number' || typeof j.anchors?.alpha !== 'number') {
    throw new UsageError(`--analyse ${file}: not the JSON of \`commune bench scaling --json\` (no cells, machine or anchors)`);
  }
  report({ ...j, daskStop: j.daskStop ?? undefined, failures: j.failures ?? [], skipped: j.skipped ?? [] }, o);
}

/** The action of `commune bench scaling`. */
export async function benchScaling(o: BenchScalingOptions): Promise<void> {
  if (o.analyse) { reanalyse(o.analyse, o); return; }
  if (!o.rankMode) { await driver(o); return; }
  if (o.engine === 'coordinator') await coordinatorRank(o);
  else await flatRank(o);
}
