// Configuration agreement and failure-instead-of-hang on real in-process meshes (3 ranks), plus the
// mesh's small publish/subscribe side channel used for progress.
import assert from 'node:assert/strict';
import { Communicator } from '../../src/collectives/communicator.js';
import type { Mesh } from '../../src/mesh/mesh.js';
import { makeSearchPlan, type TaskRecord } from '../../src/ml/index.js';
import { canonicalJson, ConfigMismatchError, configHash, mismatchMessage, type SearchConfiguration } from '../../src/search/config.js';
import { agreeOnStart } from '../../src/search/start.js';
import { flatEngine, RankFailedError } from '../../src/search/flat-engine.js';
import { closeAll, startMeshes } from '../support/meshes.js';

const BASE: SearchConfiguration = {
  grid: [{ kernel: ['rbf'], gamma: [1e-3], C: [1, 10] }], scoring: ['precision_macro'], cv: 5, testSize: 0.5, randomState: 0, data: 'ab'.repeat(32), svmBackend: 'smo',
};

describe('search: configuration agreement and failures', function () {
  it('the hash is canonical (key order does not matter) and covers every field', () => {
    assert.equal(canonicalJson({ b: 1, a: [2, { d: 3, c: 4 }] }), '{"a":[2,{"c":4,"d":3}],"b":1}');
    const reordered: SearchConfiguration = { ...BASE, grid: [{ C: [1, 10], gamma: [1e-3], kernel: ['rbf'] }] };
    assert.equal(configHash(reordered), configHash(BASE));
    const variants: Array<Partial<SearchConfiguration>> = [
      { grid: [{ kernel: ['rbf'], gamma: [1e-3], C: [1, 100] }] }, { scoring: ['recall_macro'] }, { cv: 3 }, { testSize: 0.25 }, { randomState: 1 }, { data: 'cd'.repeat(32) }, { svmBackend: 'ml-svm' },
    ];
    const hashes = new Set([configHash(BASE), ...variants.map((v) => configHash({ ...BASE, ...v }))]);
    assert.equal(hashes.size, variants.length + 1);
  });

  it('mismatchMessage names the differing ranks against rank 0', () => {
    const a = { hash: 'a'.repeat(64), summary: 'cv=5' };
    const b = { hash: 'b'.repeat(64), summary: 'cv=3' };
    assert.equal(mismatchMessage([a, a, a]), undefined);
    const m = mismatchMessage([a, b, a, b])!;
    assert.match(m, /^configuration mismatch: ranks 1, 3 were started with a different configuration from ranks 0, 2/);
    assert.match(m, /ranks 1, 3: cv=3/);
  });

  describe('p=3', function () {
    let meshes: Mesh[] = [];
    let comms: Communicator[] = [];
    beforeEach(async () => {
      ({ meshes } = await startMeshes(3));
      // A long deadline: the tests below must finish by agreement, never by a timeout.
      comms = meshes.map((m) => new Communicator(m, { timeoutMs: 600_000 }));
    });
    afterEach(async () => { await closeAll(meshes); meshes = []; });

    it('agreeOnStart: equal configurations agree on one hash on every rank', async () => {
      const starts = await Promise.all(comms.map((c) => agreeOnStart(c, { ...BASE })));
      for (const s of starts) assert.deepEqual(s, { hash: configHash(BASE), alive: [0, 1, 2], done: [] });
    });

    it('agreeOnStart: one rank with a different --cv stops every rank with the same message naming it', async () => {
      const results = await Promise.allSettled(comms.map((c) => agreeOnStart(c, c.rank === 1 ? { ...BASE, cv: 3 } : BASE)));
      const messages = results.map((r) => {
        assert.equal(r.status, 'rejected');
        const e = (r as PromiseRejectedResult).reason as Error;
        assert.ok(e instanceof ConfigMismatchError);
        assert.equal((e as ConfigMismatchError).exitCode, 2);
        return e.message;
      });
      assert.equal(new Set(messages).size, 1, 'every rank reports the same message');
      assert.match(messages[0], /rank 1 was started with a different configuration from ranks 0, 2/);
      assert.match(messages[0], /cv=3/);
    });

    it('a rank whose fits throw: every rank fails with the same error naming it, no rank waits for the deadline', async () => {
      const plan = makeSearchPlan({ candidates: [{ C: 1 }, { C: 2 }, { C: 3 }], nSplits: 3, scoring: ['a'] });
      const fake = (gids: readonly number[]): TaskRecord[] =>
        gids.flatMap((g) => plan.groups[g].tasks.map((t) => ({ task: t, scores: Float64Array.of(t), fitTime: 0, scoreTime: 0 })));
      const results = await Promise.allSettled(comms.map((c) => flatEngine(c)(plan, (gids) => {
        if (c.rank === 1) throw new Error('solver exploded');
        return fake(gids);
      })));
      const messages = results.map((r) => {
        assert.equal(r.status, 'rejected');
        const e = (r as PromiseRejectedResult).reason as Error;
        assert.ok(e instanceof RankFailedError, String(e));
        return e.message;
      });
      assert.equal(new Set(messages).size, 1);
      assert.match(messages[0], /grid search failed on rank 1: rank 1: solver exploded/);
      // The world is still usable afterwards: the failure was agreed, not a broken collective.
      const ok = await Promise.all(comms.map((c) => flatEngine(c)(plan, fake)));
      for (const recs of ok) assert.deepEqual(recs.map((r) => r.task), plan.tasks.map((t) => t.id));
    });

    it('check: round 0\'s agreement finds a configuration mismatch; every rank stops with the same message, no results', async () => {
      const plan = makeSearchPlan({ candidates: [{ C: 1 }, { C: 2 }], nSplits: 3, scoring: ['a'] });
      const fake = (gids: readonly number[]): TaskRecord[] =>
        gids.flatMap((g) => plan.groups[g].tasks.map((t) => ({ task: t, scores: Float64Array.of(t), fitTime: 0, scoreTime: 0 })));
      const check = (c: SearchConfiguration): { hash: string; summary: string } => ({ hash: configHash(c), summary: `cv=${c.cv}` });
      const results = await Promise.allSettled(comms.map((c) => flatEngine(c, { check: check(c.rank === 2 ? { ...BASE, cv: 3 } : BASE) })(plan, fake)));
      const messages = results.map((r) => {
        assert.equal(r.status, 'rejected');
        const e = (r as PromiseRejectedResult).reason as Error;
        assert.ok(e instanceof ConfigMismatchError, String(e));
        return e.message;
      });
      assert.equal(new Set(messages).size, 1);
      assert.match(messages[0], /rank 2 was started with a different configuration from ranks 0, 1/);
      // Equal configurations pass the same check.
      const ok = await Promise.all(comms.map((c) => flatEngine(c, { check: check(BASE) })(plan, fake)));
      for (const recs of ok) assert.deepEqual(recs.map((r) => r.task), plan.tasks.map((t) => t.id));
    });

    it('joining: every rank runs its share before its mesh is handed over; the agreement then completes', async () => {
      const plan = makeSearchPlan({ candidates: [{ C: 1 }, { C: 2 }], nSplits: 3, scoring: ['a'] });
      let ran = 0;
      let handOver!: () => void;
      const allRan = new Promise<void>((resolve) => { handOver = resolve; });
      // Asynchronous like the fit thread's runner.
      const fake = async (gids: readonly number[]): Promise<TaskRecord[]> =>
        gids.flatMap((g) => plan.groups[g].tasks.map((t) => ({ task: t, scores: Float64Array.of(t), fitTime: 0, scoreTime: 0 })));
      const out = await Promise.all(comms.map((c) => flatEngine({ rank: c.rank, size: c.size, timeoutMs: c.timeoutMs, joining: allRan.then(() => c.mesh) }, {
        onExchange: () => { if (++ran === comms.length) handOver(); },
      })(plan, fake)));
      assert.equal(ran, 3);
      for (const recs of out) assert.deepEqual(recs.map((r) => r.task), plan.tasks.map((t) => t.id));
    });

    it('joining: a join that fails stops the fits with its error', async () => {
      const plan = makeSearchPlan({ candidates: [{ C: 1 }, { C: 2 }, { C: 3 }], nSplits: 3, scoring: ['a'] });
      const joining = Promise.reject(new Error('no route to rank 1'));
      let groups = 0;
      await assert.rejects(flatEngine({ rank: 0, size: 2, joining }, {})(plan, (gids) => {
        groups++;
        return gids.flatMap((g) => plan.groups[g].tasks.map((t) => ({ task: t, scores: Float64Array.of(t), fitTime: 0, scoreTime: 0 })));
      }), /no route to rank 1/);
      assert.equal(groups, 1, 'the share stops after the group during which the join failed');
    });

    it('a checkpoint\'s records are not re-run, on any rank; partly recorded groups are', async () => {
      const plan = makeSearchPlan({ candidates: [{ C: 1 }, { C: 2 }], nSplits: 3, scoring: ['a'] });
      const fake = (gids: readonly number[]): TaskRecord[] =>
        gids.flatMap((g) => plan.groups[g].tasks.map((t) => ({ task: t, scores: Float64Array.of(t * 2), fitTime: 0, scoreTime: 0 })));
      const all = fake(plan.groups.map((g) => g.id)).sort((a, b) => a.task - b.task);
      const doneGroup = plan.groups[0];
      const done = all.filter((r) => doneGroup.tasks.includes(r.task));
      const ran: number[][] = [];
      const stats = comms.map(() => ({ fitsRun: -1, fitsReused: -1 }));
      const out = await Promise.all(comms.map((c) => flatEngine(c, { done, stats: stats[c.rank] })(plan, (gids) => { ran.push([...gids]); return fake(gids); })));
      assert.ok(!ran.flat().includes(doneGroup.id));
      assert.equal(ran.flat().length, plan.groups.length - 1);
      for (const recs of out) assert.deepStrictEqual(recs, all);
      for (const s of stats) assert.deepEqual(s, { fitsRun: all.length - done.length, fitsReused: done.length, fitsRedone: 0, lost: [], alive: [0, 1, 2] });
    });

    it('Mesh.publish / subscribe deliver a side-channel message with the sender rank', async () => {
      const got = new Promise<[number, Uint8Array]>((resolve) => {
        const off = meshes[0].subscribe('test/topic', (rank, data) => { off(); resolve([rank, data]); });
      });
      // Gossipsub needs the subscription to propagate first; publish until it is delivered.
      let delivered = false;
      void got.then(() => { delivered = true; });
      while (!delivered) {
        await meshes[2].publish('test/topic', Uint8Array.of(7, 8));
        await Promise.race([got, new Promise((r) => setTimeout(r, 100))]);
      }
      const [rank, data] = await got;
      assert.equal(rank, 2);
      assert.deepEqual(Array.from(data), [7, 8]);
    });
  });
});
