// Messages between client (rank 1), scheduler (rank 0) and workers (ranks ≥ 2). Every message is a
// batch (an array of ops) on one mesh tag; ops queued in one turn of the event loop travel together,
// so a map of 10,000 tasks is one message, not 10,000. Task arguments and results are opaque
// MessagePack bytes (typed arrays stay binary): the scheduler never decodes them.
import type { RemoteError } from './errors.js';
import type { TaskRef } from './task-ref.js';

export const TAG = 'commune/compat/1';

export interface TaskSpec {
  key: string;
  ref: TaskRef;
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
  | { op: 'update-graph'; tasks: TaskSpec[] }
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
  ref: TaskRef;
  args: Uint8Array;
  deps: string[];
}

export type SchedulerToWorkerOp =
  | { op: 'registered'; heartbeatMs: number }
  | { op: 'compute'; tasks: ComputeItem[]; data: Array<[string, Uint8Array]> }
  | { op: 'steal'; keys: string[] }
  | { op: 'free'; keys: string[] }
  | { op: 'run'; id: number; ref: TaskRef; args: Uint8Array }
  | { op: 'heartbeat-ack' }
  | { op: 'close' };

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

/** Sends ops to peers in batches: everything queued for a rank in one event-loop turn is one message. */
export class Batcher<Op> {
  private readonly queues = new Map<number, Op[]>();
  private scheduled = false;
  constructor(private readonly sendBatch: (rank: number, ops: Op[]) => void) {}

  push(rank: number, op: Op): void {
    let q = this.queues.get(rank);
    if (!q) { q = []; this.queues.set(rank, q); }
    q.push(op);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    const qs = [...this.queues];
    this.queues.clear();
    for (const [rank, ops] of qs) if (ops.length > 0) this.sendBatch(rank, ops);
  }
}
