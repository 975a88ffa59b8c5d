// The seed script's text for one scorer ("# Tuning hyper-parameters for …", best parameters, grid
// scores, detailed classification report), byte-identical to the Python script's print() calls.
// Shared by examples/digits-gridsearch.ts and `commune gridsearch`.
import { formatFixed, pyDictRepr, type CvResults, type Params } from '../ml/index.js';

/** The seed's title for a scorer: it loops over 'precision', 'recall' and scores with '%s_macro'. */
export function scorerTitle(scorer: string): string {
  return scorer.endsWith('_macro') ? scorer.slice(0, -'_macro'.length) : scorer;
}

/**
 * The lines one iteration of the seed's loop prints (print() of an empty string is an empty line).
 * `cvResults` is a single-metric cv_results_ (mean_test_score, std_test_score, params).
 */
export function seedSectionLines(title: string, bestParams: Params, cvResults: CvResults, report: string): string[] {
  const out: string[] = [];
  const print = (s = ''): void => { out.push(s); };
  print(`# Tuning hyper-parameters for ${title}`);
  print();
  print('Best parameters set found on development set:');
  print();
  print(pyDictRepr(bestParams));
  print();
  print('Grid scores on development set:');
  print();
  const means = cvResults.mean_test_score as Float64Array;
  const stds = cvResults.std_test_score as Float64Array;
  (cvResults.params as Params[]).forEach((params, i) => {
    print(`${formatFixed(means[i], 3)} (+/-${formatFixed(stds[i] * 2, 3)}) for ${pyDictRepr(params)}`);
  });
  print();
  print('Detailed classification report:');
  print();
  print('The model is trained on the full development set.');
  print('The scores are computed on the full evaluation set.');
  print();
  print(report);
  print();
  return out;
}
