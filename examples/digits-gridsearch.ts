// The seed's scikit-learn example ("Parameter estimation using grid search with cross-validation",
// scikit-learn 0.22–1.0) in TypeScript, single process. Prints the same text as the Python script
// (digits-gridsearch.py beside it), number for number.
//   node dist/examples/digits-gridsearch.js
import { classificationReport, GridSearchCV, SearchCache, loadDigits, SVC, trainTestSplit, type Matrix } from '../src/ml/index.js';
import { seedSectionLines } from '../src/search/seed-report.js';

const digits = loadDigits();
const [XTrain, XTest, yTrain, yTest] = trainTestSplit(digits.data, digits.target, { testSize: 0.5, randomState: 0 }) as [Matrix, Matrix, Int32Array, Int32Array];

const tunedParameters = [
  { kernel: ['rbf'], gamma: [1e-3, 1e-4], C: [1, 10, 100, 1000] },
  { kernel: ['linear'], C: [1, 10, 100, 1000] },
];

// The one addition to the seed's code: both searches share a cache of kernels and solved
// subproblems (like scikit-learn's `memory=`), so the recall search reuses the precision search's
// fits; results are unchanged, bit for bit.
const cache = new SearchCache(XTrain);

const out: string[] = [];

for (const score of ['precision', 'recall']) {
  const clf = await new GridSearchCV(new SVC(), tunedParameters, { scoring: `${score}_macro`, cache }).fit(XTrain, yTrain);
  out.push(...seedSectionLines(score, clf.bestParams_!, clf.cvResults_!, classificationReport(yTest, clf.predict(XTest))));
}
process.stdout.write(out.join('\n') + '\n');
