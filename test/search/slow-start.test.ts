// A world of hundreds of ranks on a few cores starts over tens of seconds, so a rank may still be
// starting when its tree neighbours already wait on it in the first agreement. Its silence then proves
// nothing: it is waited for until the start-up deadline, never evicted for it (once, every other rank
// evicted the late one and it went on alone).
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { launchJob, outputTail } from '../support/launched.js';

const LIVENESS_MS = 300;
const RANK = fileURLToPath(new URL('../fixtures/late-start-rank.js', import.meta.url));

describe('a rank that starts late', function () {
  this.timeout(120_000);

  it('starting ten liveness deadlines after the others, it is waited for, not evicted: every rank agrees on all four', async () => {
    // Rank 2 is the parent of rank 3 in the binomial tree: rank 3 waits on it from the first agreement.
    // The delay is the fault under test (a slow start), not a synchronisation.
    const late = `[ "$COMMUNE_RANK" = 2 ] && sleep ${(10 * LIVENESS_MS) / 1000}; exec "${process.execPath}" "${RANK}"`;
    const r = await launchJob(4, ['sh', '-c', late], { env: { COMMUNE_LIVENESS_MS: String(LIVENESS_MS) } });
    assert.equal(r.code, 0, outputTail(r));
    const results = [...r.stdout.matchAll(/^\[(\d)\] RESULT (.*)$/gm)].map((m) => [Number(m[1]), JSON.parse(m[2]!)] as const).sort((a, b) => a[0] - b[0]);
    assert.deepEqual(results, [0, 1, 2, 3].map((rank) => [rank, { alive: [0, 1, 2, 3], lost: [] }]), outputTail(r));
    assert.doesNotMatch(r.stderr, /rank lost|evicted/, outputTail(r));
  });

  it('starting past the start-up deadline, it is waited for while its process runs on this node: every rank agrees on all four', async () => {
    // 256 ranks on two cores take longer than the default deadline to start; once, the last ones were
    // evicted for it. Here the deadline is 1 s and rank 2 starts 3 s late.
    const late = `[ "$COMMUNE_RANK" = 2 ] && sleep 3; exec "${process.execPath}" "${RANK}"`;
    const r = await launchJob(4, ['sh', '-c', late], { env: { COMMUNE_LIVENESS_MS: String(LIVENESS_MS), COMMUNE_STARTUP_TIMEOUT_MS: '1000' } });
    assert.equal(r.code, 0, outputTail(r));
    const results = [...r.stdout.matchAll(/^\[(\d)\] RESULT (.*)$/gm)].map((m) => [Number(m[1]), JSON.parse(m[2]!)] as const).sort((a, b) => a[0] - b[0]);
    assert.deepEqual(results, [0, 1, 2, 3].map((rank) => [rank, { alive: [0, 1, 2, 3], lost: [] }]), outputTail(r));
    assert.doesNotMatch(r.stderr, /rank lost|evicted/, outputTail(r));
  });
});
