// commune/ml: the workload, pure compute shaped like scikit-learn (no network, no environment, no globals;
// the only I/O is loadDigits reading the packaged data file).
export { MlError, InvalidParameterError, InvalidInputError, DataFileError, NotFittedError } from './errors.js';
export { Matrix, toMatrix, takeRows, type MatrixLike } from './matrix.js';
export { parseDigitsCsv, DIGITS_ROWS, DIGITS_FEATURES, type Digits } from './digits.js';
export { loadDigits, DEFAULT_DIGITS_PATH } from './digitsFile.js';
export { RandomState, checkRandomState } from './randomState.js';
export {
  trainTestSplit, KFold, StratifiedKFold, checkCv, validateShuffleSplit, shuffleSplitIndices,
  type TrainTestSplitOptions, type KFoldOptions, type CrossValidator, type Split, type Seed,
} from './split.js';
export { ParameterGrid, type Params, type ParamValue, type ParamGridSpec } from './parameterGrid.js';
export { pyRepr, pyDictRepr, pyFloatRepr, pyStrRepr, formatFixed, pyFixed } from './pyFormat.js';
export { KernelCache, kernelValue, kernelKey, powi, type KernelName, type KernelSpec } from './kernel.js';
export { solveBinary, solutionHoldsFor, type BinaryProblem, type BinarySolution } from './smo.js';
export { SolutionMemo } from './solutionMemo.js';
export { SVC, SVC_DEFAULTS, validateSVCParams, resolveGamma, type SVCParams, type SVCBackend } from './svc.js';
export { MlSvmError } from './mlSvmBackend.js';
export {
  accuracyScore, precisionScore, recallScore, f1Score, precisionRecallFscoreSupport, confusionMatrix, uniqueLabels,
  type Average, type ZeroDivision, type Label, type Labels, type PrfOptions, type PrfResult, type ClassificationReportOptions,
} from './metrics.js';
export { classificationReport } from './classificationReport.js';
export { getScorer, SCORER_NAMES, type ScoreFunction } from './scorers.js';
export { makeSearchPlan, assignGroups, candidateKernelKey, type SearchPlan, type FitTask, type TaskGroup } from './searchPlan.js';
export { aggregateResults, bestIndex, rankMin, type TaskRecord, type CvResults, type AggregatedSearch } from './searchResults.js';
export { GridSearchCV, SearchCache, runGroups, runTask, localEngine, type GridSearchOptions, type SearchEngine, type SearchContext } from './gridSearch.js';
export { pairwiseSum, numpySum, mean, variance, std } from './stats.js';
