// Shared by the Slurm tests: is a cluster there (sinfo shows idle nodes), and running srun/sbatch as real
// child processes whose jobs are cancelled afterwards. The cluster comes from `slurm/local-cluster.sh up`.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
/** The three nodes `slurm/local-cluster.sh` configures. */
export const NODES = 3;

/** Every job a test run submits carries this name, so leftovers can be cancelled by name. */
export const JOB_NAME = `commune-test-${process.pid}`;

let verdict: { why: string | undefined } | undefined;

/** Why the Slurm tests cannot run here, or undefined when at least NODES nodes are idle (asked once per run). */
export function clusterUnavailable(): string | undefined {
  verdict ??= { why: probeCluster() };
  return verdict.why;
}

function probeCluster(): string | undefined {
  // .ci/run says why the cluster could not be brought up (e.g. Slurm could not be installed).
  if (process.env.COMMUNE_SLURM_UNAVAILABLE) return process.env.COMMUNE_SLURM_UNAVAILABLE;
  if (spawnSync('srun', ['--version'], { encoding: 'utf8' }).error) return 'srun not installed (run slurm/local-cluster.sh up as root)';
  // A job of an earlier test may still be finishing: give the nodes up to a minute to become idle.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const s = spawnSync('sinfo', ['-h', '-N', '-o', '%N %T'], { encoding: 'utf8', timeout: 20_000 });
    if (s.status !== 0) return `no Slurm controller answers (sinfo: ${(s.stderr || s.stdout || String(s.error)).trim()}); run slurm/local-cluster.sh up`;
    const idle = new Set(s.stdout.split('\n').map((l) => l.trim().split(/\s+/)).filter(([, st]) => st === 'idle').map(([n]) => n));
    if (idle.size >= NODES) return undefined;
    if (Date.now() > deadline) return `needs ${NODES} idle Slurm nodes, sinfo shows: ${s.stdout.trim().replace(/\n/g, ', ') || 'none'} after waiting 60 s; run slurm/local-cluster.sh up`;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000); // polling an outside system, once a second
  }
}

/** The test's environment without launcher variables (the tests may themselves run inside a Slurm job). */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(COMMUNE_|SLURM_|SBATCH_|SRUN_|OMPI_|PMI_)/.test(k)));
  return { ...clean, ...extra };
}

export interface Run { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number }

/** A running srun/sbatch: its output so far, a way to wait for a line, and its end. */
export class Job {
  stdout = '';
  stderr = '';
  readonly done: Promise<Run>;
  private readonly child: ChildProcess;
  private readonly waiters: Array<() => void> = [];
  private closed = false;
  private readonly lineHandlers: Array<{ stream: 'stdout' | 'stderr'; cb: (line: string) => void; rest: string }> = [];

  constructor(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
    const t0 = performance.now();
    this.child = spawn(cmd, args, { cwd: opts.cwd ?? ROOT, env: opts.env ?? cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d) => { this.stdout += d; this.feed('stdout', String(d)); this.poke(); });
    this.child.stderr!.on('data', (d) => { this.stderr += d; this.feed('stderr', String(d)); this.poke(); });
    this.done = new Promise((resolve) => {
      this.child.on('error', (e) => { this.stderr += `spawn ${cmd}: ${e.message}\n`; });
      this.child.on('close', (code, signal) => {
        this.closed = true;
        this.poke();
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr, ms: performance.now() - t0 });
      });
    });
    running.add(this);
    void this.done.then(() => running.delete(this));
  }

  /** Calls `cb` with every complete line of `stream` from now on, as it arrives. */
  onLine(stream: 'stdout' | 'stderr', cb: (line: string) => void): void {
    this.lineHandlers.push({ stream, cb, rest: '' });
  }

  private feed(stream: 'stdout' | 'stderr', chunk: string): void {
    for (const h of this.lineHandlers) {
      if (h.stream !== stream) continue;
      const parts = (h.rest + chunk).split('\n');
      h.rest = parts.pop()!;
      for (const l of parts) h.cb(l);
    }
  }

  private poke(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves with the first match of `re` in that stream's output so far or to come; rejects when the process ends without one. */
  waitFor(re: RegExp, stream: 'stdout' | 'stderr'): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const m = re.exec(this[stream]);
        if (m) return resolve(m);
        if (this.closed) {
          return reject(new Error(`ended without ${re} on ${stream}; stdout:\n${this.stdout}\nstderr:\n${this.stderr}`));
        }
        this.waiters.push(check);
      };
      check();
    });
  }

  kill(): void {
    if (!this.closed) this.child.kill('SIGKILL');
  }
}

const running = new Set<Job>();

/** `srun` with the test job name, from the repository root. */
export function srun(args: string[], env: NodeJS.ProcessEnv = {}): Job {
  return new Job('srun', [`--job-name=${JOB_NAME}`, ...args], { env: cleanEnv(env) });
}

/** afterEach: kill what is still running and cancel this run's jobs still known to Slurm. */
export async function cleanUp(): Promise<void> {
  for (const j of running) j.kill();
  spawnSync('scancel', ['--name', JOB_NAME], { timeout: 20_000 });
  await Promise.all([...running].map((j) => j.done));
}

/** A gridsearch --json without what legitimately differs between runs: rank count, wall and fit/score times. */
export function comparableResults(path: string): unknown {
  const j = JSON.parse(readFileSync(path, 'utf8')) as { mode: string; scorers: Record<string, { cv_results: Record<string, unknown> }> };
  assert.equal(j.mode, 'flat');
  for (const s of Object.values(j.scorers)) for (const k of Object.keys(s.cv_results)) if (k.endsWith('_time')) delete s.cv_results[k];
  return j.scorers;
}

/**
 * What every Slurm suite sets up: skips (printing why) when no cluster runs, a scratch directory
 * (`grid.json` written into it when a grid is given), and cleaning up after each test and the suite.
 */
export function clusterSuite(prefix: string, grid?: unknown): { dir: string } {
  const scratch = { dir: '' };
  before(function () {
    const why = clusterUnavailable();
    if (why) { console.log(`      skipped: ${why}`); this.skip(); } // skipped: reason printed
    scratch.dir = mkdtempSync(join(tmpdir(), prefix));
    if (grid !== undefined) writeFileSync(join(scratch.dir, 'grid.json'), JSON.stringify(grid));
  });
  afterEach(cleanUp);
  after(() => { if (scratch.dir) rmSync(scratch.dir, { recursive: true, force: true }); });
  return scratch;
}
