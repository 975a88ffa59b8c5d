// Compare our hostlist code with the real `scontrol` when Slurm's client is installed (Debian: slurm-client).
// scontrol needs no running cluster for `show hostnames` / `show hostlist`, but it does need a configuration
// source, so the test writes a two-line slurm.conf into a temporary directory and points SLURM_CONF at it.

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compressHostlist, expandHostlist } from '../../topology/index.js';

const EXPAND_CASES = [
  'x[098-101]',
  'a[1-2]b[3-4]',
  'a[1-2]b[3-4]c[5-6]',
  'a[1-2]b[3-4]c[5-6]d[7-8]',
  'n[01-03,7]',
  'gpu-[001-003],login1',
  'n[01-3]',
  'n[1-03]',
  'n[0001-3]',
  'n[9-11]',
  'n[998-1001]',
  'n[5,1,3]',
  'n[1-2],n[2-3]',
  'n[1-2,01-02]',
  'a,b,a',
  'n[1-2] m1',
  '[1-3]',
  'n1[0-2]',
  'rack[1-2]-node[01-02]',
  'n[1-2]-[3-4]',
  ',a,,b',
  'node.example.com,n[000-002]',
];

const COMPRESS_CASES = [
  'n1,n2,n3',
  'n3,n2,n1',
  'n1,n3,n2',
  'b1,a1,b2',
  'n01,n02,n1,n2',
  'n1,n01',
  'n1,n1,n2',
  'n9,n10,n11',
  'n09,n10,n11',
  'n9,n010',
  'n009,n10',
  'n99,n100',
  'n099,n0100',
  'n8,n9,n010',
  'n0,n00,n000',
  'n10,n11,n012',
  'n1,n2,n4,n5,n7',
  'n1,m1,n2',
  'login1,gpu-001,gpu-002,gpu-003',
  'a1,a2,b1,b2,a3',
  'a,a',
  'n,n1',
  '1,2,3',
  'n-1,n-2',
  'n1.a,n2.a',
  'a1b3,a1b4,a2b3,a2b4',
  'x098,x099,x100,x101',
  'n12345678901,n12345678902',
];

// Inputs scontrol rejects too ("Invalid hostlist"), so both sides agree they are errors.
const INVALID_CASES = ['n[3-1]', 'n[a-b]', 'n[]', 'n[1-2]-x', 'x[1,2]y', 'n[[1]]', 'n[1-2-3]', 'n[1-65537]'];

describe('topology/hostlist against real scontrol', function () {
  let dir = '';
  let env: NodeJS.ProcessEnv = {};

  before(function () {
    if (spawnSync('scontrol', ['--version'], { encoding: 'utf8' }).error) {
      console.log('      skipped: scontrol not installed (apt-get install slurm-client to run these comparisons)'); this.skip(); // skipped: reason printed
    }
    dir = mkdtempSync(join(tmpdir(), 'commune-scontrol-'));
    writeFileSync(join(dir, 'slurm.conf'), 'ClusterName=commune-test\nSlurmctldHost=localhost\n');
    env = { ...process.env, SLURM_CONF: join(dir, 'slurm.conf') };
    const probe = spawnSync('scontrol', ['show', 'hostnames', 'n[1-2]'], { encoding: 'utf8', env });
    if (probe.status !== 0 || probe.stdout.trim() !== 'n1\nn2') {
      console.log(`      skipped: scontrol is installed but does not work here: ${(probe.stderr || probe.stdout).trim()}`); this.skip(); // skipped: reason printed
    }
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const scontrol = (...args: string[]): string => execFileSync('scontrol', args, { encoding: 'utf8', env }).trim();

  it('expands like `scontrol show hostnames`', () => {
    for (const expr of EXPAND_CASES) {
      const expected = scontrol('show', 'hostnames', expr).split('\n').filter((s) => s !== '');
      assert.deepEqual(expandHostlist(expr), expected, expr);
    }
  });

  it('compresses like `scontrol show hostlist`', () => {
    for (const list of COMPRESS_CASES) {
      assert.equal(compressHostlist(list.split(',')), scontrol('show', 'hostlist', list), list);
    }
  });

  it('rejects what scontrol rejects', () => {
    for (const expr of INVALID_CASES) {
      const out = spawnSync('scontrol', ['show', 'hostnames', expr], { encoding: 'utf8', env });
      assert.match(`${out.stdout}${out.stderr}`, /Invalid hostlist/, `scontrol accepted ${expr}`);
      assert.throws(() => expandHostlist(expr), { name: 'TopologyError' }, expr);
    }
  });

  it('round-trips scontrol-compressed lists through our expansion', () => {
    for (const expr of EXPAND_CASES) {
      const names = scontrol('show', 'hostnames', expr).split('\n').filter((s) => s !== '');
      if (names.length === 0) continue;
      assert.deepEqual(expandHostlist(scontrol('show', 'hostlist', names.join(','))), names, expr);
    }
  });
});
