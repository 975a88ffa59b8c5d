// Scorers by name, as scikit-learn's `get_scorer`: each maps (yTrue, yPred) to a number, larger is better.
import { InvalidParameterError } from './errors.js';
import { accuracyScore, f1Score, precisionScore, recallScore, type Average, type Labels } from './metrics.js';

export type ScoreFunction = (yTrue: Labels, yPred: Labels) => number;

const prf = (fn: typeof precisionScore, average: Average): ScoreFunction => (t, p) => fn(t, p, { average }) as number;

const SCORERS: Record<string, ScoreFunction> = {
  accuracy: (t, p) => accuracyScore(t, p),
  precision: prf(precisionScore, 'binary'),
  recall: prf(recallScore, 'binary'),
  f1: prf(f1Score, 'binary'),
};
for (const avg of ['macro', 'micro', 'weighted'] as const) {
  SCORERS[`precision_${avg}`] = prf(precisionScore, avg);
  SCORERS[`recall_${avg}`] = prf(recallScore, avg);
  SCORERS[`f1_${avg}`] = prf(f1Score, avg);
}

export const SCORER_NAMES: readonly string[] = Object.freeze(Object.keys(SCORERS));

export function getScorer(name: string): ScoreFunction {
  const s = SCORERS[name];
  if (!s) throw new InvalidParameterError('scoring', `'${name}' is not a valid scoring value; use one of ${SCORER_NAMES.join(', ')}`);
  return s;
}
