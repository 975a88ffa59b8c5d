// Progress rendering: plain lines at 10% steps (not a TTY), protocol lines for a relaunching driver,
// nothing when quiet; the mode chosen from --quiet, the driver's env and whether stderr is a TTY.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type { Mesh } from '../../src/mesh/mesh.js';
import { PROGRESS_PREFIX, PROGRESS_TAG, progressMode, progressParent, ProgressView, PUBLISH_EVERY_MS, SearchProgress } from '../../src/search/progress.js';
import { closeAll, startMeshes } from '../support/meshes.js';

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({ write(c: Buffer | string, _e, cb) { chunks.push(String(c)); cb(); } });
  return { stream, text: () => chunks.join('') };
}

describe('search: progress', function () {
  it('progressMode: quiet → none, relaunched → pipe, TTY → bar, else lines', () => {
    assert.equal(progressMode(true, { COMMUNE_PROGRESS_PIPE: '1' }, true), 'none');
    assert.equal(progressMode(false, { COMMUNE_PROGRESS_PIPE: '1' }, true), 'pipe');
    assert.equal(progressMode(undefined, {}, true), 'bar');
    assert.equal(progressMode(undefined, {}, false), 'lines');
  });

  it('lines: one line per 10% step reached, with an ETA until done', () => {
    const err = sink();
    const v = new ProgressView('lines', err.stream);
    for (let d = 0; d <= 20; d++) v.update(d, 20);
    const lines = err.text().trim().split('\n');
    assert.equal(lines.length, 11);
    assert.equal(lines[0], 'gridsearch: 0/20 fits (0%)');
    assert.match(lines[1], /^gridsearch: 2\/20 fits \(10%\), ETA \d+ s$/);
    assert.equal(lines[10], 'gridsearch: 20/20 fits (100%)');
  });

  it('pipe writes protocol lines to stdout; none writes nothing', () => {
    const out = sink();
    const err = sink();
    const p = new ProgressView('pipe', err.stream, out.stream);
    p.update(3, 9);
    assert.equal(out.text(), `${PROGRESS_PREFIX}3 9\n`);
    const n = new ProgressView('none', err.stream, out.stream);
    n.update(1, 2);
    assert.equal(err.text(), '');
  });

  it('SearchProgress (world of one) counts local fits and finishes at the total', () => {
    const err = sink();
    const sp = new SearchProgress(undefined, 0, 1, new ProgressView('lines', err.stream));
    sp.start(4);
    sp.add(2);
    sp.add(2);
    sp.finish();
    assert.deepEqual(err.text().trim().split('\n').map((l) => l.replace(/, ETA.*/, '')), ['gridsearch: 0/4 fits (0%)', 'gridsearch: 2/4 fits (50%)', 'gridsearch: 4/4 fits (100%)']);
  });

  it('the tree: a rank reports to itself with its lowest set bit cleared, passing over lost ranks', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7, 12].map((r) => progressParent(r)), [undefined, 0, 0, 2, 0, 4, 4, 6, 8]);
    assert.equal(progressParent(7, (r) => r === 6), 4);
    assert.equal(progressParent(7, (r) => r === 6 || r === 4), 0);
  });

  describe('reporting over a real mesh', function () {
    let meshes: Mesh[] = [];
    let sent: number[] = [];
    before(async () => {
      ({ meshes } = await startMeshes(2));
      // Record what rank 1 sends its parent; the real send still runs.
      const send = meshes[1].send.bind(meshes[1]);
      meshes[1].send = (to, tag, value) => { if (tag === PROGRESS_TAG) sent.push(value as number); return send(to, tag, value); };
    });
    beforeEach(() => { sent = []; });
    after(async () => { await closeAll(meshes); meshes = []; });

    it('a burst of fits is one message now and the latest count at the end of the interval', async () => {
      const sp = new SearchProgress(meshes[1], 1, 2, undefined);
      const t0 = performance.now();
      for (let i = 0; i < 5; i++) sp.add(1);
      assert.deepEqual(sent, [1], 'the first count goes at once, the rest wait');
      while (sent.length < 2) {
        if (performance.now() - t0 > 5000) throw new Error('the latest count was never published');
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      assert.deepEqual(sent, [1, 5]);
      assert.ok(performance.now() - t0 >= PUBLISH_EVERY_MS - 1, 'not before the interval ended');
      sp.finish();
    });

    it('a quiet job publishes nothing', () => {
      const sp = new SearchProgress(meshes[1], 1, 2, undefined, false);
      for (let i = 0; i < 5; i++) sp.add(1);
      sp.finish();
      assert.deepEqual(sent, []);
    });
  });

  it('p=6: rank 0 shows the sum of every rank\'s fits, each rank sending only to its tree parent', async () => {
    const { meshes } = await startMeshes(6);
    try {
      const to = new Map<number, Set<number>>();
      for (const m of meshes) {
        const send = m.send.bind(m);
        m.send = (peer, tag, value) => { if (tag === PROGRESS_TAG) (to.get(m.rank) ?? to.set(m.rank, new Set()).get(m.rank)!).add(peer); return send(peer, tag, value); };
      }
      const out = sink();
      const view = new ProgressView('pipe', out.stream, out.stream);
      const sps = meshes.map((m) => new SearchProgress(m, m.rank, 6, m.rank === 0 ? view : undefined));
      for (const sp of sps) sp.start(21);
      sps.forEach((sp, r) => sp.add(r + 1));
      const t0 = performance.now();
      while (!out.text().includes(`${PROGRESS_PREFIX}21 21`)) {
        if (performance.now() - t0 > 10_000) throw new Error(`rank 0 never saw all 21 fits: ${JSON.stringify(out.text())}`);
        await new Promise<void>((resolve) => setTimeout(resolve, 20));
      }
      for (const sp of sps) sp.finish();
      assert.deepEqual([...to.entries()].sort((a, b) => a[0] - b[0]).map(([r, s]) => [r, [...s]]), [[1, [0]], [2, [0]], [3, [2]], [4, [0]], [5, [4]]]);
    } finally {
      await closeAll(meshes);
    }
  });
});
