// `commune gridsearch --mode coordinator` and examples/dasktest.ts as real processes: the same
// results as --mode flat; the dask-mpi-shaped script under `commune launch -n 4` and under Slurm's
// `srun --ntasks=$((SLURM_NTASKS+2))`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAIN } from './support.js';

const SEED = fileURLToPath(new URL('../../examples/digits-gridsearch.js', import.meta.url));
const DASKTEST = fileURLToPath(new URL('../../examples/dasktest.js', import.meta.url));

function run(cmd: string, args: string[], timeout = 150_000): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The --json results without what differs between runs (times, mode, rank count). */
function comparable(path: string): unknown {
  const j = JSON.parse(readFileSync(path, 'utf8')) as { scorers: Record<string, { cv_results: Record<string, unknown> }> };
  for (const s of Object.values(j.scorers)) for (const k of Object.keys(s.cv_results)) if (k.endsWith('_time')) delete s.cv_results[k];
  return j.scorers;
}

describe('compat: gridsearch --mode coordinator and examples/dasktest (processes)', function () {
  this.timeout(200_000);
  let dir = '';
  before(() => { dir = mkdtempSync(join(tmpdir(), 'commune-compat-cli-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('--mode coordinator prints the seed text and gives the same results as --mode flat', function () {
    const seed = run(process.execPath, [SEED]).stdout;
    const c = run(process.execPath, [MAIN, 'gridsearch', '--mode', 'coordinator', '--ranks', '4', '--json', join(dir, 'c.json')]);
    assert.equal(c.code, 0, c.stderr);
    const m = /^(.*)Time taken: (\d+\.\d+)\n$/s.exec(c.stdout);
    assert.ok(m, c.stdout.slice(-300));
    assert.equal(m[1], seed);
    const f = run(process.execPath, [MAIN, 'gridsearch', '--ranks', '2', '--quiet', '--json', join(dir, 'f.json')]);
    assert.equal(f.code, 0, f.stderr);
    assert.deepStrictEqual(comparable(join(dir, 'c.json')), comparable(join(dir, 'f.json')));
    const j = JSON.parse(readFileSync(join(dir, 'c.json'), 'utf8'));
    assert.equal(j.mode, 'coordinator');
    assert.equal(j.ranks, 4);
    assert.equal(j.fits_run, 60);
  });

  it('--mode coordinator with fewer than 3 ranks: one message, exit 2', function () {
    const r = run(process.execPath, [MAIN, 'gridsearch', '--mode', 'coordinator', '--ranks', '2']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--ranks 2: --mode coordinator needs at least 3 ranks \(scheduler, client and one worker\)/);
    assert.equal(r.stdout, '');
  });

  function checkDasktest(out: string): void {
    // dask-ml's defaults: 3 folds, test-size-weighted means (scikit-learn's split scores, weighted).
    const sections = out.split('# Tuning hyper-parameters for ');
    assert.equal(sections.length, 3, out);
    assert.match(sections[1], /^precision\n\nBest parameters set found on development set:\n\n\{'C': 10, 'gamma': 0\.001, 'kernel': 'rbf'\}\n/);
    assert.match(sections[1], /^0\.983 \(\+\/-0\.015\) for \{'C': 1, 'gamma': 0\.001, 'kernel': 'rbf'\}$/m);
    assert.match(sections[2], /^recall\n/);
    assert.match(sections[2], /accuracy {27}0\.99 {7}899/);
    assert.match(out, /\nTime taken: \d+(\.\d+)?\n$/);
  }

  it('examples/dasktest.js under commune launch -n 4 (SLURM_CPUS_PER_TASK=1)', function () {
    const r = spawnSync(process.execPath, [MAIN, 'launch', '-n', '4', '--', process.execPath, DASKTEST], { encoding: 'utf8', timeout: 150_000, env: { ...process.env, SLURM_CPUS_PER_TASK: '1' } });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    assert.ok(lines.every((l) => l.startsWith('[1] ')), 'only the client rank prints');
    checkDasktest(r.stdout.split('\n').map((l) => l.replace(/^\[1\] ?/, '')).join('\n'));
  });

  // Under sbatch + srun --ntasks=$((SLURM_NTASKS+2)) (the seed's job shape): test/slurm/sbatch.test.ts runs
  // slurm/dask-compat.sbatch on the local Slurm cluster.
});
