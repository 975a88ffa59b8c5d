// `commune bench startup`: start-up at P processes, commune beside the floor, mpi4py, Open MPI's C and
// Dask, in one invocation, the sides alternating run by run (bench/startup.ts says what each runs and
// how it is measured). A missing anchor is skipped with the reason; a missed target is reported, not
// turned into a failing exit code.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SIDES, SIDE_LABEL, fitExponent, medianOf, parseReport, parseTime, plot, table, type Row, type Run, type Side } from '../../bench/startup.js';
import { detectMpi } from '../../bench/anchor-mpi.js';

export interface BenchStartupOptions {
  ranks: number[];
  reps: number;
  sides: Side[];
  /** Per run, s. */
  timeout: number;
  json?: string;
  svg?: string;
}

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
/** A file of bench/ next to the build (tsc does not copy .c and .py files). */
const benchFile = (name: string): string | undefined => [new URL(`../../../bench/${name}`, import.meta.url), new URL(`../../bench/${name}`, import.meta.url)]
  .map((u) => fileURLToPath(u)).find((p) => existsSync(p));
const RANK = fileURLToPath(new URL('../../bench/startup-rank.js', import.meta.url));
const TIME = '/usr/bin/time';
const python = (): string => process.env.COMMUNE_BENCH_PYTHON || (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const mpirun = (p: number): string[] => ['mpirun', ...(asRoot ? ['--allow-run-as-root'] : []), '--oversubscribe', '--mca', 'btl', 'self,tcp', '--mca', 'btl_tcp_if_include', 'lo', '-n', String(p)];

/** The command each side runs at P, or why it cannot run here. */
function commands(work: string): Record<Side, ((p: number) => string[]) | { skipped: string }> {
  const mpi = detectMpi();
  const c = benchFile('startup_mpi.c');
  let openmpi: ((p: number) => string[]) | { skipped: string } = { skipped: mpi.ok ? 'bench/startup_mpi.c not found' : mpi.reason };
  if (mpi.ok && c) {
    const exe = join(work, 'startup_mpi');
    const cc = spawnSync('mpicc', ['-O2', '-o', exe, c], { encoding: 'utf8' });
    openmpi = cc.error ? { skipped: 'mpicc not found (Debian: apt-get install libopenmpi-dev)' }
      : cc.status !== 0 ? { skipped: `mpicc failed: ${cc.stderr.trim().split('\n').slice(-1)[0]}` }
        : (p) => [...mpirun(p), exe];
  }
  const py4 = benchFile('startup_mpi4py.py');
  const daskScript = benchFile('startup_dask.py');
  const dask = spawnSync(python(), ['-c', 'import distributed'], { encoding: 'utf8' });
  return {
    commune: (p) => [process.execPath, MAIN, 'launch', '-n', String(p), '--', process.execPath, RANK],
    floor: (p) => [process.execPath, MAIN, 'launch', '-n', String(p), '--', process.execPath, '-e', '0'],
    mpi4py: mpi.ok && py4 ? (p) => [...mpirun(p), python(), py4] : { skipped: mpi.ok ? 'bench/startup_mpi4py.py not found' : mpi.reason },
    openmpi,
    dask: dask.status === 0 && daskScript ? (p) => [python(), daskScript, String(p)]
      : { skipped: `Dask's distributed is not importable by ${python()} (Debian: apt-get install python3-distributed)` },
  };
}

/** One run under GNU time; the report checked against P. */
function runOnce(cmd: string[], p: number, side: Side, work: string, timeoutS: number): Promise<Run> {
  const timeFile = join(work, 'time.txt');
  rmSync(timeFile, { force: true });
  const useTime = existsSync(TIME);
  const argv = useTime ? [TIME, '-f', '%e %U %S %M', '-o', timeFile, ...cmd] : cmd;
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, COMMUNE_LOG_LEVEL: process.env.COMMUNE_LOG_LEVEL ?? 'error' } });
    let out = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { err = (err + d).slice(-4000); });
    const timer = setTimeout(() => { child.kill('SIGKILL'); }, timeoutS * 1000);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const wall = (performance.now() - t0) / 1000;
      const times = useTime && existsSync(timeFile) ? parseTime(readFileSync(timeFile, 'utf8')) : undefined;
      const report = parseReport(out);
      const measured = { wallS: times?.wallS ?? wall, cpuS: times?.cpuS, peakRssMiB: times?.peakRssMiB };
      const last = err.trim().split('\n').filter((l) => !/^\s*(Command|[\d.]+ [\d.]+)/.test(l)).slice(-1)[0];
      if (signal === 'SIGKILL' && wall >= timeoutS) return resolve({ ok: false, ...measured, error: `no result within ${timeoutS} s` });
      // The floor reports nothing: exiting 0 is all it does.
      if (code !== 0 || (!report && side !== 'floor')) return resolve({ ok: false, ...measured, error: `exit ${signal ?? code}${last ? `: ${last.slice(0, 160)}` : ''}` });
      if (report && report.p !== p) return resolve({ ok: false, ...measured, error: `ran ${report.p} processes, not ${p}` });
      resolve({ ok: true, ...measured, slowestInitMs: report?.slowestInitMs, firstCollectiveMs: report?.firstCollectiveMs });
    });
  });
}

