// Issue 18: an operator's bad day, as a matrix. `commune gridsearch` on 4 ranks under `commune launch
// --keep-going`; at the first time a rank logs a phase (COMMUNE_LOG_LEVEL=debug), the victims get a
// signal. Every cell must end (no hang), deliver exactly one result, and that result must be the
// undisturbed run's, bit for bit. The counts are printed at the end (the README's failure section).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scorersWithoutTimings } from '../support/digest.js';
import { communeRank, launchJob, outputTail, phaseOf, pidCollector, resultsPrinted } from '../support/launched.js';

const P = 4;
const LIVENESS_MS = 1000;
const ENV = { COMMUNE_LOG_LEVEL: 'debug', COMMUNE_LIVENESS_MS: String(LIVENESS_MS) };
const SIGNALS = ['SIGKILL', 'SIGSTOP', 'SIGSTOP+SIGCONT'] as const;
/**
 * Where in the job: the phase whose first logging (by any rank) fires the fault. 'printed': the printer
 * has written its output and told the others; the agreement that it delivered is still to come.
 */
const PHASES: Array<[string, string]> = [
  ['start-up', 'process'], ['mid-search', 'fitting'], ['final exchange', 'searched'], ['refit', 'refitted'], ['printing', 'printed'],
];
/**
 * Whom: `early` ranks are SIGKILLed at start-up first (so "the printing rank" is rank 1, which prints
 * once rank 0 is gone); `victims` get the cell's signal at its phase.
 */
const TARGETS: Array<{ name: string; early: number[]; victims: number[] }> = [
  { name: 'rank 0', early: [], victims: [0] },
  { name: 'the printing rank', early: [0], victims: [1] },
  { name: 'a middle rank', early: [], victims: [2] },
  { name: 'all but one', early: [], victims: [0, 1, 2] },
];

describe('faults: {SIGKILL, SIGSTOP, SIGSTOP+SIGCONT} × {start-up, mid-search, final exchange, refit, printing} × {rank 0, the printing rank, a middle rank, all but one}', function () {
  this.timeout(120_000);
  let dir = '';
  let reference = '';
  let run = 0;
  let held = 0;
  const leftovers = new Set<number>();
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'commune-faults-'));
    const json = join(dir, 'free.json');
    const r = await launchJob(P, communeRank(['gridsearch', '--cv', '3', '--quiet', '--json', json]), { env: ENV });
    assert.equal(r.code, 0, r.stderr);
    reference = JSON.stringify(scorersWithoutTimings(json));
  });
  afterEach(() => { for (const pid of leftovers) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } } leftovers.clear(); });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    console.log(`      fault matrix: ${run} cells run, ${held} held (one result, bit-identical to the undisturbed run)`);
  });

  for (const signal of SIGNALS) {
    for (const [when, phase] of PHASES) {
      for (const target of TARGETS) {
        it(`${signal} at ${when} to ${target.name}: the job ends with exactly one result, the undisturbed run's`, async () => {
          run++;
          const json = join(dir, `${signal}-${phase}-${target.victims.join('')}.json`);
          const ranks = pidCollector();
          let fired = false;
          const early = new Set<number>();
          const r = await launchJob(P, communeRank(['gridsearch', '--cv', '3', '--json', json]), {
            env: ENV,
            // A cell that hangs fails on its exit code (and shows its output) instead of stalling the suite.
            deadlineMs: 100_000,
            onLine: (line) => {
              ranks.see(line);
              for (const e of target.early) {
                if (!early.has(e) && ranks.pids.has(e)) { early.add(e); process.kill(ranks.pids.get(e)!, 'SIGKILL'); }
              }
              const seen = phaseOf(line);
              if (fired || !seen || seen.phase !== phase || !target.victims.every((v) => ranks.pids.has(v))) return;
              fired = true;
              for (const v of target.victims) {
                const pid = ranks.pids.get(v)!;
                leftovers.add(pid);
                try { process.kill(pid, signal === 'SIGKILL' ? 'SIGKILL' : 'SIGSTOP'); } catch { /* already gone */ }
                // A short freeze, within the liveness deadline: the others must wait it out, not evict.
                if (signal === 'SIGSTOP+SIGCONT') setTimeout(() => { try { process.kill(pid, 'SIGCONT'); } catch { /* gone */ } }, LIVENESS_MS / 2);
              }
            },
          });
          const tail = outputTail(r);
          assert.ok(fired, `the phase '${phase}' never came${tail}`);
          assert.equal(r.code, 0, `launcher exit ${r.code}${tail}`);
          assert.equal(resultsPrinted(r.stdout), 1, `results printed${tail}`);
          assert.equal(JSON.stringify(scorersWithoutTimings(json)), reference, 'the delivered result differs from the undisturbed run');
          held++;
        });
      }
    }
  }
});
