import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DEFAULT_DIGITS_PATH, loadDigits } from '../../src/ml/digitsFile.js';
import { parseDigitsCsv } from '../../src/ml/digits.js';
import { DataFileError } from '../../src/ml/errors.js';

const row = (label: number | string = 3, pixel: number | string = 0): string => [...new Array(64).fill(pixel), label].join(',');

describe('ml/digits', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'commune-digits-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('loadDigits() reads the packaged copy: 1797×64, values 0..16, labels 0..9', () => {
    const d = loadDigits();
    assert.ok(DEFAULT_DIGITS_PATH.endsWith('/data/digits.csv.gz'));
    assert.equal(d.data.rows, 1797);
    assert.equal(d.data.cols, 64);
    assert.equal(d.target.length, 1797);
    assert.equal(d.images.length, 1797);
    assert.deepEqual(Array.from(d.targetNames), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // load_digits() row 0 is a zero: its first image row is [0, 0, 5, 13, 9, 1, 0, 0].
    assert.equal(d.target[0], 0);
    assert.deepEqual(Array.from(d.images[0].row(0)), [0, 0, 5, 13, 9, 1, 0, 0]);
    const counts = new Array(10).fill(0);
    d.target.forEach((t) => counts[t]++);
    assert.deepEqual(counts, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
    let sum = 0;
    d.data.data.forEach((v) => { sum += v; });
    assert.equal(sum, 561718); // load_digits().data.sum() in scikit-learn 1.2.1
  });

  it('accepts an explicit path, gzip or plain', () => {
    const p = join(dir, 'plain.csv');
    writeFileSync(p, Array.from({ length: 1797 }, () => row()).join('\n') + '\n');
    assert.equal(loadDigits(p).data.rows, 1797);
    const g = join(dir, 'z.csv.gz');
    writeFileSync(g, gzipSync(Array.from({ length: 1797 }, () => row(5, 16)).join('\n')));
    assert.equal(loadDigits(g).target[1796], 5);
  });

  it('lines in other spellings (spaces, 3.0, +3, 016, CRLF) parse to the same values as plain ones', () => {
    const plain = Array.from({ length: 4 }, (_, i) => row(i, i * 4)).join('\n');
    const spelled = [
      row(0, 0).replace(/^0,/, ' 0 ,'),
      `${row(1, 4).replace(/,1$/, ',1.0')}\r`,
      row(2, 8).replace(/^8,/, '+8,'),
      row(3, 12).replace(/,12,/, ',012,'),
    ].join('\n');
    const a = parseDigitsCsv(plain, 'plain.csv');
    const b = parseDigitsCsv(spelled, 'spelled.csv');
    assert.deepEqual(Array.from(b.data.data), Array.from(a.data.data));
    assert.deepEqual(Array.from(b.target), [0, 1, 2, 3]);
  });

  const bad: Array<[string, string, RegExp]> = [
    ['ragged row', `${row()}\n${row()},1\n`, /:2: expected 65 comma-separated values .* found 66/],
    ['non-numeric cell', `${row()}\n${row()}\n${row(3, 'x')}\n`, /:3: column 1 is not a number: 'x'/],
    ['missing label', `${row()}\n${[...new Array(64).fill(1)].join(',')}\n`, /:2: .*found 64 \(the label column is missing\)/],
    ['pixel out of range', `${row(3, 17)}\n`, /:1: pixel in column 1 must be an integer 0\.\.16, found 17/],
    ['label out of range', `${row(10)}\n`, /:1: label \(column 65\) must be an integer 0\.\.9, found 10/],
    ['empty cell', `${row('')}\n`, /:1: column 65 is not a number/],
    ['empty file', '', /the file is empty/],
  ];
  for (const [name, text, re] of bad) {
    it(`rejects a file with a ${name}, naming the line`, () => {
      assert.throws(() => parseDigitsCsv(text, 'bad.csv'), (e: unknown) => e instanceof DataFileError && re.test(e.message));
    });
  }

  it('rejects truncated, damaged-gzip and missing files through loadDigits', () => {
    const short = join(dir, 'short.csv');
    writeFileSync(short, `${row()}\n${row()}\n`);
    assert.throws(() => loadDigits(short), /expected 1797 rows, found 2/);
    const broken = join(dir, 'broken.csv.gz');
    writeFileSync(broken, gzipSync(row()).subarray(0, 20));
    assert.throws(() => loadDigits(broken), /gzip stream is damaged/);
    assert.throws(() => loadDigits(join(dir, 'nope.gz')), (e: unknown) => e instanceof DataFileError && /cannot read/.test(e.message));
  });
});