export async function benchStartup(o: BenchStartupOptions): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'commune-bench-startup-'));
  try {
    const cmds = commands(work);
    const nproc = availableParallelism();
    const rows: Row[] = [];
    for (const p of o.ranks) {
      for (const side of o.sides) {
        const c = cmds[side];
        rows.push({ side, p, runs: [], ...(typeof c === 'function' ? {} : { skipped: c.skipped }) });
      }
      for (let rep = 1; rep <= o.reps; rep++) {
        for (const row of rows.filter((r) => r.p === p && !r.skipped)) {
          const c = cmds[row.side] as (p: number) => string[];
          const run = await runOnce(c(p), p, row.side, work, o.timeout);
          row.runs.push(run);
          process.stderr.write(`bench startup: P = ${p}${p > nproc ? ' (oversubscribed)' : ''}, ${SIDE_LABEL[row.side]}, run ${rep}/${o.reps}: ${run.ok ? `${run.wallS?.toFixed(2)} s` : `failed (${run.error})`}\n`);
        }
      }
    }
    const communeCpu = o.ranks.flatMap((p) => { const c = medianOf(rows.find((r) => r.side === 'commune' && r.p === p), 'cpuS'); return c === undefined ? [] : [[p, c] as [number, number]]; });
    const k = fitExponent(communeCpu);
    const pLogP = fitExponent(communeCpu.map(([p]) => [p, p * Math.log2(Math.max(2, p))]));
    const targets = judge(rows, o.ranks);
    const machine = `${cpus()[0]?.model?.trim() ?? 'unknown cpu'}, ${nproc} cores; node ${process.version}; ${new Date().toISOString()}`;
    process.stdout.write(`machine: ${machine}\n\n${table(rows)}\n\n`);
    process.stdout.write(`commune's total start-up CPU grows like P^${k?.toFixed(2) ?? 'n/a'} over P = ${communeCpu.map(([p]) => p).join(', ')}` +
      (pLogP !== undefined ? ` (P·log P over the same P fits P^${pLogP.toFixed(2)})` : '') + '\n\n');
    process.stdout.write(`Targets (issue 17; this machine, every P > ${nproc} oversubscribed):\n${targets.map((t) => `  ${t.target}: ${t.met === undefined ? `not evaluated (${t.note})` : t.met ? `met (${t.note})` : `NOT met (${t.note})`}`).join('\n')}\n`);
    if (o.json) writeFileSync(o.json, JSON.stringify({ machine, rows, cpuExponent: k, pLogPExponent: pLogP, targets }, null, 2) + '\n');
    if (o.svg) writeFileSync(o.svg, plot(rows));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

interface Target { target: string; met?: boolean; note: string }

function judge(rows: readonly Row[], ranks: readonly number[]): Target[] {
  const wall = (side: Side, p: number): number | undefined => medianOf(rows.find((r) => r.side === side && r.p === p), 'wallS');
  const out: Target[] = [];
  const runs = rows.filter((r) => r.side === 'commune');
  const incomplete = runs.filter((r) => r.runs.some((x) => !x.ok));
  out.push({ target: `commune completes every run at P = ${ranks.join(', ')}`, met: runs.length > 0 && incomplete.length === 0,
    note: incomplete.length === 0 ? `${runs.reduce((s, r) => s + r.runs.length, 0)} runs` : `failed at P = ${incomplete.map((r) => r.p).join(', ')}` });
  const at = (p: number, limit: number, withMpi4py: boolean): void => {
    const c = wall('commune', p);
    const fl = wall('floor', p);
    const m = wall('mpi4py', p);
    if (!ranks.includes(p) || c === undefined || fl === undefined) { out.push({ target: `P = ${p}: wall ≤ ${limit}× the floor${withMpi4py ? ' and below mpi4py' : ''}`, note: `P = ${p} not measured` }); return; }
    const ok = c <= limit * fl && (!withMpi4py || m === undefined || c < m);
    out.push({ target: `P = ${p}: wall ≤ ${limit}× the floor${withMpi4py ? ' and below mpi4py' : ''}`, met: ok,
      note: `${c.toFixed(2)} s = ${(c / fl).toFixed(2)}× the floor's ${fl.toFixed(2)} s${withMpi4py ? (m === undefined ? '; mpi4py not measured' : `; mpi4py ${m.toFixed(2)} s`) : ''}` });
  };
  at(64, 2, true);
  at(256, 2, false);
  return out;
}
