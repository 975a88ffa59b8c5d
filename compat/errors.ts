// Typed errors of the co-ordinator layer, named like distributed's and each saying what to do.
import { CommuneError } from 'commune';

/** dask-mpi's WorldTooSmallException: scheduler, client and at least one worker need a rank each. */
export class WorldTooSmallError extends CommuneError {
  override exitCode = 2;
  constructor(readonly size: number) {
    super(`Not enough ranks to start the cluster: found ${size}, needs at least 3, one each for the scheduler (rank 0), ` +
      `the client (rank 1) and a worker (ranks ≥ 2) — launch with more ranks, e.g. \`commune launch -n 4 -- ...\` or \`srun --ntasks=$((SLURM_NTASKS+2))\``);
  }
}

/** A function that cannot travel to a worker by reference (a closure, an unexported function...). */
export class UnshippableFunctionError extends CommuneError {
  override exitCode = 2;
}

/** The task ran on `allowedFailures + 1` workers that all died while running it (distributed's KilledWorker). */
export class KilledWorker extends CommuneError {
  constructor(readonly key: string, readonly lastWorker: string, attempts: number) {
    super(`Attempted to run task '${key}' on ${attempts} different workers, but all those workers died while running it. ` +
      `The last worker that attempted to run the task was ${lastWorker}. Inspecting worker logs is often a good next step ` +
      `to diagnose what went wrong (out of memory, a crash in native code, a task that kills its process).`);
  }
}

/** The future (or one of the futures) was cancelled. */
export class CancelledError extends CommuneError {
  constructor(readonly keys: string[]) {
    super(`cancelled: ${keys.slice(0, 5).join(', ')}${keys.length > 5 ? ` and ${keys.length - 5} more` : ''} — the future was cancelled (client.cancel / future.cancel) or released by another client`);
  }
}

/** Every worker left while tasks were still to run (distributed's NoWorkersError). */
export class NoWorkersError extends CommuneError {}

/** The future's data is gone (its worker died and it cannot be recomputed). */
export class FutureLostError extends CommuneError {}

/** A wait that reached its deadline. */
export class TimeoutError extends CommuneError {}

/** The scheduler rank is gone: nothing can continue. */
export class SchedulerLostError extends CommuneError {
  constructor(readonly observer: number, why: string) {
    super(`rank ${observer}: the scheduler (rank 0) is lost (${why}); the cluster cannot continue without it, so this rank exits — check rank 0's log for why it stopped`);
  }
}

/** Bad use of the API (wrong argument types, a client without a scheduler...). */
export class CompatUsageError extends CommuneError {
  override exitCode = 2;
}

/**
 * How an exception travels from a worker: its class name, message, the remote stack, and its own
 * fields of plain values (`.code`, `.errno`…).
 */
export interface RemoteError { name: string; message: string; stack?: string; key?: string; lastWorker?: string; attempts?: number; fields?: Record<string, string | number | boolean | null> }

export function toRemoteError(e: unknown): RemoteError {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e) };
  const fields: Record<string, string | number | boolean | null> = {};
  for (const [k, v] of Object.entries(e)) {
    if (k !== 'name' && k !== 'message' && k !== 'stack' && (v === null || ['string', 'number', 'boolean'].includes(typeof v))) fields[k] = v as string | number | boolean | null;
  }
  return { name: e.name, message: e.message, stack: e.stack, ...(Object.keys(fields).length ? { fields } : {}) };
}

/** JavaScript's own error classes: a task's RangeError is a RangeError in the client too. */
const BUILTIN_ERRORS: Record<string, ErrorConstructor> = { Error, RangeError, TypeError, SyntaxError, ReferenceError, EvalError, URIError };

/** Re-creates a remote exception: KilledWorker and JavaScript's error classes as themselves, anything else as an Error of the same name and message; its fields restored. */
export function fromRemoteError(r: RemoteError): Error {
  if (r.name === 'KilledWorker' && r.key !== undefined) return new KilledWorker(r.key, r.lastWorker ?? '?', r.attempts ?? 4);
  if (r.name === 'CancelledError' && r.key !== undefined) return new CancelledError([r.key]);
  if (r.name === 'NoWorkersError') return new NoWorkersError(r.message);
  const Builtin = Object.hasOwn(BUILTIN_ERRORS, r.name) ? BUILTIN_ERRORS[r.name]! : undefined;
  const e = Builtin ? new Builtin(r.message) : new Error(r.message);
  if (!Builtin) e.name = r.name;
  if (r.fields) Object.assign(e, r.fields);
  if (r.stack) e.stack = `${r.name}: ${r.message}\n    (remote traceback)\n${r.stack.split('\n').slice(1).join('\n')}`;
  return e;
}
