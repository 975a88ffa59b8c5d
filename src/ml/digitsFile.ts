// The workload's only I/O: reading the project's copy of the digits file (see data/README.md).
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { DataFileError } from './errors.js';
import { DIGITS_ROWS, parseDigitsCsv, type Digits } from './digits.js';

/** The packaged copy: this module compiles to dist/src/ml/, three levels below the package root. */
export const DEFAULT_DIGITS_PATH = fileURLToPath(new URL('../../../data/digits.csv.gz', import.meta.url));

/**
 * scikit-learn's `load_digits()`: reads `path` (gzip or plain CSV; default: the packaged
 * data/digits.csv.gz) and validates 1797 rows × (64 pixels 0..16 + label 0..9).
 */
export function loadDigits(path: string = DEFAULT_DIGITS_PATH): Digits {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new DataFileError(path, undefined, `cannot read the digits file (${(e as Error).message}); pass the path of digits.csv.gz or restore data/digits.csv.gz`);
  }
  let text: string;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      text = gunzipSync(bytes).toString('utf8');
    } catch (e) {
      throw new DataFileError(path, undefined, `the gzip stream is damaged (${(e as Error).message}); restore the file from data/digits.csv.gz`);
    }
  } else {
    text = bytes.toString('utf8');
  }
  return parseDigitsCsv(text, path, DIGITS_ROWS);
}
