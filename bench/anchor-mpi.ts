// The Open MPI anchor of `commune bench collectives`: detects Open MPI's mpirun and an mpi4py the
// Debian interpreter can import, then runs bench/osu_mpi4py.py under `mpirun -n P --mca btl tcp,self`
// (TCP loopback, no shared memory) with the same collectives, sizes and iteration counts as commune's
// run. When something is missing or the run fails, the result says why: no figure is ever invented.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AnchorRow, BenchCollective } from './collectives.js';

export interface PlanEntry { collective: BenchCollective; bytes: number; iterations: number; warmup: number }

export type AnchorResult =
  | { status: 'ok'; rows: AnchorRow[]; command: string[]; mpirun: string; library: string; mpi4py: string; python: string; seconds: number }
  | { status: 'skipped'; reason: string };

/** The anchor script, from dist/bench/ or bench/ alike (tsc does not copy .py files). */
const SCRIPT = [new URL('../../bench/osu_mpi4py.py', import.meta.url), new URL('./osu_mpi4py.py', import.meta.url)]
  .map((u) => fileURLToPath(u)).find((p) => existsSync(p));

/** The interpreter that sees Debian's python3-mpi4py: COMMUNE_BENCH_PYTHON, else /usr/bin/python3, else python3. */
function pythonPath(): string {
  return process.env.COMMUNE_BENCH_PYTHON || (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
}

export type Detection = { ok: true; mpirun: string; python: string; mpi4py: string } | { ok: false; reason: string };

/** Is Open MPI's mpirun on PATH and can the interpreter import mpi4py? */
export function detectMpi(): Detection {
  const v = spawnSync('mpirun', ['--version'], { encoding: 'utf8', timeout: 20_000 });
  if (v.error) {
    const code = (v.error as NodeJS.ErrnoException).code;
    return { ok: false, reason: code === 'ENOENT' ? 'mpirun not found on PATH (Debian: apt-get install openmpi-bin)' : `mpirun --version failed: ${v.error.message}` };
  }
  const first = `${v.stdout}${v.stderr}`.trim().split('\n')[0] ?? '';
  if (!/Open MPI/i.test(first)) return { ok: false, reason: `mpirun on PATH is not Open MPI ('${first || `exit code ${v.status}`}')` };
  const python = pythonPath();
  const m = spawnSync(python, ['-c', 'import mpi4py; print(mpi4py.__version__)'], { encoding: 'utf8', timeout: 30_000 });
  if (m.error) return { ok: false, reason: `cannot run ${python}: ${m.error.message}` };
  if (m.status !== 0) return { ok: false, reason: `mpi4py is not importable by ${python} (Debian: apt-get install python3-mpi4py)` };
  if (!SCRIPT) return { ok: false, reason: 'bench/osu_mpi4py.py not found next to the build' };
  return { ok: true, mpirun: first, python, mpi4py: m.stdout.trim() };
}

/** Runs the anchor on `ranks` processes over TCP loopback; resolves (never rejects) with its figures or why it was skipped. */
export async function runMpiAnchor(ranks: number, plan: PlanEntry[], timeoutMs = 600_000): Promise<AnchorResult> {
  const found = detectMpi();
  if (!found.ok) return { status: 'skipped', reason: found.reason };
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const command = [
    'mpirun', ...(asRoot ? ['--allow-run-as-root'] : []), '--oversubscribe',
    '--mca', 'btl', 'tcp,self', '--mca', 'btl_tcp_if_include', 'lo',
    '-n', String(ranks), found.python, SCRIPT!, '--plan', JSON.stringify(plan),
  ];
  const t0 = performance.now();
  const child = spawn(command[0], command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d; });
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; child.kill('SIGTERM'); }, timeoutMs);
  const code = await new Promise<number | null>((resolve) => {
    child.once('error', (e) => { err += e.message; resolve(127); });
    child.once('close', (c) => resolve(c));
  });
  clearTimeout(timer);
  const seconds = (performance.now() - t0) / 1000;
  const lastErr = err.trim().split('\n').filter(Boolean).slice(-3).join(' | ');
  if (timedOut) return { status: 'skipped', reason: `mpirun did not finish within ${timeoutMs / 1000} s` };
  if (code !== 0) return { status: 'skipped', reason: `mpirun exited with code ${code}${lastErr ? `: ${lastErr}` : ''}` };
  const line = out.split('\n').map((l) => l.trim()).find((l) => l.startsWith('{'));
  if (!line) return { status: 'skipped', reason: `the anchor printed no JSON${lastErr ? ` (stderr: ${lastErr})` : ''}` };
  let parsed: { p: number; mpiLibrary: string; mpi4py: string; python: string; rows: AnchorRow[] };
  try {
    parsed = JSON.parse(line) as typeof parsed;
  } catch (e) {
    return { status: 'skipped', reason: `the anchor's output is not JSON: ${(e as Error).message}` };
  }
  if (parsed.p !== ranks || !Array.isArray(parsed.rows)) return { status: 'skipped', reason: `the anchor ran on ${parsed.p} ranks, not ${ranks}` };
  return { status: 'ok', rows: parsed.rows, command, mpirun: found.mpirun, library: parsed.mpiLibrary, mpi4py: parsed.mpi4py, python: `${found.python} (${parsed.python})`, seconds };
}
