// Where a rank's fits run. A world of one runs them on its own thread. A rank of a larger world runs
// them on a worker thread (fit-thread.ts), like an MPI progress thread the other way round: the rank's
// own thread keeps serving the mesh while it computes, so liveness pings are answered at once however
// long a fit takes (peers waiting on a rank busy in one long fit used to evict it), and the mesh joins
// while the first fits already run.
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { preferBundle } from '../bundled.js';
import { CommuneError } from '../errors.js';
import type { SearchPlan, TaskRecord } from '../ml/index.js';
import { FitWork, type FitWorkInit } from './fit-work.js';

export interface FitRunner {
  plan: SearchPlan;
  /** The records of the given groups' fits. */
  run(groupIds: readonly number[]): Promise<TaskRecord[]>;
  /** Candidate `c` refit on the whole training set: its predictions for part `part` of `parts` of the test set (FitWork.predict). */
  predict(c: number, part: number, parts: number): Promise<Float64Array>;
  close(): Promise<void>;
}

type FitCall = { op: 'run'; groups: number[] } | { op: 'predict'; candidate: number; part: number; parts: number };
export type FitRequest = FitCall & { id: number };
export type FitReply = { plan: SearchPlan } | { initError: string } | { id: number; value: unknown } | { id: number; error: string };

export function localRunner(init: FitWorkInit): FitRunner {
  const work = new FitWork(init);
  return { plan: work.plan, run: async (g) => work.run(g), predict: async (c, part, parts) => work.predict(c, part, parts), close: async () => {} };
}

/**
 * V8 compiles hot functions on background threads while the code keeps running unoptimized. When this
 * node's ranks already use all its cores, those threads only take CPU from the ranks, and the fits run
 * slow code until the compile comes back: compiling on the fit thread itself saved ~8% of a 2-rank
 * grid search's wall time and ~9% of its CPU on 2 cores (on 1 rank with a spare core it cost 15%).
 * The flag applies to isolates created afterwards: the fit threads. Same results: optimization never
 * changes a floating-point result in JavaScript.
 */
function compileOnFitThreads(): void {
  setFlagsFromString('--no-concurrent-recompilation');
}

/** `saturated`: this node's ranks use all its cores (see compileOnFitThreads). */
export async function threadRunner(init: FitWorkInit, saturated = false): Promise<FitRunner> {
  if (saturated) compileOnFitThreads();
  // The thread's modules from one file when the build bundled them (src/cli/build-bundle.ts).
  const thread = new Worker(preferBundle(new URL('./fit-thread.js', import.meta.url), new URL('./fit-thread.bundle.mjs', import.meta.url)), { workerData: init });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let closing = false;
  let failure: Error | undefined;
  let ready!: { resolve: (p: SearchPlan) => void; reject: (e: Error) => void };
  const planned = new Promise<SearchPlan>((resolve, reject) => { ready = { resolve, reject }; });
  const fail = (e: Error): void => {
    failure ??= e;
    ready.reject(e);
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  };
  thread.on('message', (m: FitReply) => {
    if ('plan' in m) return ready.resolve(m.plan);
    if ('initError' in m) return fail(new CommuneError(`the fit thread could not start: ${m.initError}`));
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (pending.size === 0) thread.unref();
    if ('error' in m) p.reject(new Error(m.error));
    else p.resolve(m.value);
  });
  thread.on('error', (e) => fail(e));
  thread.on('exit', (code) => { if (!closing) fail(new CommuneError(`the fit thread stopped (exit code ${code})`)); });
  const call = <T>(req: FitCall): Promise<T> => new Promise<T>((resolve, reject) => {
    if (failure) return reject(failure);
    const id = nextId++;
    if (pending.size === 0) thread.ref();
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    thread.postMessage({ ...req, id } as FitRequest);
  });
  const plan = await planned;
  // Idle, the thread does not hold the process open; a request in flight does.
  thread.unref();
  return {
    plan,
    run: (groups) => call<TaskRecord[]>({ op: 'run', groups: [...groups] }),
    predict: (candidate, part, parts) => call<Float64Array>({ op: 'predict', candidate, part, parts }),
    close: async () => {
      closing = true;
      fail(new CommuneError('the fit thread is closed'));
      await thread.terminate();
    },
  };
}
