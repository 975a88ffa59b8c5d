// `commune gridsearch` as real processes: --ranks 3 equals --ranks 1; configuration mismatch across
// launched ranks; --checkpoint (re-run at another rank count runs zero fits, resume from a partial
// checkpoint, a different configuration refused); --data; --svm-backend; progress lines on stderr.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { loadDigits } from '../../src/ml/index.js';
import { decodeRecordLine, encodeRecordLine, readCheckpoint } from '../../src/search/checkpoint.js';
import { parseCsvDataset } from '../../src/search/dataset.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function run(args: string[], env: NodeJS.ProcessEnv = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 110_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Out { mode: string; ranks: number; wall_seconds: number; fits_run: number; fits_reused: number; scorers: Record<string, { cv_results: Record<string, unknown> }> }

function readJson(path: string): Out {
  return JSON.parse(readFileSync(path, 'utf8')) as Out;
}

/** The results without what legitimately differs between runs: ranks, wall, fit/score times, fit counts. */
function comparable(path: string): unknown {
  const j = readJson(path);
  for (const s of Object.values(j.scorers)) for (const k of Object.keys(s.cv_results)) if (k.endsWith('_time')) delete s.cv_results[k];
  return j.scorers;
}

const withoutTime = (s: string): string => s.replace(/Time taken: \d+\.\d+\n$/, '');

