// dask-mpi's initialize(): rank 0 runs the scheduler, rank 1 returns and continues the script (the
// client), ranks ≥ 2 become workers named by their rank. The scheduler's address travels over the
// mesh by one bcast from rank 0 and a barrier. With exit: true the scheduler and worker ranks never
// return (they exit 0 when the client shuts the cluster down) and the client shuts the cluster down
// when its script ends; with exit: false every rank returns whether it is the client, and
// sendCloseSignal() stops the cluster.
import { hostname, availableParallelism, totalmem } from 'node:os';
import { CommuneError, Communicator, PeerLostError, joinWorld } from 'commune';
import { declareSurvivable } from '../src/launch/control.js';
import { rankLogger } from '../src/log.js';
import { msSetting } from '../src/settings.js';
import { detectWorld } from '../topology/index.js';
import { ClientLink } from './client-link.js';
import { connection, setConnection } from './connection.js';
import { CompatUsageError, SchedulerLostError, WorldTooSmallError } from './errors.js';
import { Scheduler } from './scheduler.js';
import { WorkerNode } from './worker.js';
import { inTaskThread } from './task-ref.js';

export interface InitializeOptions {
  /** NIC to bind every rank to (dask-mpi's interface=), e.g. 'ib0'. */
  interface?: string;
  /** Threads per worker (dask-mpi's default 1). */
  nthreads?: number;
  /** Worker scratch directory. */
  localDirectory?: string;
  /** Bytes, a fraction ≤ 1 of system memory, or 'auto' (system memory × min(1, nthreads / cores)). */
  memoryLimit?: number | 'auto';
  /** Accepted for compatibility; commune has no dashboard. */
  dashboard?: boolean;
  /** Accepted for compatibility: the mesh is the only transport ('tcp' or undefined). */
  protocol?: string;
  /** Worker resources, e.g. { GPU: 1 } (distributed's --resources). */
  resources?: Record<string, number>;
  exit?: boolean;
  env?: NodeJS.ProcessEnv;
}

/** Every option initialize() knows, for the error that names an unknown one (the compiler keeps it whole). */
const KNOWN_OPTIONS = Object.keys({
  interface: 1, nthreads: 1, localDirectory: 1, memoryLimit: 1, dashboard: 1, protocol: 1, resources: 1, exit: 1, env: 1,
} satisfies Record<keyof InitializeOptions, 1>);

/** An option initialize() does not know is refused, not ignored: the script meant something by it. */
function checkOptionNames(o: object): void {
  for (const key of Object.keys(o)) {
    if (KNOWN_OPTIONS.includes(key)) continue;
    // dask-mpi's spelling of an option we know (local_directory → localDirectory).
    const camel = key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    const hint = camel !== key && KNOWN_OPTIONS.includes(camel) ? ` (did you mean '${camel}'? options are camelCase here)` : '';
    throw new CompatUsageError(`initialize: unknown option '${key}'${hint}; the options are ${KNOWN_OPTIONS.join(', ')}`);
  }
}

export function parseMemoryLimit(v: number | 'auto' | undefined, nthreads: number): number {
  const total = totalmem();
  if (v === undefined || v === 'auto') return Math.floor(total * Math.min(1, nthreads / availableParallelism()));
  if (typeof v !== 'number' || !(v > 0)) throw new CompatUsageError(`initialize: memoryLimit must be bytes, a fraction ≤ 1 of system memory, or 'auto'; got ${String(v)}`);
  return v <= 1 ? Math.floor(total * v) : Math.floor(v);
}

let exitMode = true;
let closing: Promise<void> | undefined;

/** Stops the scheduler and every worker; on the client rank, then leaves the mesh. */
export async function sendCloseSignal(): Promise<void> {
  const link = connection();
  if (!link) throw new CompatUsageError('sendCloseSignal(): only the client rank (1) can stop the cluster, after initialize()');
  if (!closing) {
    closing = (async () => {
      // No scheduler left to stop (the script saw SchedulerLostError): just end the link.
      if (link.lost) return link.close();
      const { Client } = await import('./client.js');
      const c = Client.current() ?? new Client();
      await c.shutdown();
      await link.close();
    })();
  }
  return closing;
}

function clientLostMessage(observer: number, why: string): string {
  return `rank ${observer}: the client (rank 1) is lost (${why}); the cluster has no one to serve, so this rank exits — check rank 1's log for why it stopped`;
}

async function exitWith(code: number, closeMesh: () => Promise<void>): Promise<never> {
  // A clean end closes the mesh (collective, like MPI_Finalize, and bounded); a failure exits at once.
  if (code === 0) await Promise.race([closeMesh().catch(() => {}), new Promise((r) => setTimeout(r, 12_000).unref())]);
  process.exit(code);
}

