// The job scripts in slurm/, submitted with `sbatch --wait` to the local three-node cluster: each finishes
// and leaves the seed's output in its --output file (<name>.out.<jobid>), logs in its --error file.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanEnv, clusterSuite, Job, JOB_NAME, ROOT, type Run } from './support.js';

const SEED_EXAMPLE = fileURLToPath(new URL('../../examples/digits-gridsearch.js', import.meta.url));
const DASKTEST = fileURLToPath(new URL('../../examples/dasktest.js', import.meta.url));

/** `sbatch --wait SCRIPT ARGS` from `cwd` (where the output files land), commune and node those of this test run. */
async function sbatchWait(cwd: string, script: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<{ run: Run; jobId: string; out: string; err: string }> {
  const run = await new Job('sbatch', ['--wait', `--job-name=${JOB_NAME}`, join(ROOT, 'slurm', script), ...args], { cwd, env: cleanEnv({ COMMUNE_DIR: ROOT, COMMUNE_NODE: process.execPath, ...env }) }).done;
  const m = /Submitted batch job (\d+)/.exec(run.stdout);
  assert.ok(m, `sbatch did not submit: ${run.stdout}${run.stderr}`);
  const stem = script.startsWith('flat') ? 'flat' : 'dasktest';
  const read = (kind: string): string => { const p = join(cwd, `${stem}.${kind}.${m[1]}`); return existsSync(p) ? readFileSync(p, 'utf8') : `(no ${p})`; };
  return { run, jobId: m[1]!, out: read('out'), err: read('err') };
}

/** The seed's text for one scorer, in shape: title, best parameters, a grid score line per candidate, the report. */
function assertSeedSections(out: string): void {
  for (const score of ['precision', 'recall']) {
    const start = out.indexOf(`# Tuning hyper-parameters for ${score}\n`);
    assert.ok(start >= 0, `no section for ${score} in:\n${out}`);
    const section = out.slice(start);
    assert.match(section, /^Best parameters set found on development set:\n\n\{'C': \d+, ('gamma': [\d.e-]+, )?'kernel': '(rbf|linear)'\}\n/m);
    const grid = section.slice(section.indexOf('Grid scores on development set:'), section.indexOf('Detailed classification report:'));
    assert.equal(grid.match(/^\d\.\d{3} \(\+\/-\d\.\d{3}\) for \{'C': \d+, ('gamma': [\d.e-]+, )?'kernel': '(rbf|linear)'\}$/gm)?.length, 12, grid);
    assert.match(section, /The scores are computed on the full evaluation set\.\n\n\s+precision\s+recall\s+f1-score\s+support\n/);
    assert.match(section, /^weighted avg\s+\d\.\d\d\s+\d\.\d\d\s+\d\.\d\d\s+899$/m);
  }
  assert.match(out, /^Time taken: .+$/m);
}

describe('slurm: the job scripts under sbatch --wait', function () {
  this.timeout(600_000);
  const scratch = clusterSuite('commune-sbatch-');

  it('slurm/flat.sbatch finishes with the seed\'s output in flat.out.<jobid>, its arguments passed to gridsearch', async function () {
    const seed = spawnSync(process.execPath, [SEED_EXAMPLE], { encoding: 'utf8', env: cleanEnv() });
    assert.equal(seed.status, 0, seed.stderr);
    const json = join(scratch.dir, 'flat.json');
    const { run, out, err } = await sbatchWait(scratch.dir, 'flat.sbatch', ['--json', json]);
    assert.equal(run.code, 0, `sbatch --wait exit ${run.code}\n${run.stderr}\nerror file:\n${err}`);
    // Exactly the single-process seed example's text, then the flat job's wall time.
    const m = /^(.*)Time taken: (\d+\.\d+)\n$/s.exec(out);
    assert.ok(m, `no final Time taken line in:\n${out.slice(-500)}`);
    assert.equal(m[1], seed.stdout);
    assertSeedSections(out);
    // Progress went to the error file (stderr), not into the results.
    assert.match(err, /gridsearch: 60\/60 fits \(100%\)/);
    // The argument after the script name reached commune gridsearch, run by the job's 6 tasks as one world.
    const j = JSON.parse(readFileSync(json, 'utf8')) as { ranks: number; scorers: Record<string, { best_params: unknown }> };
    assert.equal(j.ranks, 6);
    assert.deepEqual(j.scorers.precision_macro?.best_params, { C: 10, gamma: 0.001, kernel: 'rbf' });
    console.log(`      wall: sbatch --wait flat.sbatch ${(run.ms / 1000).toFixed(1)} s`);
  });

  it('slurm/flat.sbatch without a built commune stops at once with a clear message (exit 2)', async function () {
    const { run, out, err } = await sbatchWait(scratch.dir, 'flat.sbatch', [], { COMMUNE_DIR: scratch.dir });
    assert.equal(run.code, 2, `sbatch --wait exit ${run.code}\n${run.stderr}`);
    assert.equal(out, '');
    assert.equal(err.trim(), `flat.sbatch: ${join(scratch.dir, 'dist/src/cli/main.js')} not found; submit from the commune checkout after 'npm ci', or set COMMUNE_DIR`);
  });

  it('slurm/dask-compat.sbatch runs examples/dasktest and finishes with the seed\'s output', async function () {
    if (!existsSync(DASKTEST)) { console.log('      skipped: examples/dasktest not built yet (issue 6)'); this.skip(); } // skipped: reason printed
    const { run, out, err } = await sbatchWait(scratch.dir, 'dask-compat.sbatch');
    assert.equal(run.code, 0, `sbatch --wait exit ${run.code}\n${run.stderr}\nerror file:\n${err}`);
    assertSeedSections(out);
    console.log(`      wall: sbatch --wait dask-compat.sbatch ${(run.ms / 1000).toFixed(1)} s`);
  });
});
