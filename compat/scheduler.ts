// The scheduler (rank 0): task states, a priority queue, dispatch to workers over the mesh with a
// bounded number of tasks in flight per worker, work stealing for idle workers, heartbeats, and
// distributed's failure semantics — a dead worker's processing tasks are re-run elsewhere, each
// death counting against the task ("suspicious"); past ALLOWED_FAILURES the task errs KilledWorker.
// Results are kept here as opaque bytes (and on the workers that hold them), so a dead worker never
// loses a finished result.
import type { Mesh } from 'commune';
import { rankLogger, type RankLogger } from '../src/log.js';
import type { RemoteError } from './errors.js';
import { PriorityHeap, type Priority } from './heap.js';
import { ALLOWED_FAILURES, heartbeatIntervalMs, workerTtlMs } from './heartbeat.js';
import {
  Batcher, RefTable, TAG, unpack, type ClientOp, type ComputeItem, type SchedulerInfo, type SchedulerToClientOp, type SchedulerToWorkerOp,
  type TaskSpec, type WorkerInfo, type WorkerOp,
} from './protocol.js';
import type { TaskRef } from './task-ref.js';

type State = 'waiting' | 'queued' | 'processing' | 'memory' | 'erred' | 'forgotten';

interface TaskState {
  key: string;
  ref: TaskRef;
  args: Uint8Array;
  deps: string[];
  waiting: Set<string>;
  dependents: Set<string>;
  state: State;
  prio: Priority;
  retries: number;
  suspicious: number;
  restrict?: Set<number>;
  loose: boolean;
  resources?: Record<string, number>;
  worker?: number;
  stealTo?: number;
  value?: Uint8Array;
  error?: RemoteError;
  wanted: boolean;
  holders: Set<number>;
}

interface WorkerState {
  rank: number;
  info: WorkerInfo;
  processing: Set<string>;
  has: Set<string>;
  used: Record<string, number>;
  avgDuration?: number;
  lastSeen: number;
  closed: boolean;
}

export interface SchedulerOptions {
  address: string;
  /** Rank of the client (dask-mpi: 1). */
  clientRank?: number;
  allowedFailures?: number;
}

export class Scheduler {
  readonly log: RankLogger;
  private readonly tasks = new Map<string, TaskState>();
  private readonly workers = new Map<number, WorkerState>();
  private readonly queue = new PriorityHeap<TaskState>();
  private readonly out: Batcher<SchedulerToClientOp | SchedulerToWorkerOp>;
  private readonly pendingCompute = new Map<number, { refs: RefTable; tasks: ComputeItem[]; data: Array<[string, Uint8Array]> }>();
  private readonly runs = new Map<number, { clientId: number; waiting: Set<number>; results: Record<string, { ok: boolean; value?: Uint8Array; error?: RemoteError }> }>();
  private readonly deadWorkers = new Set<number>();
  private readonly clientRank: number;
  private readonly allowedFailures: number;
  private readonly started = Date.now() / 1000;
  private generation = 0;
  private lastGraphAt = 0;
  private seq = 0;
  private runSeq = 0;
  private ttlTimer?: NodeJS.Timeout;
  private readonly sending = new Set<Promise<void>>();
  private terminating?: { id: number; waiting: Set<number> };
  private done!: (code: number) => void;
  /** Resolves with the exit code when the scheduler has stopped (0 after a shutdown). */
  readonly finished: Promise<number>;

  constructor(private readonly mesh: Mesh, private readonly opts: SchedulerOptions) {
    this.log = rankLogger(mesh.rank, 'scheduler');
    this.clientRank = opts.clientRank ?? 1;
    this.allowedFailures = opts.allowedFailures ?? ALLOWED_FAILURES;
    this.finished = new Promise((r) => { this.done = r; });
    this.out = new Batcher((rank, ops) => {
      const p = this.mesh.send(rank, TAG, ops).catch((e: Error) => this.log.debug({ peer: rank, err: e.message }, 'send failed'));
      this.sending.add(p);
      void p.finally(() => this.sending.delete(p));
    });
  }

  start(): void {
    for (let r = 0; r < this.mesh.size; r++) {
      if (r === this.mesh.rank) continue;
      void this.listen(r);
    }
    this.mesh.on('lost', (rank, why, left) => this.onLost(rank, why, left));
    this.ttlTimer = setInterval(() => this.checkTtl(), 1000);
  }