/** What initialize() checked before any work: the world, the workers' threads and memory, the timeout. */
function settingsOf(o: InitializeOptions): { env: NodeJS.ProcessEnv; world: ReturnType<typeof detectWorld>; nthreads: number; memoryLimit: number; timeoutMs: number } {
  checkOptionNames(o);
  const env = o.env ?? process.env;
  const world = detectWorld(env, hostname());
  if (world.size < 3) throw new WorldTooSmallError(world.size);
  const nthreads = o.nthreads ?? 1;
  if (!Number.isInteger(nthreads) || nthreads < 1) throw new CompatUsageError(`initialize: nthreads must be a positive integer, got ${String(o.nthreads)}`);
  if (o.protocol !== undefined && o.protocol !== 'tcp') throw new CompatUsageError(`initialize: protocol '${o.protocol}' is not available; commune's ranks talk over their TCP mesh (use 'tcp' or leave it out)`);
  const memoryLimit = parseMemoryLimit(o.memoryLimit, nthreads);
  try {
    return { env, world, nthreads, memoryLimit, timeoutMs: msSetting(env, 'COMMUNE_TIMEOUT_MS', 600_000) };
  } catch (e) {
    throw new CompatUsageError((e as Error).message); // compat's own class: instanceof works across the bundle
  }
}

/**
 * Bad input to initialize() is the script's to catch; left uncaught, it ends the rank with the error's
 * own exit code (2: bad input) and one line — from rank 0 only, not once per rank — instead of Node's
 * stack trace and exit 1.
 */
function exitIfUncaught(e: CommuneError, rank: number): void {
  // The monitor sees an uncaught error (a rejected top-level await too) before Node's own report.
  process.on('uncaughtExceptionMonitor', (err) => {
    if (err !== e) return;
    if (rank <= 0) process.stderr.write(`commune: ${e.name}: ${e.message}\n`);
    process.exit(e.exitCode);
  });
}

function rankOr0(env: NodeJS.ProcessEnv): number {
  try { return detectWorld(env, hostname()).rank; } catch { return 0; }
}

export async function initialize(o: InitializeOptions = {}): Promise<boolean> {
  // The client's script loaded on a worker's task thread stops here (task-ref.ts, loadMain).
  if (inTaskThread()) return new Promise<boolean>(() => {});
  let settings: ReturnType<typeof settingsOf>;
  try {
    settings = settingsOf(o);
  } catch (e) {
    if (e instanceof CommuneError) exitIfUncaught(e, rankOr0(o.env ?? process.env));
    throw e;
  }
  const { world, nthreads, memoryLimit, timeoutMs } = settings;
  exitMode = o.exit ?? true;

  if (world.rank === 1) {
    const link = await ClientLink.start({ interface: o.interface, timeoutMs });
    setConnection(link);
    if (exitMode) {
      // dask-mpi registers atexit(send_close_signal): here, when the script's event loop runs dry.
      process.once('beforeExit', () => { void sendCloseSignal(); });
    }
    return true;
  }

  // A worker's death is survived (the scheduler re-runs its tasks): `commune launch` must not stop the job.
  if (world.rank >= 2) declareSurvivable();
  const mesh = await joinWorld({ interface: o.interface, timeoutMs });
  const log = rankLogger(mesh.rank, world.rank === 0 ? 'scheduler' : 'worker');
  const comm = new Communicator(mesh, { timeoutMs });
  let code: number;
  if (world.rank === 0) {
    const address = `commune://${mesh.listenAddress() ?? `rank-0@${hostname()}`}`;
    const scheduler = new Scheduler(mesh, { address });
    scheduler.start();
    await comm.bcast(address, 0);
    await comm.barrier();
    code = await scheduler.finished;
  } else {
    let address: string;
    try {
      address = await comm.bcast<string>('', 0);
      await comm.barrier();
    } catch (e) {
      // The scheduler or the client died while this worker still formed the cluster (the others may
      // already be past the barrier): the same clear message as when it dies later.
      if (!(e instanceof PeerLostError) || (e.rank !== 0 && e.rank !== 1)) throw e;
      const msg = e.rank === 0 ? new SchedulerLostError(mesh.rank, e.detail).message : clientLostMessage(mesh.rank, e.detail);
      log.error(msg);
      process.stderr.write(`commune: ${msg}\n`);
      return exitWith(1, () => mesh.close());
    }
    log.debug({ scheduler: address }, 'scheduler address received');
    const worker = new WorkerNode(mesh, {
      nthreads, memoryLimit, localDirectory: o.localDirectory ?? process.cwd(), resources: o.resources,
      address: `commune://${mesh.listenAddress() ?? `rank-${world.rank}@${hostname()}`}`,
    });
    const schedulerGone = (why: string): void => {
      const err = new SchedulerLostError(mesh.rank, why);
      log.error(err.message);
      process.stderr.write(`commune: ${err.message}\n`);
      void worker.close(1);
    };
    mesh.on('lost', (rank, why, left) => {
      // The scheduler left in order: the cluster is over even when its close never reached this worker
      // (at hundreds of workers a few were left waiting for it, for good).
      if (left && rank === 0) { void worker.close(0); return; }
      if (left) return;
      if (rank === 0) schedulerGone(why);
      if (rank === 1) {
        const msg = clientLostMessage(mesh.rank, why);
        log.error(msg);
        process.stderr.write(`commune: ${msg}\n`);
        void worker.close(1);
      }
    });
    worker.onSchedulerSilent = (ms) => schedulerGone(`no message for ${Math.round(ms / 1000)} s although this worker heartbeats; it is hung or unreachable`);
    worker.start();
    code = await worker.finished;
  }
  if (exitMode || code !== 0) return exitWith(code, () => mesh.close());
  await mesh.close();
  return false;
}
