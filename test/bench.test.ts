import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { medianRows } from '../src/cli/bench.js';

// `commune bench collectives --reps R`: each side's rows are its median run, per collective and size.

const row = (collective: string, bytes: number, avgUs: number, run: number) => ({ collective, bytes, avgUs, run });

describe('bench collectives: median of alternating runs', () => {
  it('takes, per row, the run with the median Avg (each row on its own)', () => {
    const runs = [
      [row('allreduce', 8, 30, 1), row('allreduce', 1024, 90, 1), row('barrier', 0, 25, 1)],
      [row('allreduce', 8, 55, 2), row('allreduce', 1024, 70, 2), row('barrier', 0, 20, 2)],
      [row('allreduce', 8, 31, 3), row('allreduce', 1024, 80, 3), row('barrier', 0, 90, 3)],
    ];
    assert.deepEqual(medianRows(runs).map((r) => [r.collective, r.bytes, r.avgUs, r.run]), [
      ['allreduce', 8, 31, 3], ['allreduce', 1024, 80, 3], ['barrier', 0, 25, 1],
    ]);
  });

  it('one run is itself; an even count takes the lower middle; no runs, no rows', () => {
    const one = [[row('bcast', 8, 12, 1)]];
    assert.deepEqual(medianRows(one), one[0]);
    const two = [[row('bcast', 8, 12, 1)], [row('bcast', 8, 10, 2)]];
    assert.equal(medianRows(two)[0].run, 2);
    assert.deepEqual(medianRows([]), []);
  });
});

// Issue 19: every co-ordinator cell failed from the bundled CLI (its `spin` lived in no module a worker
// could import) while the command still exited 0. Run as a user runs it: the built CLI, bundle and all.
describe('bench scaling --quick through the built CLI', function () {
  this.timeout(300_000);
  it('every cell of the engines and the floor completes, the command exits 0 only then, and --analyse prints the same tables from its --json', () => {
    const main = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
    assert.ok(existsSync(fileURLToPath(new URL('../src/cli/commands.bundle.cjs', import.meta.url))), 'the CLI is bundled (npm run build)');
    const dir = mkdtempSync(join(tmpdir(), 'commune-bench-'));
    try {
      const json = join(dir, 'scaling.json');
      const r = spawnSync(process.execPath, [main, 'bench', 'scaling', '--quick', '--json', json], { encoding: 'utf8', timeout: 280_000 });
      assert.equal(r.status, 0, r.stderr.slice(-3000));
      const out = JSON.parse(readFileSync(json, 'utf8')) as {
        cells: Array<{ engine: string; ok: boolean; modelSeconds: number | null; p: number; kind?: string; role: string }>; failures: string[];
        projections: Array<{ p: number; flat: number | null; coordinator: number | null }>;
        calibration: { alpha: number; agreeCpu: number }; validation: { validatedCells: number };
      };
      assert.deepEqual(out.failures, []);
      // --json carries what the tables print: each cell's model time, the calibration, the projections.
      assert.ok(out.cells.filter((c) => c.engine !== 'floor').every((c) => typeof c.modelSeconds === 'number'), JSON.stringify(out.cells));
      assert.ok(out.projections.some((x) => x.p === 4096 && typeof x.flat === 'number' && typeof x.coordinator === 'number'), JSON.stringify(out.projections.slice(0, 3)));
      assert.deepEqual([...new Set(out.cells.map((c) => c.engine))].sort(), ['coordinator', 'flat', 'floor']);
      assert.ok(out.cells.every((c) => c.ok), 'every task returned its id');
      assert.ok(out.cells.every((c) => c.role === 'calibration') && out.validation.validatedCells === 0, 'the quick cells (p ≤ 8) all calibrate');
      // More ranks than cores: the tasks sleep instead of spinning (the cell measures the engine).
      assert.ok(out.cells.every((c) => c.kind === (c.p > availableParallelism() ? 'wait' : 'spin')), JSON.stringify(out.cells.map((c) => [c.engine, c.p, c.kind])));
      // The same tables again from the JSON alone.
      const again = spawnSync(process.execPath, [main, 'bench', 'scaling', '--analyse', json], { encoding: 'utf8' });
      assert.equal(again.status, 0, again.stderr);
      const table = (text: string): string => text.split('\n').filter((l) => l.startsWith('|') || l.startsWith('calibration')).join('\n');
      assert.equal(table(again.stdout), table(r.stdout));
      const bad = spawnSync(process.execPath, [main, 'bench', 'scaling', '--analyse', main], { encoding: 'utf8' });
      assert.equal(bad.status, 2, bad.stderr);
      assert.match(bad.stderr, /--analyse .*main\.js: cannot read it as the JSON of `commune bench scaling --json`/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--p/--task-ms/--tasks-per-rank/--engines pick the cells; Dask\'s cell runs beside the flat engine\'s (or is skipped, saying why)', () => {
    const main = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
    const dir = mkdtempSync(join(tmpdir(), 'commune-bench-'));
    try {
      const json = join(dir, 'cells.json');
      const r = spawnSync(process.execPath, [main, 'bench', 'scaling', '--p', '2', '--task-ms', '10', '--tasks-per-rank', '3', '--engines', 'flat,dask', '--json', json],
        { encoding: 'utf8', timeout: 280_000 });
      assert.equal(r.status, 0, r.stderr.slice(-3000));
      const out = JSON.parse(readFileSync(json, 'utf8')) as { cells: Array<{ engine: string; p: number; tasks: number; ok: boolean; cpuMsPerRank?: number; schedulerCpuMs?: number; idleCoresPerWorker?: number }>; skipped: string[]; calibration: { daskUpkeep?: number } };
      const engines = out.skipped.some((x) => x.startsWith('dask cells skipped')) ? ['flat'] : ['dask', 'flat'];
      if (engines.length === 1) console.log(`      (Dask's cell: ${out.skipped.join('; ')})`);
      assert.deepEqual(out.cells.map((c) => [c.engine, c.p, c.tasks, c.ok]).sort(), engines.map((e) => [e, 2, 6, true]));
      const dask = out.cells.find((c) => c.engine === 'dask');
      if (dask) {
        // What the model takes from Dask's cells: its CPU by role and its idle cluster's upkeep.
        // (a few tasks may cost less than the 10 ms tick of a process's CPU time; two idle seconds do not)
        for (const k of ['cpuMsPerRank', 'schedulerCpuMs'] as const) assert.ok(typeof dask[k] === 'number' && dask[k]! >= 0, `Dask cell ${k}: ${dask[k]}`);
        assert.ok(typeof dask.idleCoresPerWorker === 'number' && dask.idleCoresPerWorker > 0, `Dask cell idleCoresPerWorker: ${dask.idleCoresPerWorker}`);
        assert.equal(out.calibration.daskUpkeep, dask.idleCoresPerWorker);
      }
      for (const [flag, value, message] of [['--engines', 'flat,mpi', /--engines: 'mpi' is not an engine/], ['--p', '2,0', /--p: '0' is not a positive whole number/]] as Array<[string, string, RegExp]>) {
        const bad = spawnSync(process.execPath, [main, 'bench', 'scaling', flag, value], { encoding: 'utf8' });
        assert.equal(bad.status, 2, bad.stderr);
        assert.match(bad.stderr, message);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