  private async listen(rank: number): Promise<void> {
    for (;;) {
      let ops: unknown[];
      try {
        ops = unpack(await this.mesh.recv(rank, TAG, { timeoutMs: Infinity }));
      } catch {
        return; // lost or closed: onLost handles it
      }
      try {
        if (rank === this.clientRank) for (const op of ops) this.onClient(op as ClientOp);
        else for (const op of ops) this.onWorker(rank, op as WorkerOp);
        this.schedule();
      } catch (e) {
        this.log.error({ peer: rank, err: (e as Error).stack }, 'scheduler: handling a message failed');
      }
    }
  }

  // ---- client ---------------------------------------------------------------------------------

  private toClient(op: SchedulerToClientOp): void { this.out.push(this.clientRank, op); }

  private onClient(op: ClientOp): void {
    switch (op.op) {
      case 'register-client': this.afterWorkers(() => this.toClient({ op: 'registered', info: this.info() })); break;
      case 'update-graph': this.updateGraph(op.refs, op.tasks); break;
      case 'scatter': this.scatter(op.items, op.workers, op.broadcast); break;
      case 'release': for (const k of op.keys) this.release(k); break;
      case 'cancel': for (const k of op.keys) this.cancel(k); break;
      case 'retry': for (const k of op.keys) this.retry(k); break;
      case 'info': this.afterWorkers(() => this.toClient({ op: 'info', id: op.id, info: this.info() })); break;
      case 'run': this.run(op); break;
      case 'terminate': this.terminate(op.id); break;
    }
  }

  private readonly beforeWorkers: Array<() => void> = [];

  /** Runs `fn` once every worker rank has registered or died (dask-mpi's fixed set: ranks 2..size-1). */
  private afterWorkers(fn: () => void): void {
    if (this.workers.size + this.deadWorkers.size >= this.mesh.size - 2) fn();
    else this.beforeWorkers.push(fn);
  }

  private flushBeforeWorkers(): void {
    if (this.workers.size + this.deadWorkers.size >= this.mesh.size - 2) for (const f of this.beforeWorkers.splice(0)) f();
  }

  private notifyDone(t: TaskState): void {
    if (!t.wanted) return;
    if (t.state === 'memory') this.toClient({ op: 'key-done', key: t.key, status: 'finished', value: t.value });
    else if (t.state === 'erred') this.toClient({ op: 'key-done', key: t.key, status: 'error', error: t.error });
  }

  private updateGraph(refs: TaskRef[], specs: TaskSpec[]): void {
    const now = Date.now();
    if (now - this.lastGraphAt > 100) this.generation++;
    this.lastGraphAt = now;
    const fresh: TaskState[] = [];
    for (const s of specs) {
      const old = this.tasks.get(s.key);
      if (old) {
        old.wanted = true;
        this.notifyDone(old);
        continue;
      }
      const t: TaskState = {
        key: s.key, ref: refs[s.ref], args: s.args, deps: s.deps, waiting: new Set(), dependents: new Set(), state: 'waiting',
        prio: [-(s.priority ?? 0), this.generation, this.seq++], retries: s.retries ?? 0, suspicious: 0,
        restrict: s.workers && s.workers.length > 0 ? this.resolveWorkers(s.workers) : undefined, loose: s.allowOtherWorkers ?? false,
        resources: s.resources, wanted: true, holders: new Set(),
      };
      this.tasks.set(s.key, t);
      fresh.push(t);
    }
    for (const t of fresh) {
      for (const d of t.deps) {
        const dt = this.tasks.get(d);
        if (!dt) { this.fail(t, { name: 'FutureLostError', message: `dependency '${d}' of task '${t.key}' is not known to the scheduler (released or lost)` }); break; }
        dt.dependents.add(t.key);
        if (dt.state === 'erred') { this.fail(t, dt.error!); break; }
        if (dt.state !== 'memory') t.waiting.add(d);
      }
      if (t.state === 'waiting' && t.waiting.size === 0) this.enqueue(t);
    }
  }

  /** Worker names (ranks), numeric strings or addresses → ranks. */
  private resolveWorkers(ws: Array<string | number>): Set<number> {
    const out = new Set<number>();
    for (const w of ws) {
      if (typeof w === 'number' || /^\d+$/.test(String(w))) { out.add(Number(w)); continue; }
      for (const [r, st] of this.workers) if (st.info.address === w || st.info.host === w) out.add(r);
    }
    return out;
  }

