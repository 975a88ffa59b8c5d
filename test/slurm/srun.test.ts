// commune under real `srun` on the local three-node Slurm cluster (slurm/local-cluster.sh up): a flat
// grid search over 3 nodes × 6 tasks equals the single-process run; `commune info` reports the
// placement Slurm chose; an unknown --interface stops every task at once, listing the real interfaces.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { existsSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { cleanEnv, clusterSuite, comparableResults, MAIN, srun } from './support.js';

// Small enough to keep the group quick, several kernel groups so every one of the 6 ranks gets fits.
const SMALL_GRID = [{ kernel: ['rbf'], gamma: [1e-3, 1e-4], C: [1, 10] }, { kernel: ['linear'], C: [1] }];

describe('slurm: commune under srun on three nodes', function () {
  this.timeout(300_000);
  const scratch = clusterSuite('commune-slurm-', SMALL_GRID);

  it('srun -N 3 -n 6 commune gridsearch --json gives the single-process results', async function () {
    const grid = join(scratch.dir, 'grid.json');
    const r = await srun(['-N', '3', '-n', '6', process.execPath, MAIN, 'gridsearch', '--quiet', '--grid', grid, '--json', join(scratch.dir, 'srun.json')]).done;
    assert.equal(r.code, 0, r.stderr);
    const one = spawnSync(process.execPath, [MAIN, 'gridsearch', '--ranks', '1', '--quiet', '--grid', grid, '--json', join(scratch.dir, 'one.json')], { encoding: 'utf8', env: cleanEnv() });
    assert.equal(one.status, 0, one.stderr);
    assert.deepStrictEqual(comparableResults(join(scratch.dir, 'srun.json')), comparableResults(join(scratch.dir, 'one.json')));
    const { ranks } = JSON.parse(readFileSync(join(scratch.dir, 'srun.json'), 'utf8')) as { ranks: number };
    assert.equal(ranks, 6, 'the search ran as one world of 6 ranks');
    console.log(`      wall: srun -N 3 -n 6 ${(r.ms / 1000).toFixed(1)} s`);
  });

  it('srun -N 3 -n 48: a world of 48 ranks over three nodes joins with computed wire-up, runs every collective and closes (issue 17)', async function () {
    const fixture = join(MAIN, '..', '..', '..', 'test', 'fixtures', 'collective-rank.js');
    const r = await srun(['-N', '3', '-n', '48', '--overcommit', '--label', process.execPath, fixture, 'run']).done;
    assert.equal(r.code, 0, r.stderr.slice(-4000));
    const results = r.stdout.split('\n').flatMap((l) => { const m = /^\s*\d+: RESULT (.*)$/.exec(l); return m ? [JSON.parse(m[1]!) as Record<string, unknown>] : []; })
      .sort((a, b) => (a.rank as number) - (b.rank as number));
    assert.equal(results.length, 48, r.stdout.slice(-2000));
    assert.deepEqual(new Set(results.map((x) => x.node)), new Set(['n1', 'n2', 'n3']));
    for (const x of results) {
      assert.deepEqual([x.size, x.ok, x.identical, x.big], [48, true, true, String(48 * 47 / 2 - 48)]);
      assert.deepEqual(x.ag, Array.from({ length: 48 }, (_, q) => `r${q}`));
      assert.equal(x.rep, results[0]!.rep);
    }
    assert.deepEqual(results.flatMap((x) => x.rs as number[]), new Array(2 * 48 + 1).fill(48 * 49 / 2));
    console.log(`      wall: srun -N 3 -n 48 ${(r.ms / 1000).toFixed(1)} s`);
  });

  // Two shapes: two tasks per node on three nodes (block and cyclic differ on every node), and the seed's
  // dask-mpi step (--overcommit --distribution=cyclic, two tasks more than the job's workers).
  const SHAPES = [
    { what: '-N 3 --ntasks-per-node=2 --distribution=cyclic', args: ['-N', '3', '--ntasks-per-node=2', '--distribution=cyclic'], nodes: ['n1', 'n2', 'n3', 'n1', 'n2', 'n3'] },
    { what: "the seed's -N 2 -n 4 --overcommit --distribution=cyclic --cpus-per-task=2", args: ['-N', '2', '-n', '4', '--overcommit', '--distribution=cyclic', '--cpus-per-task=2'], nodes: ['n1', 'n2', 'n1', 'n2'] },
  ];
  for (const shape of SHAPES) {
    it(`commune info --json under srun ${shape.what} reports the placement Slurm chose`, async function () {
      const size = shape.nodes.length;
      const tasks = [...Array(size).keys()];
      // Each task prints Slurm's own view of itself, then commune's report.
      const r = await srun([...shape.args, '--label', 'sh', '-c',
        'echo "slurm $SLURMD_NODENAME $SLURM_NODEID $SLURM_LOCALID"; exec "$0" "$@"', process.execPath, MAIN, 'info', '--json']).done;
      assert.equal(r.code, 0, r.stderr);
      const slurm = new Map<number, { node: string; nodeId: number; localId: number }>();
      const infos = new Map<number, { rank: number; size: number; localRank: number; node: string; launcher: string; nodes: string[]; rankNodes: number[]; addresses: string[] }>();
      for (const line of r.stdout.split('\n').filter(Boolean)) {
        const m = /^\s*(\d+): (.*)$/.exec(line);
        assert.ok(m, `unlabelled line: ${line}`);
        const task = Number(m[1]);
        const s = /^slurm (\S+) (\d+) (\d+)$/.exec(m[2]!);
        if (s) slurm.set(task, { node: s[1]!, nodeId: Number(s[2]), localId: Number(s[3]) });
        else infos.set(task, JSON.parse(m[2]!));
      }
      assert.equal(slurm.size, size, r.stdout);
      assert.equal(infos.size, size, r.stdout);
      // Slurm really dealt the ranks round-robin (otherwise this test would not be about cyclic placement).
      assert.deepEqual(tasks.map((t) => slurm.get(t)!.node), shape.nodes);
      for (const [task, info] of infos) {
        const truth = slurm.get(task)!;
        assert.deepEqual([info.rank, info.size, info.launcher], [task, size, 'slurm']);
        assert.equal(info.node, truth.node);
        assert.equal(info.localRank, truth.localId);
        assert.deepEqual(info.nodes, [...new Set(shape.nodes)].sort());
        // commune's placement of every rank, computed from SLURM_* alone, is where Slurm put that rank.
        assert.deepEqual(info.rankNodes.map((n) => info.nodes[n]), tasks.map((t) => slurm.get(t)!.node), `rank ${task}'s view`);
        // And the rank listens on its node's own address (the node name's address in /etc/hosts).
        const { address } = await lookup(truth.node, { family: 4 });
        assert.ok(info.addresses.length > 0 && info.addresses.every((a) => a.startsWith(`/ip4/${address}/tcp/`)), `rank ${task} on ${truth.node} (${address}) listens on ${info.addresses.join(' ')}`);
      }
      assert.equal(new Set([...infos.values()].map((i) => i.addresses[0]!.split('/')[2])).size, new Set(shape.nodes).size, 'one address per node');
    });
  }

  it('--interface naming a missing interface stops every task at once, listing the available ones', async function () {
    const json = join(scratch.dir, 'never.json');
    const r = await srun(['-N', '3', '-n', '6', '--label', process.execPath, MAIN, 'gridsearch', '--grid', join(scratch.dir, 'grid.json'), '--json', json, '--interface', 'nosuch0']).done;
    assert.equal(r.code, 2, `srun exit code: ${r.code}\n${r.stderr}`);
    // Each node checks its own interfaces; every task reports, names its node and lists this host's interfaces.
    const names = Object.keys(networkInterfaces());
    const lines = r.stderr.split('\n').filter((l) => /interface 'nosuch0' not found/.test(l));
    assert.deepEqual(lines.map((l) => Number(/^\s*(\d+):/.exec(l)?.[1])).sort(), [0, 1, 2, 3, 4, 5], r.stderr);
    for (const l of lines) {
      assert.match(l, /on node n[123]; available: /);
      for (const n of names) assert.ok(l.includes(`${n} (`), `'${n}' missing from: ${l}`);
      assert.match(l, /Pass one of these to --interface/);
    }
    assert.doesNotMatch(r.stderr, /gridsearch: \d+\/\d+ fits/, 'no fit started');
    assert.equal(existsSync(json), false, 'no results written');
    // Fails fast: bounded by start-up alone, nowhere near the search or the 60 s join deadline.
    assert.ok(r.ms < 30_000, `took ${r.ms.toFixed(0)} ms`);
  });
});
