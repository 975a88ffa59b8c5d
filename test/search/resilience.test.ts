// Issue 9: the flat engine survives rank failures. Real rank processes under `commune launch
// --keep-going`; victims SIGKILL or SIGSTOP themselves at a chosen point (fixtures/resilient-search-
// rank.ts). Every survivor must end with cv_results_ bit-identical to the single-process engine, agree
// on who was lost, and finish within the fault-free time plus the liveness deadline plus the redone
// work; a frozen rank that wakes up is evicted (exit 75) without disturbing the survivors.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GridSearchCV, loadDigits, SVC, trainTestSplit, type Matrix } from '../../src/ml/index.js';
import { EVICTED_EXIT_CODE } from '../../src/errors.js';
import { resultsDigest, scorersWithoutTimings } from '../support/digest.js';
import { SEED_GRID } from '../../src/cli/gridsearch.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../fixtures/resilient-search-rank.js', import.meta.url));
const LIVENESS_MS = 3000;

interface RankResult { rank: number; digest: string; alive: number[]; lost: number[]; fitsRun: number; fitsRedone: number; ms: number }
interface Launched { code: number | null; results: RankResult[]; stdout: string; stderr: string }

/**
 * Runs `commune launch -n p --keep-going -- <cmd>`. `onLine` sees every output line as it comes (to
 * SIGCONT or SIGKILL a rank at the right moment).
 */
function launch(p: number, cmd: string[], onLine: (line: string, child: { stdout: string; stderr: string }) => void = () => {}, nodes = 1): Promise<Launched> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, 'launch', '-n', String(p), '--nodes', String(nodes), '--keep-going', '--', ...cmd], {
      env: { ...process.env, COMMUNE_LIVENESS_MS: String(LIVENESS_MS) }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = { stdout: '', stderr: '' };
    const feed = (which: 'stdout' | 'stderr') => {
      let buf = '';
      return (d: Buffer): void => {
        buf += d.toString();
        out[which] += d.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          onLine(line, out);
        }
      };
    };
    child.stdout.on('data', feed('stdout'));
    child.stderr.on('data', feed('stderr'));
    child.on('error', reject);
    child.on('close', (code) => {
      const results = out.stdout.split('\n').flatMap((l) => {
        const m = /^\[\d+\] RESULT (.*)$/.exec(l);
        return m ? [JSON.parse(m[1]) as RankResult] : [];
      }).sort((a, b) => a.rank - b.rank);
      resolve({ code, results, ...out });
    });
  });
}