  private scatter(items: Array<{ key: string; value: Uint8Array }>, workers?: Array<string | number>, broadcast?: boolean): void {
    const targets = workers && workers.length > 0 ? [...this.resolveWorkers(workers)].filter((r) => this.workers.has(r)) : [...this.workers.keys()];
    items.forEach((it, i) => {
      let t = this.tasks.get(it.key);
      if (!t) {
        t = {
          key: it.key, ref: { builtin: 'scattered' }, args: new Uint8Array(0), deps: [], waiting: new Set(), dependents: new Set(), state: 'memory',
          prio: [0, this.generation, this.seq++], retries: 0, suspicious: 0, loose: true, wanted: true, holders: new Set(),
        };
        this.tasks.set(it.key, t);
      }
      t.wanted = true;
      if (t.state !== 'memory') { t.state = 'memory'; this.queueRemoved(t); }
      t.value = it.value;
      // Round-robin placement (or every target with broadcast), as distributed's scatter.
      const place = broadcast ? targets : targets.length > 0 ? [targets[i % targets.length]] : [];
      for (const r of place) this.sendData(r, t);
      this.notifyDone(t);
      this.wakeDependents(t);
    });
  }

  private sendData(rank: number, t: TaskState): void {
    const w = this.workers.get(rank);
    if (!w || w.has.has(t.key) || t.value === undefined) return;
    this.pending(rank).data.push([t.key, t.value]);
    w.has.add(t.key);
    t.holders.add(rank);
  }

  private release(key: string): void {
    const t = this.tasks.get(key);
    if (!t) return;
    t.wanted = false;
    this.maybeForget(t);
  }

  /** Forgets a task nobody wants and no unfinished dependent needs; then its dependencies, likewise. */
  private maybeForget(t: TaskState): void {
    if (t.wanted || t.state === 'forgotten') return;
    for (const d of t.dependents) {
      const dt = this.tasks.get(d);
      if (dt && dt.state !== 'memory' && dt.state !== 'erred' && dt.state !== 'forgotten') return;
    }
    this.forget(t);
  }

  private forget(t: TaskState): void {
    if (t.state === 'processing' && t.worker !== undefined) this.workers.get(t.worker)?.processing.delete(t.key);
    t.state = 'forgotten';
    this.tasks.delete(t.key);
    for (const r of t.holders) {
      const w = this.workers.get(r);
      if (w) { w.has.delete(t.key); this.out.push(r, { op: 'free', keys: [t.key] }); }
    }
    for (const d of t.deps) {
      const dt = this.tasks.get(d);
      if (!dt) continue;
      dt.dependents.delete(t.key);
      this.maybeForget(dt);
    }
  }

  private cancel(key: string): void {
    const t = this.tasks.get(key);
    if (!t) return;
    for (const d of [...t.dependents]) this.cancel(d);
    if (t.wanted) this.toClient({ op: 'key-done', key, status: 'cancelled' });
    t.wanted = false;
    this.forget(t);
  }

  private retry(key: string): void {
    const t = this.tasks.get(key);
    if (!t || t.state !== 'erred') return;
    for (const d of t.deps) this.retry(d);
    t.error = undefined;
    t.suspicious = 0;
    t.state = 'waiting';
    t.waiting = new Set(t.deps.filter((d) => this.tasks.get(d)?.state !== 'memory'));
    if (t.waiting.size === 0) this.enqueue(t);
  }

  private run(op: Extract<ClientOp, { op: 'run' }>): void {
    const targets = op.workers && op.workers.length > 0 ? [...this.resolveWorkers(op.workers)].filter((r) => this.workers.has(r)) : [...this.workers.keys()];
    const id = ++this.runSeq;
    const entry = { waiting: new Set(targets), results: {} as Record<string, { ok: boolean; value?: Uint8Array; error?: RemoteError }>, clientId: op.id };
    this.runs.set(id, entry);
    for (const r of targets) this.out.push(r, { op: 'run', id, ref: op.ref, args: op.args });
    this.finishRun(id);
  }

  private finishRun(id: number): void {
    const e = this.runs.get(id);
    if (!e || e.waiting.size > 0) return;
    this.runs.delete(id);
    this.toClient({ op: 'run-result', id: e.clientId, results: e.results });
  }

  private terminate(id: number): void {
    if (this.terminating) return;
    const alive = [...this.workers.values()].filter((w) => !w.closed).map((w) => w.rank);
    this.terminating = { id, waiting: new Set(alive) };
    for (const r of alive) this.out.push(r, { op: 'close' });
    this.checkTerminated();
  }

