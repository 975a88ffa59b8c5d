// A rank frozen past the liveness deadline that then finds every other rank lost stops, rather than
// finish the job a second time: the others most likely gave up on it and went on (tree-agreement.ts).
// But a rank that found the others dead first and was only then held by the machine (at 4 ranks on a
// loaded 2-core machine, a 2 s hold after a SIGKILL of the other three) is the last one standing: it
// must finish. Once it stopped too, and the job delivered no result.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { launchJob, outputTail } from '../support/launched.js';

const LIVENESS_MS = 300;
const RANK = fileURLToPath(new URL('../fixtures/last-standing-rank.js', import.meta.url));

describe('the last rank standing', function () {
  this.timeout(120_000);

  it('held past the liveness deadline after the others died, it finishes alone instead of evicting itself', async () => {
    const r = await launchJob(3, [process.execPath, RANK], { env: { COMMUNE_LIVENESS_MS: String(LIVENESS_MS), HOLD_MS: String(5 * LIVENESS_MS) } });
    assert.match(r.stderr, /\[2\] both lost; held/, outputTail(r));
    assert.doesNotMatch(r.stderr, /evicted/, outputTail(r));
    const results = [...r.stdout.matchAll(/^\[(\d)\] RESULT (.*)$/gm)].map((m) => [Number(m[1]), JSON.parse(m[2]!)] as const);
    assert.deepEqual(results, [[2, { alive: [2], lost: [0, 1] }]], outputTail(r));
    assert.equal(r.code, 0, outputTail(r));
  });
});
