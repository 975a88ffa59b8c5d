// scikit-learn's `classification_report` text, byte for byte.
import { InvalidParameterError } from './errors.js';
import { precisionRecallFscoreSupport, uniqueLabels, type ClassificationReportOptions, type Labels } from './metrics.js';
import { formatFixed } from './pyFormat.js';

const rjust = (s: string, w: number): string => s.padStart(w, ' ');

export function classificationReport(yTrue: Labels, yPred: Labels, opts: ClassificationReportOptions = {}): string {
  const digits = opts.digits ?? 2;
  if (!Number.isInteger(digits) || digits < 0) throw new InvalidParameterError('digits', `must be a non-negative integer, got ${digits}`);
  const present = uniqueLabels(yTrue, yPred);
  const labels = opts.labels ?? present;
  const labelsGiven = opts.labels !== undefined;
  const microIsAccuracy = !labelsGiven || (labels.length === present.length && labels.every((l) => present.includes(l)));
  const names = opts.targetNames ?? labels.map((l) => String(l));
  if (names.length !== labels.length) {
    throw new InvalidParameterError('targetNames', `has ${names.length} names for ${labels.length} labels; give one name per label`);
  }
  const zeroDivision = opts.zeroDivision ?? 'warn';
  const per = precisionRecallFscoreSupport(yTrue, yPred, { labels, average: null, zeroDivision });
  const p = per.precision as Float64Array;
  const r = per.recall as Float64Array;
  const f = per.fScore as Float64Array;
  const s = per.support!;
  const width = Math.max(...names.map((n) => n.length), 'weighted avg'.length, digits);
  const fx = (v: number): string => ` ${rjust(formatFixed(v, digits), 9)}`;
  const row = (name: string, a: number, b: number, c: number, sup: number): string => `${rjust(name, width)} ${fx(a)}${fx(b)}${fx(c)} ${rjust(String(sup), 9)}\n`;
  let out = `${rjust('', width)} ${['precision', 'recall', 'f1-score', 'support'].map((h) => ` ${rjust(h, 9)}`).join('')}\n\n`;
  names.forEach((n, k) => { out += row(n, p[k], r[k], f[k], s[k]); });
  out += '\n';
  let total = 0;
  for (const v of s) total += v;
  for (const avg of ['micro', 'macro', 'weighted'] as const) {
    const a = precisionRecallFscoreSupport(yTrue, yPred, { labels, average: avg, zeroDivision });
    if (avg === 'micro' && microIsAccuracy) {
      out += `${rjust('accuracy', width)} ${' '.repeat(10)}${' '.repeat(10)}${fx(a.fScore as number)} ${rjust(String(total), 9)}\n`;
    } else {
      out += row(`${avg} avg`, a.precision as number, a.recall as number, a.fScore as number, total);
    }
  }
  return out;
}
