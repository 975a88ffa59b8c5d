// commune/compat: dask-mpi + distributed + dask-ml, shaped for TypeScript, on commune's mesh.
//   import { initialize, Client, GridSearchCV } from 'commune/compat';
export { initialize, sendCloseSignal, type InitializeOptions } from './initialize.js';
export { Client, type SubmitOptions, type MapOptions } from './client.js';
export { Future, type FutureStatus } from './future.js';
export { asCompleted, AsCompleted, type AsCompletedOptions } from './as-completed.js';
export { GridSearchCV, type DaskGridSearchOptions } from './grid-search.js';
export type { Graph, GetOptions } from './graph.js';
export type { SchedulerInfo, WorkerInfo } from './protocol.js';
export { taskRef, type TaskRef } from './task-ref.js';
export {
  KilledWorker, CancelledError, TimeoutError, WorldTooSmallError, UnshippableFunctionError, SchedulerLostError, CompatUsageError, FutureLostError, NoWorkersError,
} from './errors.js';
