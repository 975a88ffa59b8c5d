// The build's code-cache training run of the CLI bundle (build-bundle.ts runs it, main.ts obeys it):
// rank 0 of `gridsearch --ranks 2` saves, at exit, the code V8 compiled for the bundle — the paths a
// rank of a job runs (options, data, search, mesh, collectives).
export const TRAIN_VARIABLE = 'COMMUNE_TRAIN_CODE_CACHE';