describe('search: commune gridsearch features (processes)', function () {
  let dir = '';
  before(() => { dir = mkdtempSync(join(tmpdir(), 'commune-gsf-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('--ranks 3 and --ranks 5 give results identical to --ranks 1; plain progress lines on stderr (not a TTY)', function () {
    const r1 = run(['gridsearch', '--ranks', '1', '--json', join(dir, 'p1.json')]);
    assert.equal(r1.code, 0, r1.stderr);
    for (const p of [3, 5]) {
      const r = run(['gridsearch', '--ranks', String(p), '--json', join(dir, `p${p}.json`)]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepStrictEqual(comparable(join(dir, `p${p}.json`)), comparable(join(dir, 'p1.json')));
      assert.equal(withoutTime(r.stdout), withoutTime(r1.stdout));
      assert.equal(readJson(join(dir, `p${p}.json`)).ranks, p);
      assert.equal(readJson(join(dir, `p${p}.json`)).fits_run, 60);
      for (const x of [r1, r]) {
        assert.match(x.stderr, /^gridsearch: 0\/60 fits \(0%\)$/m);
        assert.match(x.stderr, /^gridsearch: 60\/60 fits \(100%\)$/m);
        assert.ok(!x.stdout.includes('fits'), 'progress never goes to stdout');
      }
    }
  });

  it('--json follows the documented schema with scikit-learn\'s key names', function () {
    const j = JSON.parse(readFileSync(join(dir, 'p5.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(j).sort(), ['fits_redone', 'fits_reused', 'fits_run', 'lost_ranks', 'mode', 'printed_by', 'ranks', 'scorers', 'wall_seconds']);
    assert.deepEqual([j.mode, j.ranks, j.lost_ranks, j.printed_by, j.fits_redone], ['flat', 5, [], 0, 0]);
    assert.ok(typeof j.wall_seconds === 'number' && j.wall_seconds > 0);
    const scorers = j.scorers as Record<string, Record<string, unknown>>;
    assert.deepEqual(Object.keys(scorers), ['precision_macro', 'recall_macro']);
    for (const s of Object.values(scorers)) {
      assert.deepEqual(Object.keys(s).sort(), ['best_index', 'best_params', 'best_score', 'cv_results', 'test_report']);
      const cv = s.cv_results as Record<string, unknown[]>;
      const folds = Array.from({ length: 5 }, (_, i) => `split${i}_test_score`);
      assert.deepEqual(Object.keys(cv).sort(), [...folds, 'mean_fit_time', 'mean_score_time', 'mean_test_score', 'param_C', 'param_gamma', 'param_kernel', 'params',
        'rank_test_score', 'std_fit_time', 'std_score_time', 'std_test_score'].sort());
      for (const v of Object.values(cv)) assert.equal(v.length, 12);
      assert.equal(cv.rank_test_score[s.best_index as number], 1);
      assert.equal(s.best_score, cv.mean_test_score[s.best_index as number]);
      assert.deepEqual(s.best_params, cv.params[s.best_index as number]);
      assert.match(s.test_report as string, /^ +precision +recall +f1-score +support\n/);
    }
  });

  it('--quiet prints no progress', function () {
    const r = run(['gridsearch', '--ranks', '2', '--quiet', '--json', join(dir, 'q.json')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.ok(!/fits/.test(r.stderr), r.stderr);
  });

  it('launched ranks with different --cv all stop with the same mismatch message, exit 2', function () {
    const script = `if [ "$COMMUNE_RANK" = 1 ]; then CV=3; else CV=5; fi; exec "${process.execPath}" "${MAIN}" gridsearch --quiet --cv $CV`;
    const r = run(['launch', '-n', '2', '--keep-going', '--', 'sh', '-c', script]);
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.split('\n').filter((l) => /configuration mismatch/.test(l));
    assert.equal(lines.length, 2, r.stderr);
    assert.deepEqual(lines.map((l) => l.replace(/^\[\d\] /, '')), [lines[0].replace(/^\[\d\] /, ''), lines[0].replace(/^\[\d\] /, '')]);
    assert.match(lines[0], /commune: configuration mismatch: rank 1 was started with a different configuration from rank 0/);
    assert.match(r.stderr, /rank 1: .*cv=3/);
    assert.equal(r.stdout, '');
  });

  it('a rank whose fits throw: every rank (real processes) stops at once with the same error naming it', function () {
    const fixture = fileURLToPath(new URL('../fixtures/failing-search-rank.js', import.meta.url));
    const r = run(['launch', '-n', '3', '--keep-going', '--', process.execPath, fixture, '2']);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stdout.split('\n').filter(Boolean).sort();
    assert.equal(lines.length, 3, r.stdout);
    const msg = 'FAILED grid search failed on rank 2: rank 2: fit of group';
    for (const [i, l] of lines.entries()) assert.ok(l.startsWith(`[${i}] ${msg}`), l);
    assert.equal(new Set(lines.map((l) => l.slice(4))).size, 1);
  });

  it('a record whose checksum does not match is refused; readCheckpoint names its file and line', function () {
    const rec = { task: 7, scores: Float64Array.of(0.5, 0.25), fitTime: 1, scoreTime: 2 };
    const line = encodeRecordLine(rec).trimEnd();
    assert.deepStrictEqual(decodeRecordLine(line), rec);
    const flipped = line.replace('"s":"', '"s":"').replace(/"s":"(.)/, (_m, c: string) => `"s":"${c === '0' ? '1' : '0'}`);
    assert.notEqual(flipped, line);
    assert.equal(decodeRecordLine(flipped), undefined);
    assert.equal(decodeRecordLine(JSON.stringify({ t: 7, s: '0'.repeat(16), f: 1, st: 2 })), undefined, 'no checksum: refused');
    const d = join(dir, 'flipped');
    mkdirSync(d);
    writeFileSync(join(d, `records-${'h'.repeat(4)}-a-r0.jsonl`), `${flipped}\n${line}\n`);
    const seen: string[] = [];
    assert.deepStrictEqual(readCheckpoint(d, 'h'.repeat(4), (file, n, why) => seen.push(`${file}:${n}: ${why}`)), [rec]);
    assert.equal(seen.length, 1);
    assert.match(seen[0], /records-hhhh-a-r0\.jsonl:1: not an intact record/);
  });

  it('records round-trip exactly (NaN, -0) and a torn last line is skipped', function () {
    const rec = { task: 3, scores: Float64Array.of(NaN, -0, 0.1 + 0.2), fitTime: 0.5, scoreTime: 0.25, error: 'x' };
    const back = decodeRecordLine(encodeRecordLine(rec).trimEnd())!;
    assert.deepStrictEqual(back, rec);
    const d = join(dir, 'torn');
    mkdirSync(d);
    writeFileSync(join(d, `records-${'h'.repeat(4)}-a-r0.jsonl`), encodeRecordLine(rec) + encodeRecordLine({ ...rec, task: 4 }).slice(0, 20));
    assert.deepStrictEqual(readCheckpoint(d, 'h'.repeat(4)), [rec]);
  });

  it('--checkpoint: a re-run at another rank count runs zero fits and prints the same result; resume from a partial checkpoint', function () {
    const ck = join(dir, 'ck');
    const a = run(['gridsearch', '--ranks', '2', '--checkpoint', ck, '--json', join(dir, 'ck-a.json')]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(readJson(join(dir, 'ck-a.json')).fits_run, 60);
    const b = run(['gridsearch', '--ranks', '3', '--checkpoint', ck, '--json', join(dir, 'ck-b.json')]);
    assert.equal(b.code, 0, b.stderr);
    const jb = readJson(join(dir, 'ck-b.json'));
    assert.equal(jb.fits_run, 0);
    assert.equal(jb.fits_reused, 60);
    assert.deepStrictEqual(comparable(join(dir, 'ck-b.json')), comparable(join(dir, 'ck-a.json')));
    assert.equal(withoutTime(b.stdout), withoutTime(a.stdout));

    // A job killed mid-run: keep only some of the records (and a torn line), then resume at 1 rank.
    const partial = join(dir, 'ck-partial');
    mkdirSync(partial);
    writeFileSync(join(partial, 'config.json'), readFileSync(join(ck, 'config.json')));
    const files = readdirSync(ck).filter((n) => n.startsWith('records-'));
    const lines = readFileSync(join(ck, files[0]), 'utf8').split('\n').filter(Boolean);
    const kept = lines.slice(0, Math.floor(lines.length / 2));
    writeFileSync(join(partial, files[0]), kept.join('\n') + '\n' + lines[kept.length].slice(0, 15));
    const c = run(['gridsearch', '--ranks', '1', '--checkpoint', partial, '--json', join(dir, 'ck-c.json')]);
    assert.equal(c.code, 0, c.stderr);
    const jc = readJson(join(dir, 'ck-c.json'));
    assert.ok(jc.fits_run > 0 && jc.fits_run < 60, `fits_run ${jc.fits_run}`);
    assert.equal(jc.fits_run + jc.fits_reused, 60);
    assert.deepStrictEqual(comparable(join(dir, 'ck-c.json')), comparable(join(dir, 'ck-a.json')));
    assert.equal(withoutTime(c.stdout), withoutTime(a.stdout));

    // One hex digit of one score flipped (issue 18: it used to change rank_test_score silently): the
    // record is skipped with one warning naming the file and line, its fit redone, the answer unchanged.
    const damaged = join(dir, 'ck-damaged');
    mkdirSync(damaged);
    for (const n of readdirSync(ck)) writeFileSync(join(damaged, n), readFileSync(join(ck, n)));
    const victim = join(damaged, files[0]);
    const vlines = readFileSync(victim, 'utf8').split('\n');
    const at = vlines[1].indexOf('"s":"') + 5 + 3;
    vlines[1] = vlines[1].slice(0, at) + (vlines[1][at] === '0' ? '1' : '0') + vlines[1].slice(at + 1);
    writeFileSync(victim, vlines.join('\n'));
    const d = run(['gridsearch', '--ranks', '2', '--checkpoint', damaged, '--json', join(dir, 'ck-d.json')]);
    assert.equal(d.code, 0, d.stderr);
    const warnings = d.stderr.split('\n').filter((l) => l.includes('not an intact record'));
    assert.equal(warnings.length, 1, d.stderr);
    assert.ok(warnings[0].includes(`${files[0]} line 2`), warnings[0]);
    const jd = readJson(join(dir, 'ck-d.json'));
    assert.ok(jd.fits_run > 0 && jd.fits_run < 60, `fits_run ${jd.fits_run}`);
    assert.deepStrictEqual(comparable(join(dir, 'ck-d.json')), comparable(join(dir, 'ck-a.json')));
  });

  it('--checkpoint: a job SIGKILLed mid-run (every process) resumes at another rank count, skips the recorded fits, prints the same result', async function () {
    const ck = join(dir, 'ck-kill');
    const child = spawn(process.execPath, [MAIN, 'gridsearch', '--ranks', '2', '--checkpoint', ck], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    let killedAt = -1;
    await new Promise<void>((resolve) => {
      let buf = '';
      child.stderr.on('data', (d: Buffer) => {
        buf += d.toString();
        const m = /gridsearch: (\d+)\/60 fits/g;
        for (let x; (x = m.exec(buf)) !== null;) {
          if (killedAt < 0 && Number(x[1]) >= 18 && Number(x[1]) < 60) { killedAt = Number(x[1]); process.kill(-child.pid!, 'SIGKILL'); }
        }
      });
      child.on('close', () => resolve());
    });
    assert.ok(killedAt > 0, 'the job was killed mid-run');
    const r = run(['gridsearch', '--ranks', '3', '--checkpoint', ck, '--json', join(dir, 'ck-kill.json')]);
    assert.equal(r.code, 0, r.stderr);
    const j = readJson(join(dir, 'ck-kill.json'));
    assert.ok(j.fits_reused >= killedAt - 12 && j.fits_reused < 60, `reused ${j.fits_reused} after a kill at ${killedAt}/60`);
    assert.equal(j.fits_run + j.fits_reused, 60);
    assert.deepStrictEqual(comparable(join(dir, 'ck-kill.json')), comparable(join(dir, 'p1.json')));
  });

  it('--checkpoint: a different configuration in the same DIR is refused with exit 2 before any work', function () {
    const ck = join(dir, 'ck2');
    const a = run(['gridsearch', '--ranks', '1', '--quiet', '--checkpoint', ck, '--grid', writeGrid('g1.json', { kernel: ['linear'], C: [1] })]);
    assert.equal(a.code, 0, a.stderr);
    const b = run(['gridsearch', '--ranks', '2', '--quiet', '--checkpoint', ck, '--grid', writeGrid('g1.json', { kernel: ['linear'], C: [1] }), '--cv', '3']);
    assert.equal(b.code, 2, b.stderr);
    assert.match(b.stderr, /--checkpoint .*ck2: the directory holds the checkpoint of a different configuration .*cv=5.*this run is .*cv=3/);
    assert.ok(!/^\[\d\] /m.test(b.stderr), b.stderr);
  });

  function writeGrid(name: string, content: unknown): string {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(content));
    return path;
  }

  it('--data: the digits as CSV.gz give the same results as the default data', function () {
    const d = loadDigits();
    const csv = Array.from({ length: d.data.rows }, (_, i) => [...d.data.row(i), d.target[i]].join(',')).join('\n') + '\n';
    const path = join(dir, 'digits-copy.csv.gz');
    writeFileSync(path, gzipSync(csv));
    const grid = writeGrid('g2.json', { kernel: ['rbf'], gamma: [1e-3], C: [1, 10] });
    const a = run(['gridsearch', '--ranks', '1', '--quiet', '--grid', grid, '--json', join(dir, 'd-a.json')]);
    const b = run(['gridsearch', '--ranks', '2', '--quiet', '--grid', grid, '--data', path, '--json', join(dir, 'd-b.json')]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.deepStrictEqual(comparable(join(dir, 'd-b.json')), comparable(join(dir, 'd-a.json')));
  });

  it('--data: malformed files are reported with file and line, exit 2, before launching', function () {
    assert.throws(() => parseCsvDataset('1,2,0\n3,x,1\n', 'f.csv'), /--data f\.csv:2: column 2 is not a number: 'x'/);
    assert.throws(() => parseCsvDataset('1,2,0\n3,1\n', 'f.csv'), /--data f\.csv:2: expected 3 comma-separated values/);
    assert.throws(() => parseCsvDataset('1,2,0.5\n', 'f.csv'), /--data f\.csv:1: the label .* must be an integer/);
    assert.throws(() => parseCsvDataset('', 'f.csv'), /--data f\.csv: the file is empty/);
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, '1,2,0\n1,2,1\n3,4\n');
    const r = run(['gridsearch', '--ranks', '2', '--data', bad]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--data .*bad\.csv:3: expected 3 comma-separated values/);
    assert.ok(!/\[\d\]/.test(r.stderr), r.stderr);
    const missing = run(['gridsearch', '--ranks', '2', '--data', join(dir, 'nope.csv')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--data .*nope\.csv: cannot read the file \(ENOENT\)/);
  });

  it('--interface: the named interface is used by every rank; an unknown one is refused with exit 2 before launching', function () {
    const grid = writeGrid('g4.json', { kernel: ['linear'], C: [1] });
    const ok = run(['gridsearch', '--ranks', '2', '--quiet', '--grid', grid, '--interface', 'lo', '--json', join(dir, 'if.json')]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(readJson(join(dir, 'if.json')).ranks, 2);
    const bad = run(['gridsearch', '--ranks', '2', '--quiet', '--grid', grid, '--interface', 'nosuch0']);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /interface 'nosuch0' not found/);
    assert.ok(!/^\[\d\] /m.test(bad.stderr), bad.stderr);
  });

  it('--svm-backend ml-svm runs (small synthetic data); an unknown backend is refused with exit 2', function () {
    const rows: string[] = [];
    for (let i = 0; i < 30; i++) rows.push(`${(i % 10) / 10},${1 + (i % 3) / 10},0`, `${2 + (i % 10) / 10},${3 + (i % 3) / 10},1`);
    const path = join(dir, 'two.csv');
    writeFileSync(path, rows.join('\n') + '\n');
    const grid = writeGrid('g3.json', { kernel: ['linear'], C: [1] });
    const r = run(['gridsearch', '--ranks', '1', '--quiet', '--data', path, '--grid', grid, '--cv', '3', '--svm-backend', 'ml-svm', '--scoring', 'accuracy', '--json', join(dir, 'ml.json')]);
    assert.equal(r.code, 0, r.stderr);
    const j = readJson(join(dir, 'ml.json'));
    assert.equal(j.fits_run, 3);
    assert.ok(Array.isArray(j.scorers.accuracy.cv_results.mean_test_score));
    const bad = run(['gridsearch', '--ranks', '1', '--svm-backend', 'libsvm']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /libsvm/);
  });
});
