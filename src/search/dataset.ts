// `--data PATH`: a classification data set as CSV or gzip'd CSV, one sample per line, numeric
// features then an integer class label in the last column, no header. Every defect is reported
// with the file and 1-based line (UsageError, exit 2).
import { closeSync, openSync, readSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { UsageError } from '../errors.js';
import { Matrix } from '../ml/index.js';

export interface Dataset { data: Matrix; target: Int32Array }

/**
 * Bounds on what --data may hold, so a wrong path (/dev/zero, a huge or binary file) is one clear error
 * instead of gigabytes read or a RangeError: the CSV text is read whole and must fit one JavaScript
 * string; a line (one sample) has at most MAX_LINE_BYTES; the matrix at most MAX_VALUES float64s.
 */
export const MAX_TEXT_BYTES = 512 * 1024 * 1024 - 64;
export const MAX_LINE_BYTES = 4 * 1024 * 1024;
export const MAX_VALUES = 2 ** 28;

function fail(path: string, line: number | undefined, msg: string): never {
  throw new UsageError(`--data ${path}${line === undefined ? '' : `:${line}`}: ${msg}`);
}

/** Parses CSV text (see the file comment); `path` names the source in errors. */
export function parseCsvDataset(text: string, path: string): Dataset {
  const lines = text.split('\n');
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  if (lines.length === 0) fail(path, undefined, 'the file is empty: expected one sample per line, features then the label');
  const long = lines.findIndex((l) => l.length > MAX_LINE_BYTES);
  if (long >= 0) fail(path, long + 1, `the line is longer than ${MAX_LINE_BYTES / 1024 / 1024} MiB: not a CSV of samples (one per line)`);
  const first = lines[0].split(',').length;
  if (first < 2) fail(path, 1, 'expected at least two comma-separated values (features, then the label)');
  const nf = first - 1;
  const n = lines.length;
  if (n * nf > MAX_VALUES) fail(path, undefined, `${n} samples × ${nf} features is more than ${MAX_VALUES} values (${(MAX_VALUES * 8 / 2 ** 30).toFixed(0)} GiB as float64): too large to hold`);
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

/** At most `limit` bytes of `path`, read in chunks (a device or a pipe has no size to check first). */
function readAtMost(path: string, limit: number): Buffer {
  let fd: number;
  try { fd = openSync(path, 'r'); } catch (e) {
    fail(path, undefined, `cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  let firstLineChecked = false;
  try {
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(1 << 20, limit + 1 - total));
      let n: number;
      try { n = readSync(fd, chunk, 0, chunk.length, null); } catch (e) {
        fail(path, undefined, `cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
      // The first line decides the columns: no newline in its first MAX_LINE_BYTES is not a CSV (/dev/zero).
      if (!firstLineChecked && total > MAX_LINE_BYTES) {
        firstLineChecked = true;
        const head = Buffer.concat(chunks);
        if (head[0] !== 0x1f && !head.includes(0x0a)) fail(path, 1, `no line break in the first ${MAX_LINE_BYTES / 1024 / 1024} MiB: not a CSV of samples (one per line)`);
      }
      if (total > limit) fail(path, undefined, `larger than ${Math.floor(limit / 1024 / 1024)} MiB: --data is read into memory whole; use a smaller sample of the data`);
    }
  } finally {
    closeSync(fd);
  }
  return Buffer.concat(chunks, total);
}

/** Reads PATH (gzip detected by its magic bytes, whatever the name) and parses it. */
export function loadCsvDataset(path: string): Dataset {
  const bytes = readAtMost(path, MAX_TEXT_BYTES);
  let text: string;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    let raw: Buffer;
    try { raw = gunzipSync(bytes, { maxOutputLength: MAX_TEXT_BYTES }); } catch (e) {
      if (e instanceof RangeError || (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        fail(path, undefined, `decompresses to more than ${Math.floor(MAX_TEXT_BYTES / 1024 / 1024)} MiB: --data is read into memory whole; use a smaller sample of the data`);
      }
      fail(path, undefined, `the gzip stream is damaged (${(e as Error).message})`);
    }
    text = raw.toString('utf8');
  } else {
    text = bytes.toString('utf8');
  }
  return parseCsvDataset(text, path);
}
