// A worker rank (dask-mpi: ranks ≥ 2, named by their rank): registers with the scheduler, runs the
// tasks it is sent on `nthreads` worker threads, reports results, heartbeats, gives up queued
// tasks that an idle worker steals, and exits on the scheduler's close. A lost scheduler ends this
// rank with a clear error (never the endless "Waiting to connect" of dask-mpi#58).
import { hostname } from 'node:os';
import { Worker as Thread } from 'node:worker_threads';
import type { Mesh } from 'commune';
import { rankLogger, type RankLogger } from '../src/log.js';
import { Batcher, TAG, unpack, type SchedulerToWorkerOp, type WorkerOp } from './protocol.js';
import type { ThreadIn, ThreadResult, ThreadRunResult, ThreadTask } from './worker-thread.js';
import { WORKER_TTL_MS } from './heartbeat.js';

/**
 * No message from the scheduler for this long while heartbeating: it is gone. The scheduler's own rule
 * for a silent worker (Dask's worker-ttl: 5 minutes, or 10 heartbeats), so that a scheduler that is
 * merely slow — 256 ranks on two cores held it past 30 s — is waited for, as it waits for its workers.
 */
export const schedulerSilenceMs = (heartbeatMs: number): number => Math.max(WORKER_TTL_MS, 10 * heartbeatMs);

export interface WorkerOptions {
  nthreads: number;
  memoryLimit: number;
  localDirectory: string;
  resources?: Record<string, number>;
  address: string;
}

interface ThreadSlot { thread: Thread; inflight: Set<string>; has: Set<string>; index: number }

export class WorkerNode {
  readonly log: RankLogger;
  private readonly threads: ThreadSlot[] = [];
  private readonly ready: ThreadTask[] = [];
  private readonly data = new Map<string, Uint8Array>();
  private readonly out: Batcher<WorkerOp>;
  private heartbeat?: NodeJS.Timeout;
  private avgDuration?: number;
  private closing = false;
  private lastHeard = Date.now();
  private done!: (code: number) => void;
  /** Called when the scheduler has not answered for schedulerSilenceMs (Dask's worker-ttl). */
  onSchedulerSilent?: (ms: number) => void;
  /** Resolves with the exit code: 0 after the scheduler's close. */
  readonly finished: Promise<number>;

  constructor(private readonly mesh: Mesh, private readonly opts: WorkerOptions) {
    this.log = rankLogger(mesh.rank, 'worker');
    this.finished = new Promise((r) => { this.done = r; });
    this.out = new Batcher((rank, ops) => {
      this.mesh.send(rank, TAG, ops).catch((e: Error) => this.log.debug({ err: e.message }, 'send to the scheduler failed'));
    });
  }

  start(): void {
    for (let i = 0; i < this.opts.nthreads; i++) {
      const thread = new Thread(new URL('./worker-thread.js', import.meta.url), { workerData: { communeTaskThread: true }, execArgv: ['--experimental-vm-modules', '--no-warnings'] });
      const slot: ThreadSlot = { thread, inflight: new Set(), has: new Set(), index: i };
  thread.on('message', (rs: ThreadResult[] | ThreadRunResult) => {
        if (Array.isArray(rs)) this.onResults(slot, rs);
        else this.toScheduler({ op: 'run-result', id: rs.id, ok: rs.ok, value: rs.value, error: rs.error });
      });
      thread.on('error', (e) => { this.log.error({ err: e.stack }, 'worker thread crashed'); process.exit(1); });
      this.threads.push(slot);
    }
    this.toScheduler({
      op: 'register-worker', address: this.opts.address, nthreads: this.opts.nthreads, memoryLimit: this.opts.memoryLimit,
      localDirectory: this.opts.localDirectory, resources: this.opts.resources ?? {}, host: hostname(), pid: process.pid,
    });
    void this.listen();
  }

  private toScheduler(op: WorkerOp): void { this.out.push(0, op); }

