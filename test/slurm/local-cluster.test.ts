// slurm/local-cluster.sh on a running cluster: `up` again is a no-op (same daemon pids), `status` says
// what runs and exits 0, and the nodes' names resolve to their own loopback addresses.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv, clusterUnavailable, ROOT } from './support.js';

const SCRIPT = join(ROOT, 'slurm', 'local-cluster.sh');
const STATE = process.env.COMMUNE_SLURM_STATE ?? '/var/tmp/commune-slurm';
const PID_FILES = ['slurmctld.pid', 'slurmd.n1.pid', 'slurmd.n2.pid', 'slurmd.n3.pid'];

const pids = (): string[] => PID_FILES.map((f) => readFileSync(join(STATE, f), 'utf8').trim());

describe('slurm: slurm/local-cluster.sh', function () {
  this.timeout(180_000);

  before(function () {
    const why = clusterUnavailable();
    if (why) { console.log(`      skipped: ${why}`); this.skip(); } // skipped: reason printed
    if (process.getuid?.() !== 0) { console.log('      skipped: slurm/local-cluster.sh needs root'); this.skip(); } // skipped: reason printed
  });

  it('up on a running cluster starts nothing again; status lists every daemon and exits 0', function () {
    const before = pids();
    const up = spawnSync(SCRIPT, ['up'], { encoding: 'utf8', env: cleanEnv(), timeout: 120_000 });
    assert.equal(up.status, 0, up.stderr);
    assert.doesNotMatch(up.stderr, /started|stopped/, up.stderr);
    assert.deepEqual(pids(), before);
    const st = spawnSync(SCRIPT, ['status'], { encoding: 'utf8', env: cleanEnv(), timeout: 60_000 });
    assert.equal(st.status, 0, st.stdout + st.stderr);
    for (const d of ['munged', 'slurmctld', 'slurmd n1', 'slurmd n2', 'slurmd n3']) assert.match(st.stdout, new RegExp(`^${d}: running`, 'm'));
  });

  it('each node name resolves to its own loopback address', async function () {
    const addrs = await Promise.all(['n1', 'n2', 'n3'].map(async (n) => (await lookup(n, { family: 4 })).address));
    assert.deepEqual(addrs, ['127.0.1.1', '127.0.1.2', '127.0.1.3']);
  });
});
