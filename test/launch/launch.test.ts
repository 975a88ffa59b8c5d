import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const fixture = fileURLToPath(new URL('../fixtures/ring-rank.js', import.meta.url));

interface Run { code: number | null; stdout: string; stderr: string }

function commune(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(COMMUNE_|SLURM_|OMPI_|PMI_)/.test(k)));
    const child = spawn(process.execPath, [cli, ...args], { env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const lines = (s: string): string[] => s.split('\n').filter(Boolean);

describe('commune launch: real rank processes', function () {
  it('runs 4 ranks whose messages cross process boundaries, each line prefixed with its rank', async () => {
    const r = await commune(['launch', '-n', '4', '--', process.execPath, fixture, 'ring']);
    assert.equal(r.code, 0, r.stderr);
    const got = lines(r.stdout).sort();
    assert.deepEqual(got, [0, 1, 2, 3].map((k) => `[${k}] RING ${k} got ${(k + 3) % 4} ${(k + 3) % 4},${((k + 3) % 4) / 2}`).sort());
  });

  it('every rank exists before any runs: each finds all 16 of its job\'s processes on its first line of code', async () => {
    // Spawned one by one while the first ones start, the last of 256 ranks on two cores appeared half
    // a minute late, and a rank that did not exist yet looked dead to its neighbours.
    // Each rank counts, then stays until every rank has counted (a file each in a shared directory).
    const dir = mkdtempSync(join(tmpdir(), 'commune-gate-'));
    const count = `const fs = require('node:fs'); const job = process.env.COMMUNE_JOB_ID; let n = 0;
      for (const d of fs.readdirSync('/proc')) { try { if (/^\\d+$/.test(d) && fs.readFileSync('/proc/' + d + '/environ', 'latin1').includes('COMMUNE_JOB_ID=' + job + '\\0')) n++; } catch {} }
      console.log('SEE', n);
      fs.writeFileSync(process.argv[1] + '/' + process.env.COMMUNE_RANK, '');
      while (fs.readdirSync(process.argv[1]).length < 16) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);`;
    const r = await commune(['launch', '-n', '16', '--', process.execPath, '-e', count, dir]);
    rmSync(dir, { recursive: true, force: true });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(lines(r.stdout).map((l) => l.replace(/^\[\d+\] /, '')), Array(16).fill('SEE 16'), r.stdout);
  });

  it('a command that does not exist is one line and exit 127, before any rank starts', async () => {
    const r = await commune(['launch', '-n', '3', '--', 'no-such-command-here']);
    assert.equal(r.code, 127);
    assert.deepEqual(lines(r.stderr), ['commune launch: cannot start no-such-command-here: no such command (not a file, nor found on PATH)']);
  });

  it('by default stops the other ranks when one fails and exits with its code', async () => {
    const r = await commune(['launch', '-n', '3', '--', process.execPath, fixture, 'fail', '1', 'wait']);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /rank 1 exited with code 3; stopping the other ranks/);
    assert.equal(lines(r.stdout).filter((l) => l.includes('FINISHED')).length, 0, r.stdout);
  });

  it('with --keep-going lets the others finish, and still exits with the failure code', async () => {
    const r = await commune(['launch', '-n', '3', '--keep-going', '--', process.execPath, fixture, 'fail', '1']);
    assert.equal(r.code, 3);
    assert.deepEqual(lines(r.stdout).filter((l) => l.includes('FINISHED')).sort(), ['[0] FINISHED 0', '[2] FINISHED 2']);
  });

  it('--wait S (srun\'s): S seconds after the first rank ends, a rank that never will (stopped) is ended; with --keep-going the job still completes', async () => {
    const r = await commune(['launch', '-n', '3', '--keep-going', '--wait', '1', '--', 'sh', '-c', 'if [ "$COMMUNE_RANK" = 1 ]; then kill -STOP $$; fi; echo FINISHED $COMMUNE_RANK']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(lines(r.stdout).sort(), ['[0] FINISHED 0', '[2] FINISHED 2']);
    assert.match(r.stderr, /rank 1 still running 1 s after the first rank ended \(--wait\); ending it/);
    const bad = await commune(['launch', '-n', '2', '--wait', '-3', '--', 'true']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--wait must be a whole number of seconds/);
  });

  it('--nodes emulates nodes on distinct loopback addresses; info --json reports the placement', async () => {
    const r = await commune(['launch', '-n', '4', '--nodes', '2', '--', process.execPath, cli, 'info', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const infos = lines(r.stdout).map((l) => JSON.parse(l.replace(/^\[\d+\] /, ''))).sort((a, b) => a.rank - b.rank);
    assert.deepEqual(infos.map((i) => [i.rank, i.size, i.localRank, i.node, i.launcher]),
      [[0, 4, 0, 'node0', 'commune'], [1, 4, 1, 'node0', 'commune'], [2, 4, 0, 'node1', 'commune'], [3, 4, 1, 'node1', 'commune']]);
    for (const i of infos) assert.match(i.addresses[0], new RegExp(`^/ip4/127\\.0\\.1\\.${i.node === 'node0' ? 1 : 2}/tcp/`));
  });

  it('a world of one needs no launcher', async () => {
    const r = await commune(['info', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const i = JSON.parse(r.stdout);
    assert.deepEqual([i.rank, i.size, i.launcher], [0, 1, 'single']);
  });

  it('an inconsistent environment is one clear error with exit code 2', async () => {
    const r = await commune(['info'], { COMMUNE_RANK: '5', COMMUNE_SIZE: '2', COMMUNE_JOB_ID: 'x' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /COMMUNE_RANK/);
    assert.equal(r.stdout, '');
  });

  it('--interface naming a missing interface fails fast listing the available ones', async () => {
    const r = await commune(['info', '--interface', 'ib-missing0']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /interface 'ib-missing0' not found .*available: .*lo \(127\.0\.0\.1\)/);
  });

  it('a reader that goes away (`launch … | head -1`): the ranks are stopped and the launcher ends quietly with 141', async () => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(COMMUNE_|SLURM_|OMPI_|PMI_)/.test(k)));
    const child = spawn(process.execPath, [cli, 'launch', '-n', '2', '--', 'sh', '-c', 'while :; do echo line; done'], { env: clean, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    // Read until the first line, then close our end, as head does.
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    assert.equal(code, 141, stderr);
    assert.doesNotMatch(stderr, /EPIPE|Error|at /, 'no stack trace');
  });

  it('an unknown COMMUNE_LOG_LEVEL is one line and exit 2 before anything starts, said once per job', async () => {
    const r = await commune(['launch', '-n', '2', '--', process.execPath, fixture, 'ring'], { COMMUNE_LOG_LEVEL: 'bogus' });
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.deepEqual(lines(r.stderr), ["commune: COMMUNE_LOG_LEVEL='bogus' is not a log level: use one of trace, debug, info, warn, error, fatal, silent (default warn)"]);
    const rank1 = await commune(['gridsearch'], { COMMUNE_LOG_LEVEL: 'bogus', COMMUNE_RANK: '1' });
    assert.equal(rank1.code, 2);
    assert.equal(rank1.stderr, '', 'a rank other than 0 stops silently');
  });

  it('bad launcher flags are refused with exit code 2 before anything starts', async () => {
    const r = await commune(['launch', '-n', 'zero', '--', 'true']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /-n must be a positive integer/);
    // Checked in the command's action: one line each, no stack trace (was InvalidArgumentError2, exit 1).
    for (const [args, message] of [
      [['-n', '2', '--nodes', '3'], /^commune: --nodes 3 exceeds -n 2: every node needs a rank/],
      [['-n', '300', '--nodes', '300'], /^commune: --nodes 300: at most 254 emulated nodes/],
    ] as const) {
      const bad = await commune(['launch', ...args, '--', 'true']);
      assert.equal(bad.code, 2, bad.stderr);
      assert.equal(lines(bad.stderr).length, 1, bad.stderr);
      assert.match(bad.stderr, message);
    }
  });
});
