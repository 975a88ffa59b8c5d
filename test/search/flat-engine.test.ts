// The flat engine on real in-process meshes of p = 1, 2, 3 ranks gives cv_results_, best_index_ and
// best_params_ bit-identical to the single-process GridSearchCV on the seed workload, on every rank.
import assert from 'node:assert/strict';
import { Communicator } from '../../src/collectives/communicator.js';
import type { Mesh } from '../../src/mesh/mesh.js';
import { assignGroups, GridSearchCV, loadDigits, makeSearchPlan, SVC, trainTestSplit, type Matrix, type TaskRecord } from '../../src/ml/index.js';
import { flatEngine, packRecords, takeRecords } from '../../src/search/flat-engine.js';
import { closeAll, startMeshes } from '../support/meshes.js';

const GRID = [
  { kernel: ['rbf'], gamma: [1e-3, 1e-4], C: [1, 10, 100, 1000] },
  { kernel: ['linear'], C: [1, 10, 100, 1000] },
];

describe('search: flat engine', function () {
  const digits = loadDigits();
  const [XTrain, XTest, yTrain] = trainTestSplit(digits.data, digits.target, { testSize: 0.5, randomState: 0 }) as [Matrix, Matrix, Int32Array, Int32Array];
  // A zero clock makes the timing columns deterministic too, so the whole cv_results_ is comparable.
  const clock = (): number => 0;
  const baseline: Record<string, GridSearchCV> = {};

  before(async () => {
    for (const scoring of ['precision_macro', 'recall_macro']) {
      baseline[scoring] = await new GridSearchCV(new SVC(), GRID, { scoring, clock }).fit(XTrain, yTrain);
    }
    assert.deepEqual(baseline.precision_macro.bestParams_, { C: 10, gamma: 0.001, kernel: 'rbf' });
  });

  it('packs records compactly and takes them back exactly, refusing duplicates and tasks outside the plan', () => {
    const plan = makeSearchPlan({ candidates: [{ C: 1 }, { C: 2 }], nSplits: 2, scoring: ['a', 'b'] });
    const recs: TaskRecord[] = plan.tasks.map((t) => ({ task: t.id, scores: Float64Array.of(t.id / 3, -0), fitTime: 0.1 * t.id, scoreTime: 1e-300 }));
    recs[1].error = 'boom';
    const known = new Map<number, TaskRecord>();
    const taken = takeRecords(plan, [[0, packRecords([recs[2], recs[0]], 2)], [1, packRecords([recs[3], recs[1]], 2)]], known);
    assert.deepEqual(taken, [2, 0, 3, 1]);
    assert.deepStrictEqual([...known.values()].sort((a, b) => a.task - b.task), recs);
    assert.throws(() => takeRecords(plan, [[0, packRecords(recs, 2)], [1, packRecords([recs[0]], 2)]], new Map()), /task 0 was run by ranks 0 and 1/);
    assert.throws(() => takeRecords(plan, [[3, packRecords([{ ...recs[0], task: 99 }], 2)]], new Map()), /rank 3 sent a record for task 99, which is not in the plan/);
  });

  for (const p of [1, 2, 3]) {
    describe(`p=${p}`, function () {
      let meshes: Mesh[] = [];
      let comms: Communicator[] = [];
      before(async () => {
        ({ meshes } = await startMeshes(p));
        comms = meshes.map((m) => new Communicator(m));
      });
      after(async () => { await closeAll(meshes); meshes = []; });

      for (const scoring of ['precision_macro', 'recall_macro']) {
        it(`${scoring}: cv_results_, best_index_, best_params_ and predictions bit-identical to the single-process engine on every rank`, async () => {
          const assigned: number[][] = [];
          const searches = await Promise.all(comms.map((c) =>
            new GridSearchCV(new SVC(), GRID, { scoring, clock, engine: flatEngine(c, { onAssigned: (g) => { assigned[c.rank] = [...g]; } }) }).fit(XTrain, yTrain)));
          const base = baseline[scoring];
          // Each rank ran exactly its share of the plan.
          assert.deepStrictEqual(assigned, assignGroups(base.plan_!, p));
          const want = base.predict(XTest);
          for (const s of searches) {
            assert.deepStrictEqual(s.cvResults_, base.cvResults_);
            assert.deepStrictEqual(s.records_, base.records_);
            assert.equal(s.bestIndex_, base.bestIndex_);
            assert.deepStrictEqual(s.bestParams_, base.bestParams_);
            assert.ok(Object.is(s.bestScore_, base.bestScore_));
            assert.deepStrictEqual(s.predict(XTest), want);
          }
        });
      }

      it('multi-metric search (one plan for both scorers) equals the single-metric searches, score for score', async () => {
        const searches = await Promise.all(comms.map((c) =>
          new GridSearchCV(new SVC(), GRID, { scoring: ['precision_macro', 'recall_macro'], refit: false, clock, engine: flatEngine(c) }).fit(XTrain, yTrain)));
        for (const s of searches) {
          for (const name of ['precision_macro', 'recall_macro']) {
            const b = baseline[name].cvResults_!;
            for (const k of ['mean_test', 'std_test', 'rank_test', ...[0, 1, 2, 3, 4].map((i) => `split${i}_test`)]) {
              assert.deepStrictEqual(s.cvResults_![`${k}_${name}`], b[`${k}_score`], `${k}_${name}`);
            }
          }
          assert.deepStrictEqual(s.cvResults_, searches[0].cvResults_);
        }
      });
    });
  }
});