  private checkTerminated(): void {
    if (!this.terminating || this.terminating.waiting.size > 0) return;
    this.toClient({ op: 'terminated', id: this.terminating.id });
    this.out.flush();
    this.stop(0);
  }

  private stop(code: number): void {
    clearInterval(this.ttlTimer);
    this.done(code);
  }

  // ---- workers --------------------------------------------------------------------------------

  private onWorker(rank: number, op: WorkerOp): void {
    const w = this.workers.get(rank);
    if (w) w.lastSeen = Date.now();
    switch (op.op) {
      case 'register-worker': {
        if (this.deadWorkers.has(rank)) return;
        const info: WorkerInfo = {
          type: 'Worker', id: rank, name: rank, host: op.host, address: op.address, pid: op.pid, nthreads: op.nthreads,
          memory_limit: op.memoryLimit, local_directory: op.localDirectory, resources: op.resources, last_seen: Date.now() / 1000,
          status: 'running', metrics: { executing: 0, in_memory: 0, ready: 0 }, nanny: null,
        };
        this.workers.set(rank, { rank, info, processing: new Set(), has: new Set(), used: {}, lastSeen: Date.now(), closed: false });
        const hb = heartbeatIntervalMs(this.workers.size);
        for (const r of this.workers.keys()) this.out.push(r, { op: 'registered', heartbeatMs: hb });
        this.log.info({ worker: rank, address: op.address }, 'worker registered');
        this.flushBeforeWorkers();
        break;
      }
      case 'heartbeat':
        if (w) { w.info.metrics.executing = op.executing; w.info.metrics.ready = op.ready; w.info.last_seen = Date.now() / 1000; }
        this.out.push(rank, { op: 'heartbeat-ack' });
        break;
      case 'task-finished': this.onFinished(rank, op.key, op.value, op.duration); break;
      case 'task-erred': this.onErred(rank, op.key, op.error, op.duration); break;
      case 'steal-response': this.onStealResponse(rank, op.key, op.ok); break;
      case 'run-result': {
        const e = this.runs.get(op.id);
        if (!e || !w) return;
        e.results[w.info.address] = { ok: op.ok, value: op.value, error: op.error };
        e.waiting.delete(rank);
        this.finishRun(op.id);
        break;
      }
      case 'closed':
        if (w) w.closed = true;
        this.terminating?.waiting.delete(rank);
        this.checkTerminated();
        break;
    }
  }

  private releaseFrom(w: WorkerState, t: TaskState): void {
    w.processing.delete(t.key);
    if (t.resources) for (const [r, n] of Object.entries(t.resources)) w.used[r] = (w.used[r] ?? 0) - n;
  }

  private onFinished(rank: number, key: string, value: Uint8Array, duration: number): void {
    const t = this.tasks.get(key);
    const w = this.workers.get(rank);
    if (!w) return;
    w.avgDuration = w.avgDuration === undefined ? duration : 0.9 * w.avgDuration + 0.1 * duration;
    w.has.add(key);
    if (!t || t.state !== 'processing' || t.worker !== rank) return;
    this.releaseFrom(w, t);
    t.state = 'memory';
    t.value = value;
    t.holders.add(rank);
    t.worker = undefined;
    this.notifyDone(t);
    this.wakeDependents(t);
    this.maybeForget(t);
  }

  private wakeDependents(t: TaskState): void {
    for (const d of t.dependents) {
      const dt = this.tasks.get(d);
      if (!dt || dt.state !== 'waiting') continue;
      dt.waiting.delete(t.key);
      if (dt.waiting.size === 0) this.enqueue(dt);
    }
  }

  private onErred(rank: number, key: string, error: RemoteError, duration: number): void {
    const t = this.tasks.get(key);
    const w = this.workers.get(rank);
    if (!t || !w || t.state !== 'processing' || t.worker !== rank) return;
    w.avgDuration = w.avgDuration === undefined ? duration : 0.9 * w.avgDuration + 0.1 * duration;
    this.releaseFrom(w, t);
    t.worker = undefined;
    if (t.retries > 0) {
      t.retries--;
      this.log.info({ key, left: t.retries }, 'task failed; retrying');
      this.enqueue(t);
      return;
    }
    this.fail(t, error);
  }

  /** Errs a task and (with the same exception) every dependent, as distributed does. */
  private fail(t: TaskState, error: RemoteError): void {
    this.queueRemoved(t);
    t.state = 'erred';
    t.error = error;
    this.notifyDone(t);
    for (const d of t.dependents) {
      const dt = this.tasks.get(d);
      if (dt && dt.state !== 'memory' && dt.state !== 'erred') this.fail(dt, error);
    }
  }