  private async listen(): Promise<void> {
    for (;;) {
      let ops: SchedulerToWorkerOp[];
      try {
        ops = unpack<SchedulerToWorkerOp>(await this.mesh.recv(0, TAG, { timeoutMs: Infinity }));
      } catch {
        return;
      }
      this.lastHeard = Date.now();
      for (const op of ops) this.onOp(op);
      this.pump();
    }
  }

  private onOp(op: SchedulerToWorkerOp): void {
    switch (op.op) {
      case 'registered':
        clearInterval(this.heartbeat);
        this.heartbeat = setInterval(() => {
          // A scheduler that stopped answering (hung, or cut off without a closed connection) ends this
          // rank instead of leaving it waiting forever (dask-mpi#58).
          const silent = Date.now() - this.lastHeard;
          if (silent > schedulerSilenceMs(op.heartbeatMs)) { this.onSchedulerSilent?.(silent); return; }
          this.toScheduler({ op: 'heartbeat', executing: this.threads.reduce((n, t) => n + t.inflight.size, 0), ready: this.ready.length });
        }, op.heartbeatMs);
        break;
      case 'compute':
        for (const [k, v] of op.data) this.data.set(k, v);
        for (const t of op.tasks) this.ready.push({ key: t.key, ref: op.refs[t.ref], args: t.args, deps: t.deps });
        break;
      case 'steal':
        for (const key of op.keys) {
          const i = this.ready.findIndex((t) => t.key === key);
          if (i >= 0) this.ready.splice(i, 1);
          this.toScheduler({ op: 'steal-response', key, ok: i >= 0 });
        }
        break;
      case 'free':
        for (const k of op.keys) this.data.delete(k);
        for (const t of this.threads) {
          const keys = op.keys.filter((k) => t.has.delete(k));
          if (keys.length > 0) t.thread.postMessage({ op: 'free', keys } satisfies ThreadIn);
        }
        break;
      case 'run': this.threads[0].thread.postMessage({ op: 'run', id: op.id, ref: op.ref, args: op.args } satisfies ThreadIn); break;
      case 'heartbeat-ack': break;
      case 'close':
        if (op.error !== undefined) { this.log.error(op.error); process.stderr.write(`commune: rank ${this.mesh.rank}: stopping: ${op.error}\n`); }
        void this.close(op.error === undefined ? 0 : 1);
        break;
    }
  }

  /** Short tasks go to a thread in runs (fewer messages); long ones one at a time (stealable until started). */
  private perThread(): number {
    return this.avgDuration !== undefined && this.avgDuration < 0.001 ? 64 : 1;
  }

  private pump(): void {
    if (this.closing) return;
    const cap = this.perThread();
    for (const slot of this.threads) {
      if (this.ready.length === 0) break;
      const n = Math.min(cap - slot.inflight.size, this.ready.length);
      if (n <= 0) continue;
      const tasks = this.ready.splice(0, n);
      const data: Array<[string, Uint8Array]> = [];
      for (const t of tasks) {
        slot.inflight.add(t.key);
        for (const d of t.deps) {
          if (slot.has.has(d)) continue;
          const v = this.data.get(d);
          if (v !== undefined) { data.push([d, v]); slot.has.add(d); }
        }
      }
      slot.thread.postMessage({ op: 'tasks', tasks, data } satisfies ThreadIn);
    }
  }

  private onResults(slot: ThreadSlot, rs: ThreadResult[]): void {
    for (const r of rs) {
      slot.inflight.delete(r.key);
      this.avgDuration = this.avgDuration === undefined ? r.duration : 0.9 * this.avgDuration + 0.1 * r.duration;
      if (r.ok) {
        slot.has.add(r.key);
        this.data.set(r.key, r.value!);
        this.toScheduler({ op: 'task-finished', key: r.key, value: r.value!, duration: r.duration, thread: slot.index });
      } else {
        this.toScheduler({ op: 'task-erred', key: r.key, error: r.error!, duration: r.duration });
      }
    }
    this.pump();
  }

  async close(code = 0): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.heartbeat);
    await Promise.all(this.threads.map((t) => t.thread.terminate()));
    if (code === 0) {
      this.toScheduler({ op: 'closed' });
      this.out.flush();
    }
    this.done(code);
  }
}
