// The co-ordinator layer as real processes under `commune launch`: dask-mpi's rank assignment and
// exit behaviour (3, 4 and 6 ranks, exit: false, too few ranks), every Client and Future method,
// worker and scheduler deaths, and the unshippable-function error.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { find, launch, type Run } from './support.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/compat-script.js', import.meta.url));

describe('compat: initialize, Client and failures (processes)', function () {
  this.timeout(120_000);
  let dir = '';
  const children: ChildProcess[] = [];
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'commune-compat-')); });
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  function run(n: number, args: string[], o: Parameters<typeof launch>[3] = {}): Promise<Run> {
    const { child, done } = launch(n, FIXTURE, args, o);
    children.push(child);
    return done;
  }

  for (const n of [3, 4, 6]) {
    it(`${n} ranks: rank 0 scheduler, rank 1 client, ranks ≥ 2 workers named by rank; every rank exits 0`, async function () {
      const r = await run(n, ['basic']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(find(r, 'BEFORE').map((l) => l.rank).filter((k, i, a) => a.indexOf(k) === i).sort(), Array.from({ length: n }, (_, i) => i));
      // Code after initialize() runs on the client rank only.
      assert.deepEqual(find(r, 'AFTER').map((l) => l.rank), [1]);
      const [res] = find(r, 'RESULT', 1);
      const workers = Array.from({ length: n - 2 }, (_, i) => i + 2);
      assert.deepEqual(res.value.names, workers);
      // submit(..., { workers: name }) runs on the process of that rank.
      assert.deepEqual(res.value.byWorker, Object.fromEntries(workers.map((w) => [String(w), w])));
      assert.equal(res.value.threads, n - 2);
      assert.match(String(res.value.schedulerAddress), /^commune:\/\/127\.0\.0\.1:\d+$/);
      assert.doesNotMatch(r.stderr, /exited with/);
    });
  }

  it('2 ranks: an error saying three are needed and why — once, exit 2, no stack trace', async function () {
    const r = await run(2, ['basic']);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.match(/found 2, needs at least 3, one each for the scheduler \(rank 0\), the client \(rank 1\) and a worker/g)?.length, 1, r.stderr);
    assert.match(r.stderr, /^\[0\] commune: WorldTooSmallError: Not enough ranks/m);
    assert.doesNotMatch(r.stderr, /^\[\d\]\s+at /m, 'no stack trace');
    assert.equal(find(r, 'AFTER').length, 0);
  });

  it('an option initialize() does not know is refused, naming it and the known ones (dask-mpi spellings get a hint): exit 2', async function () {
    const r = await run(3, ['bad-option']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^\[0\] commune: CompatUsageError: initialize: unknown option 'local_directory' \(did you mean 'localDirectory'\? options are camelCase here\); the options are interface, nthreads, localDirectory, /m);
    assert.equal(r.stderr.match(/unknown option/g)?.length, 1, r.stderr);
  });

  it('exit: false returns whether this rank is the client; sendCloseSignal() stops the cluster and every rank continues', async function () {
    const r = await run(3, ['no-exit']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(find(r, 'RETURNED').map((l) => [l.rank, l.value.isClient]).sort(), [[0, false], [1, true], [2, false]]);
    assert.deepEqual(find(r, 'RESULT', 1).map((l) => l.value.value), [42]);
    assert.deepEqual(find(r, 'CONTINUED').map((l) => l.rank).sort(), [0, 1, 2]);
  });

  it('every Client and Future method (4 ranks, rank 2 declares a GPU)', async function () {
    const r = await run(4, ['api', '1', dir]);
    assert.equal(r.code, 0, r.stderr);
    const [{ value: v }] = find(r, 'RESULT', 1);
    // pure keys de-duplicate (one execution), impure ones do not; a released key runs again
    assert.equal(v.pureSameKey, true);
    assert.equal(v.pureResult, 'pure');
    assert.equal(v.pureExecutions, 1);
    assert.equal(v.impureDistinct, true);
    assert.equal(v.impureExecutions, 2);
    assert.equal(v.pureAfterRelease, 2);
    assert.equal(v.explicitKey, 'my-key');
    assert.equal(v.incResult, 2);
    assert.equal(v.statusFinished, 'finished');
    assert.equal(v.futureRepr, '<Future: finished, type: number, key: my-key>');
    assert.match(String(v.clientRepr), /^<Client: 'commune:\/\/127\.0\.0\.1:\d+' processes=2 threads=2, memory=\d+\.\d\d GiB>$/);
    assert.equal(v.inspectIsRepr, true);
    assert.equal(v.done, true);
    assert.equal(v.chained, 32);
    assert.equal(v.typedTotal, 5);
    assert.equal(v.typedBack, 'Float64Array');
    assert.deepEqual(v.mapped, [2, 3, 4]);
    assert.deepEqual(v.mapped2, [11, 22, 33]);
    assert.equal(v.mapSharedKeys, 1);
    // errors travel with their class name and message
    assert.equal(v.exception, 'RangeError: boom');
    assert.equal(v.statusError, 'error');
    assert.equal(v.resultRaises, 'RangeError: boom');
    // JavaScript's own error classes arrive as themselves, with their own fields
    assert.equal(v.instanceOfRangeError, true);
    assert.deepEqual(v.codeField, [true, 'ENOPE']);
    assert.equal(v.traceback, true);
    assert.equal(v.gatherRaise, 'boom');
    assert.deepEqual(v.gatherSkip, [2, 3]);
    assert.deepEqual(v.gatherSkipDict, { x: 2, y: null });
    assert.equal(v.withRetries, 'ok');
    assert.equal(v.withoutRetries, 'first attempt fails');
    assert.equal(v.retried, 'ok');
    assert.equal(v.cancelled, true);
    assert.equal(v.cancelledResult, 'CancelledError');
    assert.deepEqual(v.callbacks, ['error', 'finished']);
    assert.equal(v.scatterStatus, 'finished');
    assert.equal(v.scatterUse, 3);
    assert.equal(v.scatterValue, 7);
    assert.equal(v.scatterSameKey, true);
    assert.equal(v.scatterDictKey, 'alpha');
    assert.deepEqual(v.get, [3, 6]);
    assert.equal(v.getOne, 3);
    assert.equal(v.getFutures, 42);
    assert.equal(v.waitDone, 3);
    assert.equal(v.waitNotDone, 0);
    assert.equal(v.waitTimeout, 'TimeoutError');
    assert.deepEqual(v.waitFirst, [1, 1]);
    assert.equal(v.futureTimeout, 'TimeoutError');
    assert.deepEqual(v.asCompletedOrder, [3, 2]);
    assert.deepEqual([...(v.asCompletedWithResults as number[])].sort((a, b) => a - b), [8, 9, 10]);
    assert.equal(v.asCompletedBatches, 4);
    assert.equal(v.onWorker3, 3);
    assert.equal(v.onWorkerByAddress, 2);
    assert.ok(v.allowOther === 2 || v.allowOther === 3);
    assert.deepEqual(v.gpu, [2, 2, 2, 2]);
    // a higher priority runs first even when submitted last
    assert.deepEqual(v.priorityOrder, ['high', 'low1', 'low2', 'low3']);
    assert.deepEqual(Object.values(v.run as Record<string, number>).sort(), [2, 3]);
    assert.deepEqual(v.info, { type: 'Scheduler', n_workers: 2, total_threads: 2, names: [2, 3], keyedByAddress: true });
    assert.deepEqual(find(r, 'CLOSED', 1).map((l) => l.value.closedSubmit), ['this Client is closed']);
  });

  it('a future is released when garbage collected: the scheduler forgets its key', async function () {
    const r = await run(3, ['gc', '1', dir], { nodeArgs: ['--expose-gc'] });
    assert.equal(r.code, 0, r.stderr);
    const [{ value: v }] = find(r, 'RESULT', 1);
    assert.equal(v.releasedByGc, true);
    assert.equal(v.heldStatus, 'finished');
    // 'gc' ran twice (released, so resubmitting runs it again); 'held' once (still referenced).
    assert.deepEqual([...(v.log as string[])].sort(), ['gc', 'gc', 'held']);
  });

  it('work stealing: a task queued behind a long one on a busy worker is taken by the idle worker', async function () {
    const r = await run(4, ['steal']);
    assert.equal(r.code, 0, r.stderr);
    // Without stealing one short task waits for `long` on worker 3 and runs there.
    assert.deepEqual(find(r, 'RESULT', 1).map((l) => l.value), [{ shorts: [2, 2, 2, 2], long: 3 }]);
  });

  it('a client that crashes ends every rank with a clear error (non-zero exits)', async function () {
    const r = await run(4, ['client-crash'], { keepGoing: true, reportExit: true });
    assert.deepEqual(find(r, 'EXIT').map((l) => [l.rank, l.value.code !== 0]).sort(), [[0, true], [1, true], [2, true], [3, true]], r.stderr);
    assert.match(r.stderr, /the client script crashed/);
    assert.match(r.stderr, /rank 0: the client \(rank 1\) is lost .*every rank stops/);
    for (const k of [2, 3]) assert.match(r.stderr, new RegExp(`\\[${k}\\] commune: rank ${k}: .*the client \\(rank 1\\) is lost`));
  });

  it('an unshippable function fails at submit time with how to fix it', async function () {
    const r = await run(3, ['unshippable']);
    assert.equal(r.code, 0, r.stderr);
    const errors = find(r, 'RESULT', 1)[0].value.errors as string[];
    assert.equal(errors.length, 4);
    for (const e of errors.slice(0, 3)) assert.match(e, /^UnshippableFunctionError: .*cannot be sent to a worker: functions travel by reference .* not exported from file:.*compat-script\.js .* `export` it/);
    assert.match(errors[0], /function 'local'/);
    assert.match(errors[2], /function 'hidden'/);
    assert.match(errors[3], /function 'max' cannot be sent to a worker: it is not defined in an ES module file/);
  });

  it('a worker SIGKILLed mid-run: its tasks re-run elsewhere, results correct', async function () {
    const r = await run(4, ['kill-worker', '1', join(dir, 'killed-once')], { keepGoing: true, reportExit: true });
    assert.deepEqual(find(r, 'RESULT', 1).map((l) => l.value.values), [Array.from({ length: 20 }, (_, i) => 2 * i)]);
    // exactly one rank died (a worker), by SIGKILL; every other rank exited 0
    const codes = find(r, 'EXIT').map((l) => [l.rank, l.value.code]).sort();
    assert.equal(codes.length, 4, r.stderr);
    assert.deepEqual(codes.filter(([, c]) => c !== 0).map(([k, c]) => [k === 2 || k === 3, c]), [[true, 137]]);
  });

  it('a worker SIGKILLed under plain `commune launch` (no --keep-going): the job goes on, as under Dask — the script gets every result, exit 0', async function () {
    const r = await run(4, ['kill-worker', '1', join(dir, 'killed-once')]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(find(r, 'RESULT', 1).map((l) => l.value.values), [Array.from({ length: 20 }, (_, i) => 2 * i)]);
    assert.match(r.stderr, /^commune launch: rank [23] exited with SIGKILL; it was a worker, whose tasks the scheduler runs elsewhere: the job goes on$/m);
    assert.doesNotMatch(r.stderr, /stopping the other ranks/);
  });

  it('the scheduler SIGKILLed under plain `commune launch`: not a worker — the launcher stops the job', async function () {
    const pids = new Map<number, number>();
    let killed = false;
    const r = await run(4, ['kill-scheduler'], {
      onLine: (l) => {
        if (l.tag === 'BEFORE' && !pids.has(l.rank)) pids.set(l.rank, Number(l.value.pid));
        if (l.tag === 'READY' && !killed) { killed = true; process.kill(pids.get(0)!, 'SIGKILL'); }
      },
    });
    assert.equal(r.code, 137, r.stderr);
    assert.match(r.stderr, /^commune launch: rank 0 exited with SIGKILL; stopping the other ranks$/m);
  });

  it('a SIGKILLed scheduler is an exception the script can catch (SchedulerLostError, exported); later calls raise it too; the script then ends normally', async function () {
    const pids = new Map<number, number>();
    let killed = false;
    const r = await run(4, ['catch-scheduler-loss'], {
      keepGoing: true, reportExit: true,
      onLine: (l) => {
        if (l.tag === 'BEFORE' && !pids.has(l.rank)) pids.set(l.rank, Number(l.value.pid));
        if (l.tag === 'READY' && !killed) { killed = true; process.kill(pids.get(0)!, 'SIGKILL'); }
      },
    });
    const [caught] = find(r, 'CAUGHT', 1);
    assert.ok(caught, r.stderr);
    assert.deepEqual(caught.value, { name: 'SchedulerLostError', typed: true, status: 'pending', later: 'SchedulerLostError' });
    assert.deepEqual(find(r, 'EXIT', 1).map((l) => l.value.code), [0], r.stderr);
  });

  it('KilledWorker once a task has killed 4 workers (allowed-failures = 3)', async function () {
    const r = await run(6, ['killed-worker'], { keepGoing: true, reportExit: true });
    const [res] = find(r, 'RESULT', 1);
    assert.ok(res, r.stderr);
    assert.equal(res.value.status, 'error');
    assert.equal(res.value.name, 'KilledWorker');
    assert.match(String(res.value.message), /^Attempted to run task 'killAlways-[0-9a-f]{32}' on 4 different workers, but all those workers died while running it\. The last worker that attempted to run the task was commune:/);
    assert.deepEqual(find(r, 'EXIT').map((l) => [l.rank, l.value.code]).sort(), [[0, 0], [1, 0], [2, 137], [3, 137], [4, 137], [5, 137]]);
  });

  it('a SIGKILLed scheduler: every other rank exits non-zero with a clear error within 10 s', async function () {
    let killedAt = 0;
    const pids = new Map<number, number>();
    const r = await run(4, ['kill-scheduler'], {
      keepGoing: true, reportExit: true,
      onLine: (l) => {
        if (l.tag === 'BEFORE' && !pids.has(l.rank)) pids.set(l.rank, Number(l.value.pid));
        if (l.tag === 'READY' && killedAt === 0) { killedAt = Date.now(); process.kill(pids.get(0)!, 'SIGKILL'); }
      },
    });
    assert.ok(killedAt > 0, r.stderr);
    const seconds = (r.exitedAt - killedAt) / 1000;
    console.log(`      every rank gone ${seconds.toFixed(2)} s after the scheduler's SIGKILL`);
    assert.ok(seconds < 10, `took ${seconds} s`);
    assert.equal(find(r, 'RESULT').length, 0);
    assert.deepEqual(find(r, 'EXIT').map((l) => [l.rank, l.value.code]).sort(), [[0, 137], [1, 1], [2, 1], [3, 1]]);
    for (const k of [1, 2, 3]) {
      assert.match(r.stderr, new RegExp(`rank ${k}: the scheduler \\(rank 0\\) is lost .*the cluster cannot continue without it`));
    }
  });
});
