// `commune gridsearch` as real processes: 1 and 2 ranks give the same results (JSON) and the seed's
// text (the single-process example's output, byte for byte, then `Time taken`); bad input → exit 2.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../examples/digits-gridsearch.js', import.meta.url));

function run(args: string[], env: NodeJS.ProcessEnv = {}): { code: number | null; stdout: string; stderr: string; seconds: number } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 110_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, seconds: (performance.now() - t0) / 1000 };
}

/** Pids of live processes whose command line contains `text` (Linux /proc). */
function processesMentioning(text: string): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((pid) => {
    try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text); } catch { return false; }
  }).map(Number);
}

/** The JSON without what legitimately differs between runs: rank count, wall and fit/score times. */
function comparable(path: string): unknown {
  const j = JSON.parse(readFileSync(path, 'utf8')) as { mode: string; ranks: number; wall_seconds: number; scorers: Record<string, { cv_results: Record<string, unknown> }> };
  assert.equal(j.mode, 'flat');
  assert.ok(j.wall_seconds > 0);
  for (const s of Object.values(j.scorers)) for (const k of Object.keys(s.cv_results)) if (k.endsWith('_time')) delete s.cv_results[k];
  return j.scorers;
}

describe('search: commune gridsearch (processes)', function () {
  let dir = '';
  before(() => { dir = mkdtempSync(join(tmpdir(), 'commune-gridsearch-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('--ranks 1 and --ranks 2: exit 0, identical results, the seed text', function () {
    const seed = spawnSync(process.execPath, [EXAMPLE], { encoding: 'utf8' }).stdout;
    const r1 = run(['gridsearch', '--ranks', '1', '--json', join(dir, 'r1.json')]);
    assert.equal(r1.code, 0, r1.stderr);
    const r2 = run(['gridsearch', '--ranks', '2', '--json', join(dir, 'r2.json')]);
    assert.equal(r2.code, 0, r2.stderr);
    console.log(`      wall: --ranks 1 ${r1.seconds.toFixed(2)} s, --ranks 2 ${r2.seconds.toFixed(2)} s`);
    for (const r of [r1, r2]) {
      assert.match(r.stdout, /^Best parameters set found on development set:\n\n\{'C': 10, 'gamma': 0\.001, 'kernel': 'rbf'\}$/m);
      assert.match(r.stdout, /^0\.986 \(\+\/-0\.016\) for \{'C': 1, 'gamma': 0\.001, 'kernel': 'rbf'\}$/m);
      const m = /^(.*)Time taken: (\d+\.\d+)\n$/s.exec(r.stdout);
      assert.ok(m, `no final Time taken line in:\n${r.stdout.slice(-300)}`);
      assert.equal(m[1], seed);
    }
    const j1 = comparable(join(dir, 'r1.json'));
    assert.deepStrictEqual(comparable(join(dir, 'r2.json')), j1);
    const full = JSON.parse(readFileSync(join(dir, 'r2.json'), 'utf8'));
    assert.equal(full.ranks, 2);
    const p = full.scorers.precision_macro;
    assert.deepEqual(p.best_params, { C: 10, gamma: 0.001, kernel: 'rbf' });
    assert.equal(p.best_index, 0 + p.cv_results.rank_test_score.indexOf(1));
    assert.equal(p.best_score, p.cv_results.mean_test_score[p.best_index]);
    for (const k of ['params', 'mean_test_score', 'std_test_score', 'rank_test_score', 'split0_test_score', 'split4_test_score']) assert.ok(k in p.cv_results, k);
    assert.match(p.test_report, /weighted avg/);
  });

  it('--quiet prints nothing', function () {
    const r = run(['gridsearch', '--ranks', '1', '--quiet', '--grid', writeGrid('small.json', { kernel: ['linear'], C: [1] })]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
  });

  function writeGrid(name: string, content: unknown | string): string {
    const path = join(dir, name);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  }

  const bad: Array<[string, () => string[], RegExp]> = [
    ['an unreadable --grid file', () => ['--grid', join(dir, 'missing.json')], /--grid .*missing\.json: cannot read the file \(ENOENT\)/],
    ['malformed grid JSON', () => ['--grid', writeGrid('bad.json', '{"C": [1,')], /--grid .*bad\.json: not valid JSON/],
    ['an empty grid', () => ['--grid', writeGrid('empty.json', [])], /the grid is empty/],
    ['an unknown SVC parameter', () => ['--grid', writeGrid('unknown.json', { Cee: [1] })], /Cee/],
    ['an invalid SVC value', () => ['--grid', writeGrid('neg.json', { C: [-1] })], /\bC\b/],
    ['an unknown scorer', () => ['--scoring', 'precision_macro,nope'], /--scoring: unknown scorer 'nope'/],
    ['a bad --cv', () => ['--cv', 'x'], /--cv must be an integer/],
    ['cv larger than the smallest class', () => ['--cv', '500'], /--cv 500: class \d+ has only \d+ training samples/],
    ['a --test-size outside (0, 1)', () => ['--test-size', '1.5'], /--test-size must be a fraction strictly between 0 and 1/],
    ['a bad --random-state', () => ['--random-state', '-3'], /--random-state must be an integer/],
    // Output paths (issue 18): checked before any fit, not when the results are written.
    ['a --json path in a missing directory', () => ['--json', join(dir, 'no-such-dir', 'x.json')], /--json .*no-such-dir.*x\.json: the directory .*no-such-dir does not exist/],
    ['a --json path that is a directory', () => ['--json', dir], /--json .*: is a directory — name a file in it/],
    ['a --checkpoint that cannot be created', () => ['--checkpoint', '/proc/commune-no-such-dir'], /--checkpoint \/proc\/commune-no-such-dir: cannot create the directory/],
    // Inputs without bounds (issue 18): a wrong --data path read until memory ran out.
    ['--data /dev/zero (no end, no lines)', () => ['--data', '/dev/zero'], /--data \/dev\/zero:1: no line break in the first 4 MiB: not a CSV/],
    ['--data with a line of 5 MiB', () => ['--data', writeGrid('wide.csv', `1,0\n${'1,'.repeat(2.5 * 1024 * 1024)}0\n`)], /wide\.csv:2: the line is longer than 4 MiB/],
  ];
  for (const [what, args, message] of bad) {
    it(`${what} → one message, exit 2, before any work`, function () {
      // The ranks check the input themselves and the lowest one's message is relayed: bad input must
      // leave none running and nothing written. Their command lines carry this --json path.
      const json = join(dir, `never-${what.replace(/\W+/g, '-')}.json`);
      const r = run(['gridsearch', '--ranks', '2', '--json', json, ...args()]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.split('\n').filter((l) => message.test(l)).length, 1, `one message, not one per rank:\n${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.ok(!/\[\d\]/.test(r.stderr), `the error came from the ranks, not before launching:\n${r.stderr}`);
      assert.equal(existsSync(json), false, 'nothing written');
      assert.deepEqual(processesMentioning(json), [], 'no rank left running');
    });
  }

  it('impossible sizes and bad durations are one line and exit 2 before any rank starts', function () {
    for (const [args, env, message] of [
      [['gridsearch', '--ranks', '100000'], {}, /--ranks 100000: a local job starts at most 4096 ranks/],
      [['launch', '-n', '100000', '--', 'true'], {}, /-n 100000: a local launch starts at most 4096 ranks/],
      [['gridsearch', '--ranks', '1', '--quiet'], { COMMUNE_TIMEOUT_MS: 'abc' }, /COMMUNE_TIMEOUT_MS='abc' is not a positive whole number of milliseconds/],
      [['gridsearch', '--ranks', '1', '--quiet'], { COMMUNE_TIMEOUT_MS: '-5' }, /COMMUNE_TIMEOUT_MS='-5' is not a positive whole number/],
      [['info'], { COMMUNE_RANK: '0', COMMUNE_SIZE: '99999999999', COMMUNE_JOB_ID: 'x' }, /COMMUNE_SIZE=99999999999: worlds of more than 1048576 ranks are not supported/],
    ] as Array<[string[], NodeJS.ProcessEnv, RegExp]>) {
      const r = run(args, env);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.split('\n').filter((l) => message.test(l)).length, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
  });

  it('--ranks inside a launched world is refused with exit 2', function () {
    const r = run(['launch', '-n', '1', '--', process.execPath, MAIN, 'gridsearch', '--ranks', '2']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--ranks 2: this process is already one rank of a commune world of 1/);
  });
});
