// The digits data set: parsing and validation of the CSV text (pure; the file read is in digitsFile.ts).
import { DataFileError } from './errors.js';
import { Matrix } from './matrix.js';

export const DIGITS_ROWS = 1797;
export const DIGITS_FEATURES = 64;

export interface Digits {
  /** 1797×64 pixel intensities 0..16 (8×8 images flattened row-major). */
  data: Matrix;
  /** Class labels 0..9. */
  target: Int32Array;
  /** The same pixels as 8×8 matrices (views sharing `data`'s buffer). */
  images: Matrix[];
  /** The class names: 0..9. */
  targetNames: Int32Array;
}

const COMMA = 44;
const ZERO = 48;

/**
 * The common line, read character by character: 64 pixels 0..16 and a label 0..9, plain digits and
 * commas (an optional trailing \r). Stores the row and returns true; returns false for any other line,
 * which the general parser below then reads and, when it is wrong, reports. Every rank parses the
 * file at start-up, and splitting 1797 lines into 116,000 strings took ~8 ms of it.
 */
function plainRow(line: string, data: Float64Array, at: number, target: Int32Array, row: number): boolean {
  let end = line.length;
  if (end > 0 && line.charCodeAt(end - 1) === 13) end--;
  let col = 0;
  let v = 0;
  let digits = 0;
  for (let k = 0; k <= end; k++) {
    const c = k === end ? COMMA : line.charCodeAt(k);
    if (c === COMMA) {
      if (digits === 0 || digits > 2) return false;
      if (col < DIGITS_FEATURES) {
        if (v > 16) return false;
        data[at + col] = v;
      } else if (col === DIGITS_FEATURES && v <= 9) {
        target[row] = v;
      } else return false;
      col++;
      v = 0;
      digits = 0;
    } else {
      const d = c - ZERO;
      if (d < 0 || d > 9) return false;
      v = v * 10 + d;
      digits++;
    }
  }
  return col === DIGITS_FEATURES + 1;
}

/**
 * Parses digits CSV text: one sample per line, 64 integer pixels 0..16 then the label 0..9, no header.
 * Every defect is reported with its 1-based line number. `expectedRows` also checks the row count.
 */
export function parseDigitsCsv(text: string, source = 'digits.csv', expectedRows?: number): Digits {
  const cols = DIGITS_FEATURES + 1;
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new DataFileError(source, undefined, 'the file is empty: expected 1797 rows of 64 pixels and a label; restore data/digits.csv.gz from the repository');
  const n = lines.length;
  const data = new Float64Array(n * DIGITS_FEATURES);
  const target = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (plainRow(lines[i], data, i * DIGITS_FEATURES, target, i)) continue;
    const line = lines[i].endsWith('\r') ? lines[i].slice(0, -1) : lines[i];
    const cells = line.split(',');
    if (cells.length !== cols) {
      const what = cells.length === DIGITS_FEATURES ? ' (the label column is missing)' : '';
      throw new DataFileError(source, i + 1, `expected ${cols} comma-separated values (64 pixels and a label), found ${cells.length}${what}`);
    }
    for (let j = 0; j < cols; j++) {
      const cell = cells[j].trim();
      const v = cell === '' ? NaN : Number(cell);
      if (!Number.isFinite(v)) {
        throw new DataFileError(source, i + 1, `column ${j + 1} is not a number: '${cells[j]}'`);
      }
      if (j < DIGITS_FEATURES) {
        if (!Number.isInteger(v) || v < 0 || v > 16) throw new DataFileError(source, i + 1, `pixel in column ${j + 1} must be an integer 0..16, found ${cell}`);
        data[i * DIGITS_FEATURES + j] = v;
      } else {
        if (!Number.isInteger(v) || v < 0 || v > 9) throw new DataFileError(source, i + 1, `label (column 65) must be an integer 0..9, found ${cell}`);
        target[i] = v;
      }
    }
  }
  if (expectedRows !== undefined && n !== expectedRows) {
    throw new DataFileError(source, undefined, `expected ${expectedRows} rows, found ${n}: the file is truncated or is not the digits data`);
  }
  const matrix = new Matrix(n, DIGITS_FEATURES, data);
  const images: Matrix[] = [];
  for (let i = 0; i < n; i++) images.push(new Matrix(8, 8, matrix.row(i)));
  return { data: matrix, target, images, targetNames: Int32Array.from({ length: 10 }, (_, k) => k) };
}
