// The co-ordinator's pure pieces, in-process: priority order, Dask's intervals, keyword-style
// options, function references, future markers, batching.
import assert from 'node:assert/strict';
import { PriorityHeap } from '../../compat/heap.js';
import { heartbeatIntervalMs, workerTtlMs, ALLOWED_FAILURES } from '../../compat/heartbeat.js';
import { splitOptions, tokenize } from '../../compat/client.js';
import { resolveRef, taskRef } from '../../compat/task-ref.js';
import { svcFitScoreGroup } from '../../compat/builtins.js';
import { fillFutures, markFutures } from '../../compat/serialize.js';
import { Batcher, unpack } from '../../compat/protocol.js';
import { UnshippableFunctionError } from '../../compat/errors.js';

export function exportedTask(x: number): number { return x * 3; }
function privateTask(x: number): number { return x; }

describe('compat: units', () => {
  it('the queue pops by (-user priority, generation, submission order)', () => {
    const h = new PriorityHeap<{ prio: number[]; id: string }>();
    const items = [{ prio: [0, 1, 0], id: 'a' }, { prio: [-10, 2, 5], id: 'high' }, { prio: [0, 1, 1], id: 'b' }, { prio: [0, 0, 9], id: 'older' }, { prio: [1, 0, 0], id: 'low' }];
    for (const x of items) h.push(x);
    const out: string[] = [];
    while (h.size > 0) out.push(h.pop()!.id);
    assert.deepEqual(out, ['high', 'older', 'a', 'b', 'low']);
  });

  it("Dask's heartbeat intervals, worker-ttl and allowed-failures", () => {
    assert.deepEqual([1, 10, 11, 49, 50, 199, 400].map(heartbeatIntervalMs), [500, 500, 1000, 1000, 2000, 2000, 3000]);
    assert.equal(workerTtlMs(4), 300_000);
    assert.equal(ALLOWED_FAILURES, 3);
  });

  it('a trailing object of option names is the options; anything else is an argument', () => {
    assert.deepEqual(splitOptions([1, { pure: false, key: 'k' }], new Set(['pure', 'key'])), [[1], { pure: false, key: 'k' }]);
    assert.deepEqual(splitOptions([1, { other: 2 }], new Set(['pure'])), [[1, { other: 2 }], {}]);
    assert.deepEqual(splitOptions([{}], new Set(['pure'])), [[{}], {}]);
    assert.equal(tokenize('a', 'b'), tokenize('a', 'b'));
    assert.notEqual(tokenize('a', 'b'), tokenize('ab', ''));
  });

  it('functions travel as module URL + export name; others are refused with how to fix it', async () => {
    const ref = taskRef(exportedTask);
    assert.ok('module' in ref && ref.module.endsWith('/test/compat/units.test.js') && ref.name === 'exportedTask');
    assert.equal((await resolveRef(ref))(2), 6);
    assert.deepEqual(taskRef(svcFitScoreGroup), { builtin: 'commune.svc-fit-score-group' });
    assert.throws(() => taskRef(privateTask), (e: Error) => e instanceof UnshippableFunctionError && /not exported from .*units\.test\.js .*`export` it/.test(e.message));
    const y = 2;
    assert.throws(() => taskRef((x: number) => x + y), UnshippableFunctionError);
    assert.throws(() => taskRef(Math.min), /not defined in an ES module file/);
    assert.throws(() => taskRef(42), /must be a function/);
  });

  it('futures inside arguments become markers and come back as values', () => {
    class F { constructor(readonly key: string) {} }
    const deps = new Set<string>();
    const marked = markFutures([1, new F('x'), { a: [new F('y')], t: Float64Array.of(1) }], (v) => (v instanceof F ? v.key : undefined), deps);
    assert.deepEqual([...deps], ['x', 'y']);
    const back = fillFutures(marked, (k) => `value of ${k}`) as unknown[];
    assert.deepEqual(back.slice(0, 2), [1, 'value of x']);
    assert.deepEqual((back[2] as { a: string[] }).a, ['value of y']);
    assert.ok((back[2] as { t: unknown }).t instanceof Float64Array);
  });

  it('ops pushed in one turn travel as one MessagePack message per peer', async () => {
    const sent: Array<[number, unknown[]]> = [];
    let flushed!: () => void;
    const both = new Promise<void>((r) => { flushed = r; });
    const b = new Batcher<{ op: string; i: number }>((rank, bytes) => { sent.push([rank, unpack(bytes)]); if (sent.length === 2) flushed(); });
    for (let i = 0; i < 1000; i++) b.push(i % 2, { op: 'x', i });
    assert.equal(sent.length, 0, 'nothing leaves before the turn ends');
    await both;
    assert.deepEqual(sent.map(([r, ops]) => [r, ops.length]).sort(), [[0, 500], [1, 500]]);
    assert.deepEqual((sent.find(([r]) => r === 1)![1] as Array<{ i: number }>).slice(0, 2).map((o) => o.i), [1, 3]);
  });
});
