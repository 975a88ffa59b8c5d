// The seed's dasktest.py (dask-mpi + distributed + dask-ml) ported line by line to commune/compat.
//   commune launch -n 4 -- node dist/examples/dasktest.js                  (scheduler, client, 2 workers)
//   srun --ntasks=$((SLURM_NTASKS+2)) node dist/examples/dasktest.js       (SLURM_NTASKS workers)
// Rank 0 runs the scheduler, rank 1 this script after initialize(), ranks ≥ 2 are workers with
// nthreads threads each. As in the seed, the search uses dask-ml's defaults (3 folds, iid-weighted
// means), so the numbers differ from scikit-learn's published 5-fold table; `commune gridsearch
// --mode coordinator` runs the 5-fold, unweighted search on this engine.
import { initialize, Client, GridSearchCV } from '../compat/index.js';
import { classificationReport, loadDigits, SVC, trainTestSplit, type Matrix } from '../src/ml/index.js';
import { seedSectionLines } from '../src/search/seed-report.js';

const start = performance.now();

// Threads per worker: Slurm's cpus-per-task, else OMP_NUM_THREADS, else 1.
const nthreads = Number(process.env.SLURM_CPUS_PER_TASK ?? process.env.OMP_NUM_THREADS ?? 1);

// The seed binds 'ib0'; COMMUNE_INTERFACE names the NIC here (unset: the launcher's choice).
await initialize({ interface: process.env.COMMUNE_INTERFACE, nthreads });

const client = new Client();

const digits = loadDigits();
const [XTrain, XTest, yTrain, yTest] = trainTestSplit(digits.data, digits.target, { testSize: 0.5, randomState: 0 }) as [Matrix, Matrix, Int32Array, Int32Array];

const tunedParameters = [
  { kernel: ['rbf'], gamma: [1e-3, 1e-4], C: [1, 10, 100, 1000] },
  { kernel: ['linear'], C: [1, 10, 100, 1000] },
];

const scores = ['precision', 'recall'];

for (const score of scores) {
  const clf = new GridSearchCV(new SVC(), tunedParameters, { scoring: `${score}_macro`, scheduler: client });
  await clf.fit(XTrain, yTrain);
  const yPred = clf.predict(XTest);
  process.stdout.write(seedSectionLines(score, clf.bestParams_!, clf.cvResults_!, classificationReport(yTest, yPred)).join('\n') + '\n');
}

process.stdout.write(`Time taken: ${(performance.now() - start) / 1000}\n`);
