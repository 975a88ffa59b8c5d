// Issue 18: at most one side of a partition finishes (the majority rule, collectives/tree-agreement.ts).
// Real partitions: packets dropped between emulated nodes' loopback addresses (test/support/partition.ts).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PARTITIONED_EXIT_CODE } from '../../src/errors.js';
import { scorersWithoutTimings } from '../support/digest.js';
import { communeRank, launchJob, outputTail, phaseOf, pidCollector, resultsPrinted, type LaunchedJob } from '../support/launched.js';
import { LoopbackPartition, partitionsUnavailable } from '../support/partition.js';

// Ranks behind a cut from the start are never met, so each side waits for the other's until the
// start-up deadline (they may be slow starters): a shorter deadline than the default keeps the tests short.
const STARTUP_MS = 15_000;
const ENV = { COMMUNE_LOG_LEVEL: 'debug', COMMUNE_LIVENESS_MS: '1500', COMMUNE_STARTUP_TIMEOUT_MS: String(STARTUP_MS) };
const node = (i: number): string => `127.0.1.${i + 1}`;

describe('partitions: a side goes on only with a majority of the ranks not proven dead', function () {
  this.timeout(180_000);
  let dir = '';
  let part: LoopbackPartition | undefined;
  let reference = '';
  before(async function () {
    const why = partitionsUnavailable();
    if (why) { console.log(`      skipped: ${why}`); this.skip(); } // skipped: reason printed
    part = new LoopbackPartition();
    dir = mkdtempSync(join(tmpdir(), 'commune-partition-'));
    const json = join(dir, 'free.json');
    const r = await launchJob(6, communeRank(['gridsearch', '--cv', '3', '--quiet', '--json', json]), { nodes: 3, env: ENV });
    assert.equal(r.code, 0, r.stderr);
    reference = JSON.stringify(scorersWithoutTimings(json));
  });
  afterEach(() => part?.heal());
  after(() => {
    part?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** 6 ranks on 3 nodes; node 2 (ranks 4, 5) cut off from the others once rank 4 has joined. */
  const cutNode2 = (json: string, heal: boolean): Promise<LaunchedJob> => {
    let cut = false;
    let healed = false;
    return launchJob(6, communeRank(['gridsearch', '--cv', '3', '--json', json]), {
      nodes: 3, env: ENV, deadlineMs: 150_000,
      onLine: (line) => {
        const seen = phaseOf(line);
        if (!cut && seen?.rank === 4 && seen.phase === 'joined') {
          cut = true;
          part!.cut(node(2), node(0));
          part!.cut(node(2), node(1));
        }
        // Healed as soon as either side has given up on the other: each side's suspicions are final.
        if (heal && cut && !healed && /"msg":"rank lost"/.test(line)) { healed = true; part!.heal(); }
      },
    });
  };

  /** The job completed with exactly one result, the undisturbed run's. */
  const oneResult = (r: LaunchedJob, json: string): void => {
    assert.equal(r.code, 0, `launcher exit ${r.code}${outputTail(r)}`);
    assert.equal(resultsPrinted(r.stdout), 1, outputTail(r));
    assert.equal(JSON.stringify(scorersWithoutTimings(json)), reference);
  };

  it('node 2 of 3 cut off mid-job: the majority (4 of 6) prints one result, the undisturbed one; the cut-off ranks stop with exit 76 and say why', async () => {
    const json = join(dir, 'cut.json');
    const r = await cutNode2(json, false);
    const tail = outputTail(r);
    oneResult(r, json);
    assert.match(r.stdout, /^\[0\] Lost ranks 4, 5 during the search/m, tail);
    for (const q of [4, 5]) assert.match(r.stderr, new RegExp(`^\\[${q}\\] commune: rank ${q}: cut off from the majority in .* ranks 0, 1, 2, 3 cannot be reached but are not proven dead`, 'm'), tail);
    assert.match(r.stderr, new RegExp(`rank [45] exited with code ${PARTITIONED_EXIT_CODE}`), tail);
  });

  it('the same cut, healed once a side gives up on the other: still exactly one result, the undisturbed one', async () => {
    const json = join(dir, 'healed.json');
    oneResult(await cutNode2(json, true), json);
  });

  it('node 2 cut off from the start; healed once the majority has printed and exited: the ports refusing on the other side prove those ranks gone, not that they took no part — the minority still stops with exit 76', async () => {
    const json = join(dir, 'after-exit.json');
    const ranks = pidCollector();
    let healed = false;
    let watch: NodeJS.Timeout | undefined;
    const gone = (pid: number): boolean => { try { process.kill(pid, 0); return false; } catch { return true; } };
    part!.cut(node(2), node(0));
    part!.cut(node(2), node(1));
    // The minority (ranks 4, 5) waits for the majority's never-met ranks three times as long as the
    // majority waits for it, so the majority decides, prints and exits while the minority still waits.
    const slowSide = `[ "$COMMUNE_RANK" -ge 4 ] && export COMMUNE_STARTUP_TIMEOUT_MS=${3 * STARTUP_MS}; `;
    const [sh, c, script] = communeRank(['gridsearch', '--cv', '3', '--json', json]);
    const r = await launchJob(6, [sh!, c!, slowSide + script!], {
      nodes: 3, env: ENV, deadlineMs: 150_000,
      onLine: (line) => {
        ranks.see(line);
        if (watch || !/^\[0\] Time taken: /.test(line)) return;
        watch = setInterval(() => {
          if (healed || ![0, 1, 2, 3].every((q) => ranks.pids.has(q) && gone(ranks.pids.get(q)!))) return;
          healed = true;
          clearInterval(watch);
          part!.heal();
        }, 50);
      },
    });
    clearInterval(watch);
    const tail = outputTail(r);
    assert.ok(healed, `the majority's ranks never all exited before the job ended${tail}`);
    oneResult(r, json);
    for (const q of [4, 5]) assert.match(r.stderr, new RegExp(`^\\[${q}\\] commune: rank ${q}: cut off from the majority`, 'm'), tail);
  });

  it('4 ranks on 2 nodes cut in halves: neither side holds a majority — no result, every rank says it is cut off (exit 76)', async () => {
    let cut = false;
    const json = join(dir, 'halves.json');
    const r = await launchJob(4, communeRank(['gridsearch', '--cv', '3', '--json', json]), {
      nodes: 2, env: ENV, deadlineMs: 150_000,
      onLine: (line) => {
        const seen = phaseOf(line);
        if (!cut && seen?.phase === 'joined') { cut = true; part!.cut(node(0), node(1)); }
      },
    });
    const tail = outputTail(r);
    assert.equal(r.code, PARTITIONED_EXIT_CODE, `launcher exit ${r.code}${tail}`);
    assert.equal(resultsPrinted(r.stdout), 0, tail);
    for (let q = 0; q < 4; q++) assert.match(r.stderr, new RegExp(`^\\[${q}\\] commune: rank ${q}: cut off from the majority`, 'm'), tail);
  });
});
