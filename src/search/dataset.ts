// `--data PATH`: a classification data set as CSV or gzip'd CSV, one sample per line, numeric
// features then an integer class label in the last column, no header. Every defect is reported
// with the file and 1-based line (UsageError, exit 2).
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { UsageError } from '../errors.js';
import { Matrix } from '../ml/index.js';

export interface Dataset { data: Matrix; target: Int32Array }

function fail(path: string, line: number | undefined, msg: string): never {
  throw new UsageError(`--data ${path}${line === undefined ? '' : `:${line}`}: ${msg}`);
}

/** Parses CSV text (see the file comment); `path` names the source in errors. */
export function parseCsvDataset(text: string, path: string): Dataset {
  const lines = text.split('\n');
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  if (lines.length === 0) fail(path, undefined, 'the file is empty: expected one sample per line, features then the label');
  const first = lines[0].split(',').length;
  if (first < 2) fail(path, 1, 'expected at least two comma-separated values (features, then the label)');
  const nf = first - 1;
  const n = lines.length;
  const data = new Float64Array(n * nf);
  const target = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const raw = lines[i].endsWith('\r') ? lines[i].slice(0, -1) : lines[i];
    const cells = raw.split(',');
    if (cells.length !== first) fail(path, i + 1, `expected ${first} comma-separated values like line 1 (${nf} features and a label), found ${cells.length}`);
    for (let j = 0; j < first; j++) {
      const c = cells[j].trim();
      const v = c === '' ? NaN : Number(c);
      if (!Number.isFinite(v)) fail(path, i + 1, `column ${j + 1} is not a number: '${cells[j]}'${i === 0 ? ' (a header line is not supported)' : ''}`);
      if (j < nf) data[i * nf + j] = v;
      else {
        if (!Number.isInteger(v) || Math.abs(v) > 2 ** 31 - 1) fail(path, i + 1, `the label (last column, ${first}) must be an integer class, found ${c}`);
        target[i] = v;
      }
    }
  }
  if (new Set(target).size < 2) fail(path, undefined, 'all samples have the same label: a classifier needs at least two classes');
  return { data: new Matrix(n, nf, data), target };
}

/** Reads PATH (gzip detected by its magic bytes, whatever the name) and parses it. */
export function loadCsvDataset(path: string): Dataset {
  let bytes: Buffer;
  try { bytes = readFileSync(path); } catch (e) {
    fail(path, undefined, `cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let text: string;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try { text = gunzipSync(bytes).toString('utf8'); } catch (e) { fail(path, undefined, `the gzip stream is damaged (${(e as Error).message})`); }
  } else {
    text = bytes.toString('utf8');
  }
  return parseCsvDataset(text, path);
}