  private onLost(rank: number, why: string, left: boolean): void {
    if (rank === this.clientRank) {
      if (this.terminating || left) { this.stop(0); return; }
      const error = `rank ${this.mesh.rank}: the client (rank ${rank}) is lost (${why}); the cluster has no one to serve, so every rank stops — check rank ${rank}'s log for why it stopped`;
      this.log.error(error);
      process.stderr.write(`commune: ${error}\n`);
      for (const w of this.workers.values()) this.out.push(w.rank, { op: 'close', error });
      this.out.flush();
      // The workers should hear why before this rank exits (bounded: a stuck peer never holds it).
      void Promise.race([Promise.allSettled([...this.sending]), new Promise((r) => setTimeout(r, 2000))]).then(() => this.stop(1));
      return;
    }
    this.removeWorker(rank, why);
  }

  private removeWorker(rank: number, why: string): void {
    this.deadWorkers.add(rank);
    this.flushBeforeWorkers();
    const w = this.workers.get(rank);
    if (!w) return;
    this.workers.delete(rank);
    if (this.terminating) { this.terminating.waiting.delete(rank); this.checkTerminated(); return; }
    this.log.warn({ worker: rank, why, processing: w.processing.size }, 'worker lost; rescheduling its tasks');
    for (const key of w.processing) {
      const t = this.tasks.get(key);
      if (!t || t.state !== 'processing') continue;
      t.worker = undefined;
      t.suspicious++;
      if (t.suspicious > this.allowedFailures) {
        this.fail(t, { name: 'KilledWorker', message: '', key, lastWorker: w.info.address, attempts: t.suspicious });
      } else {
        this.enqueue(t);
      }
    }
    for (const key of w.has) this.tasks.get(key)?.holders.delete(rank);
    for (const [id, e] of this.runs) {
      if (e.waiting.delete(rank)) { e.results[w.info.address] = { ok: false, error: { name: 'PeerLostError', message: `worker ${rank} died: ${why}` } }; this.finishRun(id); }
    }
    this.schedule();
  }

  private checkTtl(): void {
    const ttl = workerTtlMs(this.workers.size);
    const now = Date.now();
    for (const w of [...this.workers.values()]) if (now - w.lastSeen > ttl) this.removeWorker(w.rank, `no heartbeat for ${Math.round((now - w.lastSeen) / 1000)} s (worker-ttl ${ttl / 1000} s)`);
  }

  // ---- scheduling -----------------------------------------------------------------------------

  private enqueue(t: TaskState): void {
    t.state = 'queued';
    this.queue.push(t);
  }

  /** Lazy deletion: a task leaving the queue keeps its heap slot until popped. */
  private queueRemoved(t: TaskState): void {
    if (t.state === 'processing' && t.worker !== undefined) {
      const w = this.workers.get(t.worker);
      if (w) this.releaseFrom(w, t);
      t.worker = undefined;
    }
  }

  /** Tasks a worker may hold at once: its threads plus enough queued work to cover a round trip (~5 ms). */
  private capacity(w: WorkerState): number {
    const n = w.info.nthreads;
    const prefetch = w.avgDuration === undefined ? n : Math.max(1, Math.min(1000, Math.ceil((n * 0.005) / Math.max(w.avgDuration, 1e-6))));
    return n + prefetch;
  }

  private fits(w: WorkerState, t: TaskState, strict: boolean): boolean {
    if (t.restrict && (strict || !t.loose) && !t.restrict.has(w.rank)) return false;
    if (t.resources) {
      for (const [r, n] of Object.entries(t.resources)) if ((w.info.resources[r] ?? 0) - (w.used[r] ?? 0) < n) return false;
    }
    return true;
  }

  private pending(rank: number): { refs: RefTable; tasks: ComputeItem[]; data: Array<[string, Uint8Array]> } {
    let p = this.pendingCompute.get(rank);
    if (!p) { p = { refs: new RefTable(), tasks: [], data: [] }; this.pendingCompute.set(rank, p); }
    return p;
  }

  private assign(t: TaskState, w: WorkerState): void {
    t.state = 'processing';
    t.worker = w.rank;
    t.stealTo = undefined;
    w.processing.add(t.key);
    if (t.resources) for (const [r, n] of Object.entries(t.resources)) w.used[r] = (w.used[r] ?? 0) + n;
    for (const d of t.deps) { const dt = this.tasks.get(d); if (dt) this.sendData(w.rank, dt); }
    const p = this.pending(w.rank);
    p.tasks.push({ key: t.key, ref: p.refs.of(t.ref), args: t.args, deps: t.deps });
  }

