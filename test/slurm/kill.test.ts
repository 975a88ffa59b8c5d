// Killing one task of a running srun step: the flat engine's failure semantics hold under Slurm. The
// victim is SIGKILLed once rank 0's progress shows fits done (not after a sleep); what the survivors must
// do is in one helper, expectFlatEngineFailureSemantics (issue 9: re-plan and finish with the same results).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { scorersWithoutTimings } from '../support/digest.js';
import { clusterSuite, MAIN, srun, type Run } from './support.js';

const SIZE = 6;
const VICTIM = 4; // alone on n2 under srun -N 3 -n 6 (tasks per node 4,1,1)
/** Survivors must have stopped within this long after the kill (the issue asks for a bound, not a hang). */
const BOUND_MS = 60_000;
// Larger than the seed's grid, so the search is still running when rank 0 first reports progress.
const GRID = [{ kernel: ['rbf'], gamma: [1e-3, 5e-4, 2e-4, 1e-4], C: [1, 10, 100, 1000] }, { kernel: ['linear'], C: [1, 10, 100, 1000] }];

/** The pid of the rank process (node running MAIN) of task `rank` in the step tagged `tag`. */
function rankPid(tag: string, rank: number): number {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (argv[0] !== process.execPath || argv[1] !== MAIN) continue;
      const env = readFileSync(`/proc/${name}/environ`, 'utf8').split('\0');
      if (env.includes(`COMMUNE_TEST_TAG=${tag}`) && env.includes(`SLURM_PROCID=${rank}`)) found.push(Number(name));
    } catch { /* the process ended while we looked */ }
  }
  assert.equal(found.length, 1, `expected one process for rank ${rank}, found ${found.join(', ') || 'none'}`);
  return found[0]!;
}

/** Per-task exit codes and when each arrived, from the `N: commune-exit C` lines the wrapper prints. */
interface Exit { code: number; at: number }

/** The results without what differs between runs (timings, rank counts, failure bookkeeping). */
const comparable = (path: string): string => JSON.stringify(scorersWithoutTimings(path));

/**
 * The flat engine's failure semantics (issue 9): the survivors agree the victim is lost, redo its share
 * and finish with exit 0; the lowest survivor prints the full results, naming the lost rank, and they
 * equal a run without the failure. srun still reports the victim's death in its own exit code.
 */
function expectFlatEngineFailureSemantics(r: Run, exits: Map<number, Exit>, killedAt: number, victim: number, json: string, reference: string): void {
  assert.notEqual(r.code, 0, `srun reports the dead task; stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  assert.equal(exits.get(victim)?.code, 137, `rank ${victim} died of SIGKILL`);
  for (let rank = 0; rank < SIZE; rank++) {
    if (rank === victim) continue;
    const e = exits.get(rank);
    assert.ok(e, `rank ${rank} never exited:\n${r.stdout}\n${r.stderr}`);
    assert.equal(e.code, 0, `rank ${rank} finished the search without rank ${victim}:\n${r.stderr}`);
    assert.ok(e.at - killedAt < BOUND_MS, `rank ${rank} took ${(e.at - killedAt).toFixed(0)} ms to finish`);
  }
  assert.match(r.stdout, /^\s*0: Best parameters set found on development set:$/m, 'rank 0 prints the results');
  assert.match(r.stdout, new RegExp(`^\\s*0: Lost rank ${victim} during the search; the survivors redid \\d+ of \\d+ fits`, 'm'));
  assert.equal(comparable(json), reference, 'the same results as without the failure');
}

describe('slurm: one task of a running step is killed', function () {
  this.timeout(300_000);
  const scratch = clusterSuite('commune-slurm-kill-', GRID);

  it(`SIGKILL of rank ${VICTIM} mid-search: the survivors redo its share and print the same results`, async function () {
    const tag = randomBytes(8).toString('hex');
    const exits = new Map<number, Exit>();
    // The wrapper shell reports each rank process's exit code on its own labelled line.
    const json = join(scratch.dir, 'killed.json');
    const job = srun(['-N', '3', '-n', String(SIZE), '--label', 'sh', '-c', '"$0" "$@"; c=$?; echo "commune-exit $c"; exit $c',
      process.execPath, MAIN, 'gridsearch', '--grid', join(scratch.dir, 'grid.json'), '--json', json], { COMMUNE_TEST_TAG: tag });
    job.onLine('stdout', (l) => {
      const e = /^\s*(\d+): commune-exit (\d+)$/.exec(l);
      if (e) exits.set(Number(e[1]), { code: Number(e[2]), at: performance.now() });
    });
    // Running: rank 0 has reported fits done and not all of them.
    const m = await job.waitFor(/^\s*0: gridsearch: ([1-9]\d*)\/(\d+) fits/m, 'stderr');
    assert.ok(Number(m[1]) < Number(m[2]), `the search finished (${m[1]}/${m[2]}) before a task could be killed; enlarge GRID`);
    process.kill(rankPid(tag, VICTIM), 'SIGKILL');
    const killedAt = performance.now();
    const r = await job.done;
    const ref = join(scratch.dir, 'reference.json');
    const local = spawnSync(process.execPath, [MAIN, 'gridsearch', '--ranks', '1', '--quiet', '--grid', join(scratch.dir, 'grid.json'), '--json', ref], { encoding: 'utf8' });
    assert.equal(local.status, 0, local.stderr);
    expectFlatEngineFailureSemantics(r, exits, killedAt, VICTIM, json, comparable(ref));
    console.log(`      survivors finished ${Math.max(...[...exits].filter(([k]) => k !== VICTIM).map(([, e]) => e.at - killedAt)).toFixed(0)} ms after the kill`);
  });
});
