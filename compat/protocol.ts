// Messages between client (rank 1), scheduler (rank 0) and workers (ranks ≥ 2). Every message is a
// batch (an array of ops) on one mesh tag; ops queued in one turn of the event loop travel together,
// so a map of 10,000 tasks is one message, not 10,000. Task arguments and results are opaque
// MessagePack bytes (typed arrays stay binary): the scheduler never decodes them.
import type { RemoteError } from './errors.js';
import type { TaskRef } from './task-ref.js';
import { decode, encode } from './serialize.js';

export const TAG = 'commune/compat/1';

export interface TaskSpec {
  key: string;
  /** Index into the message's `refs` (one copy of each function reference per message). */
  ref: number;
  /** encodeValue(args) with futures replaced by key markers. */
  args: Uint8Array;
  deps: string[];
  priority: number;
  retries?: number;
  /** Worker names (ranks) or addresses. */
  workers?: Array<string | number>;
  allowOtherWorkers?: boolean;
  resources?: Record<string, number>;
}

export type ClientOp =
  | { op: 'register-client' }
  | { op: 'update-graph'; refs: TaskRef[]; tasks: TaskSpec[] }
  | { op: 'scatter'; items: Array<{ key: string; value: Uint8Array }>; workers?: Array<string | number>; broadcast?: boolean }
  | { op: 'release'; keys: string[] }
  | { op: 'cancel'; keys: string[] }
  | { op: 'retry'; keys: string[] }
  | { op: 'info'; id: number }
  | { op: 'run'; id: number; ref: TaskRef; args: Uint8Array; workers?: Array<string | number> }
  | { op: 'terminate'; id: number };

export type KeyStatus = 'finished' | 'error' | 'cancelled' | 'lost';

export type SchedulerToClientOp =
  | { op: 'registered'; info: SchedulerInfo }
  | { op: 'key-done'; key: string; status: KeyStatus; value?: Uint8Array; error?: RemoteError }
  | { op: 'info'; id: number; info: SchedulerInfo }
  | { op: 'run-result'; id: number; results: Record<string, { ok: boolean; value?: Uint8Array; error?: RemoteError }> }
  | { op: 'terminated'; id: number };

export interface ComputeItem {
  key: string;
  /** Index into the compute op's `refs`. */
  ref: number;
  args: Uint8Array;
  deps: string[];
}

export type SchedulerToWorkerOp =
  | { op: 'registered'; heartbeatMs: number }
  | { op: 'compute'; refs: TaskRef[]; tasks: ComputeItem[]; data: Array<[string, Uint8Array]> }
  | { op: 'steal'; keys: string[] }
  | { op: 'free'; keys: string[] }
  | { op: 'run'; id: number; ref: TaskRef; args: Uint8Array }
  | { op: 'heartbeat-ack' }
  /** `error`: the cluster ends because of a failure (the worker exits non-zero with it). */
  | { op: 'close'; error?: string };

export type WorkerOp =
  | { op: 'register-worker'; address: string; nthreads: number; memoryLimit: number; localDirectory: string; resources: Record<string, number>; host: string; pid: number }
  | { op: 'task-finished'; key: string; value: Uint8Array; duration: number; thread: number }
  | { op: 'task-erred'; key: string; error: RemoteError; duration: number }
  | { op: 'steal-response'; key: string; ok: boolean }
  | { op: 'run-result'; id: number; ok: boolean; value?: Uint8Array; error?: RemoteError }
  | { op: 'heartbeat'; executing: number; ready: number }
  | { op: 'closed' };

export interface WorkerInfo {
  type: 'Worker';
  id: number;
  name: number;
  host: string;
  address: string;
  pid: number;
  nthreads: number;
  memory_limit: number;
  local_directory: string;
  resources: Record<string, number>;
  last_seen: number;
  status: 'running';
  metrics: { executing: number; in_memory: number; ready: number };
  nanny: null;
}

export interface SchedulerInfo {
  type: 'Scheduler';
  id: string;
  address: string;
  started: number;
  services: Record<string, number>;
  n_workers: number;
  total_threads: number;
  total_memory: number;
  workers: Record<string, WorkerInfo>;
}

/**
 * Sends ops to peers in batches, each batch one MessagePack buffer (raw bytes on the mesh, no second
 * encoding): everything queued in one event-loop turn travels together, and a busy link carries at
 * most one message per `minIntervalMs`, so per-message costs are paid per batch, not per task.
 */
export class Batcher<Op> {
  private readonly queues = new Map<number, Op[]>();
  private timer?: NodeJS.Timeout | NodeJS.Immediate;
  private last = 0;
  constructor(private readonly sendBatch: (rank: number, bytes: Uint8Array) => void, private readonly minIntervalMs = 1) {}

  push(rank: number, op: Op): void {
    let q = this.queues.get(rank);
    if (!q) { q = []; this.queues.set(rank, q); }
    q.push(op);
    if (this.timer === undefined) {
      const wait = this.minIntervalMs - (performance.now() - this.last);
      this.timer = wait > 0 ? setTimeout(() => this.flush(), wait) : setImmediate(() => this.flush());
    }
  }

  flush(): void {
    if (this.timer !== undefined) { clearTimeout(this.timer as NodeJS.Timeout); clearImmediate(this.timer as NodeJS.Immediate); }
    this.timer = undefined;
    this.last = performance.now();
    const qs = [...this.queues];
    this.queues.clear();
    for (const [rank, ops] of qs) if (ops.length > 0) this.sendBatch(rank, encode(ops));
  }
}

/** A received batch: the MessagePack buffer a Batcher sent. */
export function unpack<Op>(v: unknown): Op[] {
  return (v instanceof Uint8Array ? decode(v) : v) as Op[];
}

/** Interns function references for one message. */
export class RefTable {
  readonly refs: TaskRef[] = [];
  private readonly index = new Map<TaskRef, number>();
  of(ref: TaskRef): number {
    let i = this.index.get(ref);
    if (i === undefined) { i = this.refs.length; this.refs.push(ref); this.index.set(ref, i); }
    return i;
  }
}