  private schedule(): void {
    const ws = [...this.workers.values()].filter((w) => !w.closed);
    if (ws.length === 0) {
      if (this.deadWorkers.size >= this.mesh.size - 2) this.failAllPending('every worker rank has died; dask-mpi workers are not restarted, so nothing can run');
    } else {
      const deferred: TaskState[] = [];
      while (this.queue.size > 0) {
        const t = this.queue.pop()!;
        if (t.state !== 'queued' || this.tasks.get(t.key) !== t) continue;
        let best: WorkerState | undefined;
        let bestLoad = Infinity;
        for (const strict of t.restrict && t.loose ? [true, false] : [true]) {
          for (const w of ws) {
            if (w.processing.size >= this.capacity(w) || !this.fits(w, t, strict)) continue;
            const load = w.processing.size / w.info.nthreads;
            if (load < bestLoad) { best = w; bestLoad = load; }
          }
          if (best) break;
        }
        if (best) { this.assign(t, best); continue; }
        const anyEligible = ws.some((w) => this.fits(w, t, false) || (t.resources === undefined && (!t.restrict || t.loose || t.restrict.has(w.rank))));
        if (!anyEligible && t.restrict && !t.loose && [...t.restrict].every((r) => this.deadWorkers.has(r) || r < 2 || r >= this.mesh.size)) {
          this.fail(t, { name: 'ValueError', message: `task '${t.key}' may only run on workers ${[...t.restrict].join(', ')}, and none of them is alive` });
          continue;
        }
        deferred.push(t);
        if (!t.restrict && !t.resources) break; // every worker is full
      }
      for (const t of deferred) this.queue.push(t);
      if (this.queue.size === 0) this.steal(ws);
    }
    for (const [rank, p] of this.pendingCompute) this.out.push(rank, { op: 'compute', refs: p.refs.refs, tasks: p.tasks, data: p.data });
    this.pendingCompute.clear();
  }

  /** Idle threads take not-yet-started tasks from overloaded workers (transactional: the victim confirms). */
  private steal(ws: WorkerState[]): void {
    for (const thief of ws) {
      let want = thief.info.nthreads - thief.processing.size;
      if (want <= 0) continue;
      const victims = ws.filter((v) => v !== thief && v.processing.size > v.info.nthreads).sort((a, b) => b.processing.size - a.processing.size);
      for (const v of victims) {
        const keys: string[] = [];
        for (const key of [...v.processing].reverse()) {
          if (want <= 0 || v.processing.size - keys.length <= v.info.nthreads) break;
          const t = this.tasks.get(key);
          if (!t || t.stealTo !== undefined || !this.fits(thief, t, false)) continue;
          t.stealTo = thief.rank;
          keys.push(key);
          want--;
        }
        if (keys.length > 0) this.out.push(v.rank, { op: 'steal', keys });
      }
    }
  }

  private onStealResponse(rank: number, key: string, ok: boolean): void {
    const t = this.tasks.get(key);
    if (!t) return;
    const thief = t.stealTo === undefined ? undefined : this.workers.get(t.stealTo);
    t.stealTo = undefined;
    if (!ok || t.state !== 'processing' || t.worker !== rank) return;
    const v = this.workers.get(rank);
    if (v) this.releaseFrom(v, t);
    if (thief && !thief.closed) this.assign(t, thief);
    else this.enqueue(t);
  }

  private failAllPending(message: string): void {
    for (const t of this.tasks.values()) {
      if (t.state === 'queued' || t.state === 'waiting' || t.state === 'processing') this.fail(t, { name: 'NoWorkersError', message });
    }
  }

  info(): SchedulerInfo {
    const workers: Record<string, WorkerInfo> = {};
    let threads = 0;
    let memory = 0;
    for (const w of [...this.workers.values()].sort((a, b) => a.rank - b.rank)) {
      w.info.metrics.in_memory = w.has.size;
      workers[w.info.address] = w.info;
      threads += w.info.nthreads;
      memory += w.info.memory_limit;
    }
    return {
      type: 'Scheduler', id: `Scheduler-${this.opts.address}`, address: this.opts.address, started: this.started, services: {},
      n_workers: this.workers.size, total_threads: threads, total_memory: memory, workers,
    };
  }
}