describe('search: the flat engine survives rank failures (real processes)', function () {
  this.timeout(180_000);
  let expected = '';
  let faultFreeMs = 0;
  // A stopped rank holds its launcher open: whatever happens in a test, it must not outlive it.
  const stopped = new Set<number>();
  afterEach(() => { for (const pid of stopped) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } } stopped.clear(); });

  before(async function () {
    const digits = loadDigits();
    const [XTrain, , yTrain] = trainTestSplit(digits.data, digits.target, { testSize: 0.5, randomState: 0 }) as [Matrix, Matrix, Int32Array, Int32Array];
    const local = await new GridSearchCV(new SVC(), SEED_GRID, { scoring: ['precision_macro', 'recall_macro'], cv: 3, refit: false, clock: () => 0 }).fit(XTrain, yTrain);
    expected = resultsDigest(local.cvResults_!);
  });

  it('p=5 without faults: every rank has the single-process results (the reference time)', async () => {
    const r = await launch(5, [process.execPath, FIXTURE, 'none']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.results.map((x) => x.rank), [0, 1, 2, 3, 4], r.stdout + r.stderr);
    for (const x of r.results) {
      assert.equal(x.digest, expected);
      assert.deepEqual([x.alive, x.lost, x.fitsRedone], [[0, 1, 2, 3, 4], [], 0]);
    }
    faultFreeMs = Math.max(...r.results.map((x) => x.ms));
  });

  const cases: Array<{ p: number; mode: string; victims: number[]; title: string }> = [
    { p: 3, mode: 'start', victims: [0], title: 'rank 0 SIGKILLed before its first fit' },
    { p: 4, mode: 'mid', victims: [2], title: 'a rank SIGKILLed mid-search' },
    { p: 5, mode: 'exchange', victims: [4], title: 'a rank SIGKILLed during the final aggregation (its share computed, not shared)' },
    { p: 5, mode: 'mid', victims: [0], title: 'rank 0 SIGKILLed mid-search' },
    { p: 4, mode: 'mid', victims: [1, 2], title: 'two ranks SIGKILLed mid-search' },
    { p: 3, mode: 'start', victims: [0, 2], title: 'all ranks but one SIGKILLed' },
  ];
  for (const c of cases) {
    it(`p=${c.p}: ${c.title} — the survivors agree on the loss and finish with identical results`, async () => {
      const r = await launch(c.p, [process.execPath, FIXTURE, c.mode, c.victims.join(',')]);
      const survivors = Array.from({ length: c.p }, (_, q) => q).filter((q) => !c.victims.includes(q));
      assert.deepEqual(r.results.map((x) => x.rank), survivors, r.stdout + r.stderr);
      assert.equal(r.code, 0, `launcher exit (survivors complete) ${r.code}\n${r.stderr}`);
      for (const x of r.results) {
        assert.equal(x.digest, expected, `rank ${x.rank}: results differ from the fault-free run`);
        assert.deepEqual(x.alive, survivors);
        assert.deepEqual(x.lost, c.victims);
        assert.ok(x.fitsRedone > 0 && x.fitsRedone < x.fitsRun, `rank ${x.rank} redid ${x.fitsRedone} of ${x.fitsRun}`);
        assert.equal(x.fitsRedone, r.results[0].fitsRedone, 'every survivor counts the same redone work');
        // The bound: fault-free time + the deadline + the redone work (run by fewer ranks), with
        // slack for this shared machine.
        const redo = faultFreeMs * (x.fitsRedone / x.fitsRun) * c.p / survivors.length;
        assert.ok(x.ms < faultFreeMs + 2 * LIVENESS_MS + redo + 15_000, `rank ${x.rank} took ${x.ms} ms (fault-free ${faultFreeMs} ms)`);
      }
    });
  }

  /** Not a synchronisation: if a run is stuck, stop its stopped rank so the assertions show the output. */
  const safetyNet = (pid: () => number): NodeJS.Timeout => setTimeout(() => { try { process.kill(pid(), 'SIGKILL'); } catch { /* gone */ } }, 100_000);

  it('p=3: a SIGSTOPped rank is declared dead after the deadline and fenced (SIGKILLed from its node): the survivors are unaffected, the job ends', async () => {
    let victimPid = 0;
    const net = safetyNet(() => victimPid);
    const r = await launch(3, [process.execPath, FIXTURE, 'stop', '1'], (line) => {
      const pid = /^\[1\] PID (\d+)$/.exec(line);
      if (pid) { victimPid = Number(pid[1]); stopped.add(victimPid); }
    });
    clearTimeout(net);
    assert.deepEqual(r.results.map((x) => x.rank), [0, 2], r.stdout + r.stderr);
    for (const x of r.results) {
      assert.equal(x.digest, expected);
      assert.deepEqual([x.alive, x.lost], [[0, 2], [1]]);
    }
    assert.match(r.stderr, /rank 1 exited with SIGKILL/);
    assert.match(r.stderr, /"peer":1,"pids":\[\d+\],"msg":"fenced: ended a stopped rank the others gave up on"/);
    assert.equal(r.code, 0, r.stderr);
  });

  it('p=3 on three nodes: a SIGSTOPped rank (another node: not fenced) is declared dead; woken, it is evicted (exit 75), the survivors unaffected', async () => {
    let victimPid = 0;
    let resumed = false;
    const net = safetyNet(() => victimPid);
    const r = await launch(3, [process.execPath, FIXTURE, 'stop', '1'], (line, out) => {
      const pid = /^\[1\] PID (\d+)$/.exec(line);
      if (pid) { victimPid = Number(pid[1]); stopped.add(victimPid); }
      // Wake it once both survivors are done (or failed), as a late straggler would.
      if (!resumed && victimPid && (out.stdout.match(/^\[[02]\] (RESULT|FAILED)/gm) ?? []).length === 2) {
        resumed = true;
        process.kill(victimPid, 'SIGCONT');
      }
    }, 3);
    clearTimeout(net);
    assert.ok(resumed, r.stdout + r.stderr);
    assert.deepEqual(r.results.map((x) => x.rank), [0, 2], r.stdout + r.stderr);
    for (const x of r.results) {
      assert.equal(x.digest, expected);
      assert.deepEqual([x.alive, x.lost], [[0, 2], [1]]);
    }
    assert.match(r.stderr, new RegExp(`rank 1 exited with code ${EVICTED_EXIT_CODE}`));
    assert.match(r.stderr, /\[1\] rank 1: evicted — /);
    assert.equal(r.code, 0, r.stderr);
  });

  it('p=3: a SIGSTOPped rank woken while the survivors still agree never disturbs them: fenced, evicted (exit 75), or counted in with the same results', async () => {
    let victimPid = 0;
    let resumed = false;
    const net = safetyNet(() => victimPid);
    const r = await launch(3, [process.execPath, FIXTURE, 'stop', '2'], (line) => {
      const pid = /^\[2\] PID (\d+)$/.exec(line);
      if (pid) { victimPid = Number(pid[1]); stopped.add(victimPid); }
      if (!resumed && victimPid && /"msg":"rank lost"/.test(line)) {
        resumed = true;
        process.kill(victimPid, 'SIGCONT');
      }
    });
    clearTimeout(net);
    assert.ok(resumed, r.stdout + r.stderr);
    const survivors = r.results.filter((x) => x.rank !== 2);
    assert.deepEqual(survivors.map((x) => [x.rank, x.digest]), [[0, expected], [1, expected]], r.stdout + r.stderr);
    assert.equal(r.code, 0, r.stderr);
    // Woken while the survivors were still agreeing, it is either out (whoever declared it lost tells it
    // so) or — when its results reached a survivor before the verdict did — agreed in; never in between.
    const victim = r.results.find((x) => x.rank === 2);
    if (victim) assert.equal(victim.digest, expected);
    else {
      // Fenced while still stopped (the SIGCONT came too late), or woken and told it was evicted.
      if (!/rank 2 exited with SIGKILL/.test(r.stderr)) {
        assert.match(r.stderr, new RegExp(`rank 2 exited with code ${EVICTED_EXIT_CODE}`));
        assert.match(r.stderr, /\[2\] rank 2: evicted — /);
      }
      for (const x of survivors) assert.deepEqual(x.lost, [2]);
    }
  });

  describe('the same faults under the co-ordinator engine (gridsearch --mode coordinator): Dask\'s semantics', function () {
    let dir = '';
    before(() => { dir = mkdtempSync(join(tmpdir(), 'commune-ft-coord-')); });
    after(() => rmSync(dir, { recursive: true, force: true }));
    const cli = (json: string): string[] => ['sh', '-c', `echo PID $$; COMMUNE_LOG_LEVEL=info exec "${process.execPath}" "${MAIN}" gridsearch --mode coordinator --cv 3 --quiet --json "${json}"`];

    /** Kills rank `victim` once the scheduler has registered both workers (the search is under way). */
    const killAfterRegistration = (victim: number, state: { pids: Map<number, number>; registered: number; killedAt: number }) => (line: string): void => {
      const pid = /^\[(\d+)\] PID (\d+)$/.exec(line);
      if (pid) state.pids.set(Number(pid[1]), Number(pid[2]));
      if (/^\[0\] .*"msg":"worker registered"/.test(line) && ++state.registered === 2 && !state.killedAt) {
        state.killedAt = Date.now();
        process.kill(state.pids.get(victim)!, 'SIGKILL');
      }
    };

    it('a worker SIGKILLed mid-search: its tasks re-run on the other worker, results identical to the flat engine', async () => {
      const flat = await launch(3, ['sh', '-c', `exec "${process.execPath}" "${MAIN}" gridsearch --cv 3 --quiet --json "${join(dir, 'flat.json')}"`]);
      assert.equal(flat.code, 0, flat.stderr);
      const state = { pids: new Map<number, number>(), registered: 0, killedAt: 0 };
      const r = await launch(4, cli(join(dir, 'coord.json')), killAfterRegistration(3, state));
      assert.ok(state.killedAt > 0, r.stderr);
      assert.match(r.stderr, /rank 3 exited with SIGKILL/);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(scorersWithoutTimings(join(dir, 'coord.json')), scorersWithoutTimings(join(dir, 'flat.json')));
    });

    it('the scheduler (rank 0) SIGKILLed mid-search: every rank exits non-zero within 10 s, no results — unlike the flat engine', async () => {
      const state = { pids: new Map<number, number>(), registered: 0, killedAt: 0 };
      let lastExit = 0;
      const r = await launch(4, cli(join(dir, 'lost.json')), (line, out) => {
        killAfterRegistration(0, state)(line);
        if (/^commune launch: rank \d exited/.test(line)) lastExit = Date.now();
        void out;
      });
      assert.ok(state.killedAt > 0, r.stderr);
      assert.notEqual(r.code, 0);
      for (const k of [1, 2, 3]) assert.match(r.stderr, new RegExp(`rank ${k}: the scheduler \\(rank 0\\) is lost`), r.stderr);
      assert.ok(Date.now() - state.killedAt < 10_000 + 2000 && (lastExit === 0 || lastExit - state.killedAt < 10_000), `ranks took ${lastExit - state.killedAt} ms`);
      assert.throws(() => readFileSync(join(dir, 'lost.json')), /ENOENT/);
    });
  });

  describe('commune gridsearch', function () {
    let dir = '';
    before(() => { dir = mkdtempSync(join(tmpdir(), 'commune-ft-')); });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('rank 0 SIGKILLed mid-search: the lowest survivor prints the same results, names the lost rank and the redone fits', async () => {
      const cli = (json: string): string[] => ['sh', '-c', `echo PID $$; exec "${process.execPath}" "${MAIN}" gridsearch --cv 3 --json "${json}"`];
      const free = await launch(3, cli(join(dir, 'free.json')));
      assert.equal(free.code, 0, free.stderr);
      let killed = false;
      let rank0 = 0;
      const r = await launch(3, cli(join(dir, 'ft.json')), (line) => {
        const pid = /^\[0\] PID (\d+)$/.exec(line);
        if (pid) rank0 = Number(pid[1]);
        if (!killed && rank0 && /^\[0\] gridsearch: [1-9]\d*\/\d+ fits/.test(line)) { killed = true; process.kill(rank0, 'SIGKILL'); }
      });
      assert.ok(killed, r.stderr);
      assert.equal(r.code, 0, r.stderr);
      const text = (o: string): string[] => o.split('\n').filter((l) => /^\[\d\] /.test(l) && !/PID|Time taken/.test(l));
      const got = text(r.stdout);
      assert.ok(got.every((l) => l.startsWith('[1] ')), 'rank 1 prints');
      const lostLine = got.pop()!;
      assert.match(lostLine, /^\[1\] Lost rank 0 during the search; the survivors redid \d+ of \d+ fits \(results are unchanged\)$/);
      assert.deepEqual(got.map((l) => l.slice(4)), text(free.stdout).map((l) => l.slice(4)));
      assert.deepEqual(scorersWithoutTimings(join(dir, 'ft.json')), scorersWithoutTimings(join(dir, 'free.json')));
      const ft = JSON.parse(readFileSync(join(dir, 'ft.json'), 'utf8')) as { lost_ranks: number[]; printed_by: number; fits_redone: number };
      assert.deepEqual([ft.lost_ranks, ft.printed_by], [[0], 1]);
      assert.ok(ft.fits_redone > 0);
    });

    it('64 ranks, 8 of them SIGKILLed mid-search: the survivors print the results of 1 rank (issue 17)', async function () {
      this.timeout(600_000);
      // 16 gammas × 2 Cs × 5 folds: 80 groups of fits, so every one of the 64 ranks has work to lose.
      const grid = join(dir, 'grid64.json');
      writeFileSync(grid, JSON.stringify({ kernel: ['rbf'], gamma: [1e-4, 2e-4, 3e-4, 5e-4, 7e-4, 1e-3, 1.5e-3, 2e-3, 3e-3, 4e-3, 5e-3, 7e-3, 1e-2, 1.5e-2, 2e-2, 3e-2], C: [1, 10] }));
      const args = ['gridsearch', '--grid', grid, '--scoring', 'precision_macro'];
      const one = spawnSync(process.execPath, [MAIN, ...args, '--ranks', '1', '--quiet', '--json', join(dir, 'one.json')], { encoding: 'utf8', timeout: 300_000 });
      assert.equal(one.status, 0, one.stderr);
      const victims = [7, 15, 23, 31, 39, 47, 55, 63];
      const pids = new Map<number, number>();
      let killed = false;
      const cmd = ['sh', '-c', `echo PID $$; exec "${process.execPath}" "${MAIN}" ${args.join(' ')} --json "${join(dir, 'many.json')}"`];
      const r = await launch(64, cmd, (line) => {
        const pid = /^\[(\d+)\] PID (\d+)$/.exec(line);
        if (pid) pids.set(Number(pid[1]), Number(pid[2]));
        // Mid-search: rank 0 has shown fits done, and not all of them.
        const m = /^\[0\] gridsearch: (\d+)\/(\d+) fits/.exec(line);
        if (!killed && m && Number(m[1]) > 0 && Number(m[1]) < Number(m[2])) {
          killed = true;
          for (const v of victims) process.kill(pids.get(v)!, 'SIGKILL');
        }
      });
      assert.ok(killed, `never saw progress to kill at:\n${r.stderr.slice(-2000)}`);
      assert.equal(r.code, 0, r.stderr.slice(-4000));
      const many = JSON.parse(readFileSync(join(dir, 'many.json'), 'utf8')) as { ranks: number; lost_ranks: number[]; fits_redone: number };
      assert.deepEqual(many.lost_ranks, victims);
      assert.ok(many.fits_redone > 0, 'the victims\' unfinished fits were redone');
      assert.deepEqual(scorersWithoutTimings(join(dir, 'many.json')), scorersWithoutTimings(join(dir, 'one.json')));
    });

    it('a rank busy far longer than the liveness deadline (slow fits, a slow refit) is not evicted: its own thread answers pings while a worker thread fits', () => {
      // Fits of ~0.2 s each, three to a group, against a 100 ms deadline: before the fit thread, the rank
      // still refitting was pinged by the other, could not answer, and was evicted although healthy.
      const grid = join(dir, 'slow-grid.json');
      writeFileSync(grid, JSON.stringify({ kernel: ['rbf'], gamma: [0.05], C: [1e6], tol: [1e-10, 2e-10, 3e-10] }));
      const run = (ranks: number, json: string): void => {
        const r = spawnSync(process.execPath, [MAIN, 'gridsearch', '--ranks', String(ranks), '--cv', '2', '--grid', grid, '--quiet', '--json', json],
          { encoding: 'utf8', env: { ...process.env, COMMUNE_LIVENESS_MS: '100' }, timeout: 110_000 });
        assert.equal(r.status, 0, r.stderr);
        assert.doesNotMatch(r.stderr, /evicted|rank lost/, r.stderr);
      };
      run(2, join(dir, 'slow2.json'));
      run(1, join(dir, 'slow1.json'));
      const two = JSON.parse(readFileSync(join(dir, 'slow2.json'), 'utf8')) as { lost_ranks: number[]; fits_redone: number; fits_run: number };
      assert.deepEqual([two.lost_ranks, two.fits_redone, two.fits_run], [[], 0, 6]);
      assert.deepEqual(scorersWithoutTimings(join(dir, 'slow2.json')), scorersWithoutTimings(join(dir, 'slow1.json')));
    });
  });
});
