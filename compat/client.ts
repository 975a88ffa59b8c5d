// Client: distributed's Client API on the mesh — submit/map (pure keys de-duplicate), gather,
// scatter, get (the graph protocol dask-ml uses), wait, asCompleted, run, schedulerInfo, close,
// shutdown. Only the client rank (1) has a scheduler connection (initialize() makes it).
import { inspect } from 'node:util';
import { createHash, randomUUID } from 'node:crypto';
import { CancelledError, CompatUsageError, fromRemoteError, TimeoutError, type RemoteError } from './errors.js';
import { Future, timeoutError, type FutureHost, type KeyState } from './future.js';
import { connection } from './connection.js';
import { getGraph, type GetOptions, type Graph } from './graph.js';
import type { ClientLink } from './client-link.js';
import type { SchedulerInfo, SchedulerToClientOp, TaskSpec } from './protocol.js';
import { decode, encode, markFutures } from './serialize.js';
import { refName, taskRef, type AnyFn, type TaskRef } from './task-ref.js';

export interface SubmitOptions {
  key?: string;
  pure?: boolean;
  retries?: number;
  priority?: number;
  workers?: Array<string | number> | string | number;
  allowOtherWorkers?: boolean;
  resources?: Record<string, number>;
}
export interface MapOptions extends Omit<SubmitOptions, 'key'> { key?: string | string[] }

const SUBMIT_KEYS = new Set(['key', 'pure', 'retries', 'priority', 'workers', 'allowOtherWorkers', 'resources']);

/** A trailing plain object whose keys are all option names is the options (Dask's keyword arguments). */
export function splitOptions<O>(rest: unknown[], names: Set<string>): [unknown[], O] {
  const last = rest[rest.length - 1];
  if (last !== null && typeof last === 'object' && Object.getPrototypeOf(last) === Object.prototype) {
    const ks = Object.keys(last);
    if (ks.length > 0 && ks.every((k) => names.has(k))) return [rest.slice(0, -1), last as O];
  }
  return [rest, {} as O];
}

export function tokenize(...parts: Array<Uint8Array | string>): string {
  const h = createHash('md5');
  // Each part length-prefixed, so ('a', 'b') and ('ab', '') differ.
  for (const p of parts) { h.update(`${typeof p === 'string' ? 's' : 'b'}${p.length}:`); h.update(p); }
  return h.digest('hex');
}

function workerList(w: SubmitOptions['workers']): Array<string | number> | undefined {
  if (w === undefined) return undefined;
  return Array.isArray(w) ? w : [w];
}

export type Nested<T> = T | Nested<T>[] | { [k: string]: Nested<T> };

export class Client implements FutureHost {
  private static instance?: Client;
  private readonly link: ClientLink;
  private readonly keys = new Map<string, KeyState>();
  private readonly requests = new Map<number, { resolve: (op: SchedulerToClientOp) => void; reject: (e: Error) => void }>();
  private reqId = 0;
  private isClosed = false;
  /** The scheduler's last answer to `info` (for the repr). */
  private lastInfo?: SchedulerInfo;
  /** Set once registered with the scheduler. */
  readonly ready: Promise<SchedulerInfo>;

  /** Connects to the scheduler initialize() found (dask-mpi's no-argument Client()). */
  constructor(address?: string) {
    const link = connection();
    if (!link) {
      throw new CompatUsageError('Client(): no scheduler to connect to — call `await initialize()` first (it runs the scheduler on rank 0, the workers on ranks ≥ 2, and returns on rank 1 where the Client connects)');
    }
    if (address !== undefined && address !== link.address) {
      throw new CompatUsageError(`Client('${address}'): this job's scheduler is at ${link.address}; call Client() with no address (or that one)`);
    }
    this.link = link;
    link.onOps((ops) => { for (const op of ops as SchedulerToClientOp[]) this.onOp(op); });
    link.onLost((e) => this.onLost(e));
    this.ready = this.request((id) => ({ op: 'info', id })).then((op) => (this.lastInfo = (op as Extract<SchedulerToClientOp, { op: 'info' }>).info));
    // Nobody need await it: a scheduler lost before it answered must not end the script on its own.
    this.ready.catch(() => {});
    Client.instance = this;
  }

  /** The scheduler's address (the one initialize() broadcast). */
  get scheduler(): string { return this.link.address; }

  static current(): Client | undefined { return Client.instance; }

  // ---- FutureHost -----------------------------------------------------------------------------

  state(key: string): KeyState | undefined { return this.keys.get(key); }

  addRef(key: string): void { const s = this.keys.get(key); if (s) s.refs++; }

  decRef(key: string): void {
    const s = this.keys.get(key);
    if (!s) return;
    if (--s.refs > 0) return;
    this.keys.delete(key);
    // Also from the garbage collector's callback: never a throw there (the scheduler may be lost).
    if (!this.isClosed && !this.link.isClosed && !this.link.lost) this.link.send({ op: 'release', keys: [key] });
    for (const w of s.waiters.splice(0)) w();
  }

  async waitFor(key: string, timeoutMs?: number): Promise<void> {
    const s = this.keys.get(key);
    if (!s || s.status !== 'pending') return;
    if (this.link.lost) throw this.link.lost;
    const release = this.link.hold();
    try {
      await new Promise<void>((resolve, reject) => {
        s.waiters.push(resolve);
        if (timeoutMs !== undefined) {
          const t = setTimeout(() => reject(timeoutError(`future ${key}`, timeoutMs)), timeoutMs);
          s.waiters.push(() => clearTimeout(t));
        }
      });
    } finally {
      release();
    }
    if (s.status === 'pending' && this.link.lost) throw this.link.lost;
  }

  decodeValue(key: string): unknown {
    const s = this.keys.get(key);
    if (!s || s.value === undefined) return undefined;
    if (!s.decoded) s.decoded = { v: decode(s.value) };
    return s.decoded.v;
  }

  cancelKeys(keys: string[]): void {
    for (const k of keys) {
      const s = this.keys.get(k);
      if (s && s.status === 'pending') this.settle(k, { status: 'cancelled' });
    }
    this.link.send({ op: 'cancel', keys });
  }

  retryKeys(keys: string[]): void {
    const todo = keys.filter((k) => this.keys.get(k)?.status === 'error');
    for (const k of todo) { const s = this.keys.get(k)!; s.status = 'pending'; s.error = undefined; }
    if (todo.length > 0) this.link.send({ op: 'retry', keys: todo });
  }

  // ---- messages -------------------------------------------------------------------------------

  private onOp(op: SchedulerToClientOp): void {
    if (op.op === 'key-done') { this.settle(op.key, { status: op.status, value: op.value, error: op.error }); return; }
    if ('id' in op) { const r = this.requests.get(op.id); if (r) { this.requests.delete(op.id); r.resolve(op); } }
  }

  /** The scheduler is gone: whoever waits on it is woken to fail with `e` (SchedulerLostError). */
  private onLost(e: Error): void {
    for (const s of this.keys.values()) if (s.status === 'pending') for (const w of s.waiters.splice(0)) w();
    for (const r of this.requests.values()) r.reject(e);
    this.requests.clear();
  }

  private settle(key: string, r: { status: KeyState['status']; value?: Uint8Array; error?: RemoteError }): void {
    const s = this.keys.get(key);
    if (!s || (s.status !== 'pending' && r.status !== 'cancelled')) return;
    s.status = r.status;
    s.value = r.value;
    s.decoded = undefined;
    s.error = r.error;
    for (const w of s.waiters.splice(0)) w();
  }

  private async request(make: (id: number) => Parameters<ClientLink['send']>[0], force = false): Promise<SchedulerToClientOp> {
    if (!force) this.check();
    const id = ++this.reqId;
    const release = this.link.hold();
    try {
      return await new Promise<SchedulerToClientOp>((resolve, reject) => {
        this.requests.set(id, { resolve, reject });
        try { this.link.send(make(id)); } catch (e) { this.requests.delete(id); reject(e as Error); }
      });
    } finally {
      release();
    }
  }

  private check(): void {
    if (this.isClosed) throw new CompatUsageError('this Client is closed');
  }

  private newKey(key: string): boolean {
    if (this.keys.has(key)) return false;
    this.keys.set(key, { status: 'pending', refs: 0, waiters: [] });
    return true;
  }

  private keyOf = (x: unknown): string | undefined => (x instanceof Future ? x.key : undefined);

  private spec(ref: number, key: string, args: Uint8Array, deps: Set<string>, o: SubmitOptions, priority: number): TaskSpec {
    return {
      key, ref, args, deps: [...deps], priority, retries: o.retries, workers: workerList(o.workers),
      allowOtherWorkers: o.allowOtherWorkers, resources: o.resources,
    };
  }

  // ---- API ------------------------------------------------------------------------------------

  /** submit(fn, ...args, { key, pure, retries, priority, workers, allowOtherWorkers, resources }) → Future. */
  submit(fn: AnyFn, ...rest: unknown[]): Future {
    this.check();
    const [args, o] = splitOptions<SubmitOptions>(rest, SUBMIT_KEYS);
    const ref = taskRef(fn);
    if (o.allowOtherWorkers && o.workers === undefined) throw new CompatUsageError('submit: allowOtherWorkers only makes sense with workers=');
    const deps = new Set<string>();
    const bytes = encode(markFutures(args, this.keyOf, deps));
    const key = o.key ?? (o.pure === false ? `${refName(ref)}-${randomUUID()}` : `${refName(ref)}-${tokenize(JSON.stringify(ref), bytes)}`);
    if (this.newKey(key)) this.link.send({ op: 'update-graph', refs: [ref], tasks: [this.spec(0, key, bytes, deps, o, o.priority ?? 0)] });
    return new Future(key, this);
  }

  /** map(fn, ...iterables, options) → Future[] (one per position; identical argument tuples share a task). */
  map(fn: AnyFn, ...rest: unknown[]): Future[] {
    this.check();
    const [iterables, o] = splitOptions<MapOptions>(rest, SUBMIT_KEYS);
    if (iterables.length === 0) throw new CompatUsageError('map: give at least one array of arguments');
    const lists = iterables.map((it, i) => {
      if (it === null || typeof it !== 'object' || !(Symbol.iterator in it) || (typeof (it as unknown as Iterator<unknown>).next === 'function')) {
        throw new CompatUsageError(`map: argument ${i + 1} must be an array (or another re-iterable collection), not an iterator or a ${typeof it}`);
      }
      return [...(it as Iterable<unknown>)];
    });
    const n = Math.min(...lists.map((l) => l.length));
    const ref = taskRef(fn);
    const fnTok = tokenize(JSON.stringify(ref));
    const explicit = Array.isArray(o.key) ? o.key : undefined;
    const prefix = typeof o.key === 'string' ? o.key : refName(ref);
    const uuid = randomUUID();
    const specs: TaskSpec[] = [];
    const out: Future[] = [];
    for (let i = 0; i < n; i++) {
      const deps = new Set<string>();
      const bytes = encode(markFutures(lists.map((l) => l[i]), this.keyOf, deps));
      const key = explicit?.[i] ?? (o.pure === false ? `${prefix}-${uuid}-${i}` : `${prefix}-${tokenize(fnTok, bytes)}`);
      if (this.newKey(key)) specs.push(this.spec(0, key, bytes, deps, o as SubmitOptions, o.priority ?? 0));
      out.push(new Future(key, this));
    }
    if (specs.length > 0) this.link.send({ op: 'update-graph', refs: [ref], tasks: specs });
    return out;
  }

  /** Sends data to the workers; returns futures that are already finished (same shape: list, object or one value). */
  scatter<T>(data: T, o: { workers?: SubmitOptions['workers']; broadcast?: boolean; hash?: boolean } = {}): T extends unknown[] ? Future[] : Future | Record<string, Future> {
    this.check();
    const items: Array<{ key: string; value: Uint8Array }> = [];
    const one = (v: unknown, key?: string): Future => {
      const bytes = encode(v);
      const type = v === null ? 'null' : typeof v === 'object' ? (v.constructor?.name ?? 'Object') : typeof v;
      const k = key ?? `${type}-${o.hash === false ? randomUUID().replace(/-/g, '') : tokenize(bytes)}`;
      if (this.newKey(k) || this.keys.get(k)!.status !== 'finished') {
        items.push({ key: k, value: bytes });
        const s = this.keys.get(k)!;
        s.status = 'finished';
        s.value = bytes;
      }
      return new Future(k, this);
    };
    let out: unknown;
    if (Array.isArray(data)) out = data.map((v) => one(v));
    else if (data !== null && typeof data === 'object' && Object.getPrototypeOf(data) === Object.prototype) {
      out = Object.fromEntries(Object.entries(data as Record<string, unknown>).map(([k, v]) => [k, one(v, k)]));
    } else out = one(data);
    if (items.length > 0) this.link.send({ op: 'scatter', items, workers: workerList(o.workers), broadcast: o.broadcast });
    return out as never;
  }

  /** Results of (nested lists/objects of) futures, same shape. errors: 'raise' (first failure) or 'skip' (dropped from lists). */
  async gather(futures: Nested<Future>, o: { errors?: 'raise' | 'skip' } = {}): Promise<unknown> {
    const errors = o.errors ?? 'raise';
    if (errors !== 'raise' && errors !== 'skip') throw new CompatUsageError(`gather: errors must be 'raise' or 'skip', got '${String(errors)}'`);
    const all: Future[] = [];
    const collect = (x: unknown): void => {
      if (x instanceof Future) all.push(x);
      else if (Array.isArray(x)) x.forEach(collect);
      else if (x !== null && typeof x === 'object') Object.values(x).forEach(collect);
    };
    collect(futures);
    for (const f of all) if (this.keys.get(f.key) === undefined && f.status !== 'cancelled') throw new CompatUsageError(`gather: future ${f.key} belongs to another client`);
    await Promise.all(all.map((f) => this.waitFor(f.key)));
    const SKIP = Symbol('skip');
    const value = (f: Future): unknown => {
      const s = this.keys.get(f.key);
      if (s?.status === 'finished') return this.decodeValue(f.key);
      if (errors === 'skip') return SKIP;
      if (s?.status === 'error') throw fromRemoteError(s.error!);
      throw new CancelledError([f.key]);
    };
    const build = (x: unknown): unknown => {
      if (x instanceof Future) return value(x);
      if (Array.isArray(x)) return x.map(build).filter((v) => v !== SKIP);
      if (x !== null && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => { const r = build(v); return [k, r === SKIP ? null : r]; }));
      return x;
    };
    return build(futures);
  }

  /** wait(futures, { timeout (ms), returnWhen }) → { done, notDone }. */
  async wait(fs: Future[] | Future, o: { timeout?: number; returnWhen?: 'ALL_COMPLETED' | 'FIRST_COMPLETED' } = {}): Promise<{ done: Set<Future>; notDone: Set<Future> }> {
    const list = fs instanceof Future ? [fs] : fs;
    if (!Array.isArray(list)) throw new CompatUsageError('wait expects a list of futures (wait([x, y]), not wait(x, y))');
    const when = o.returnWhen ?? 'ALL_COMPLETED';
    const waits = list.map((f) => this.waitFor(f.key));
    const all = when === 'ALL_COMPLETED' ? Promise.all(waits) : Promise.race(waits);
    if (o.timeout !== undefined) {
      let t: NodeJS.Timeout | undefined;
      const release = this.link.hold();
      try {
        await Promise.race([all, new Promise((_, rej) => { t = setTimeout(() => rej(new TimeoutError(`wait: not every future finished within ${o.timeout} ms`)), o.timeout); })]);
      } finally { clearTimeout(t); release(); }
    } else await all;
    const cancelled = list.filter((f) => f.status === 'cancelled');
    if (cancelled.length > 0) throw new CancelledError(cancelled.map((f) => f.key));
    const done = new Set(list.filter((f) => f.done()));
    return { done, notDone: new Set(list.filter((f) => !done.has(f))) };
  }

  /** Runs fn(...args) on every worker (or the given ones) outside the task system: { address: result }. */
  async run(fn: AnyFn, ...rest: unknown[]): Promise<Record<string, unknown>> {
    const [args, o] = splitOptions<{ workers?: SubmitOptions['workers'] }>(rest, new Set(['workers']));
    const ref = taskRef(fn);
    const op = await this.request((id) => ({ op: 'run', id, ref, args: encode(args), workers: workerList(o.workers) }));
    const res = (op as Extract<SchedulerToClientOp, { op: 'run-result' }>).results;
    const out: Record<string, unknown> = {};
    for (const [addr, r] of Object.entries(res)) {
      if (!r.ok) throw fromRemoteError(r.error!);
      out[addr] = r.value === undefined ? undefined : decode(r.value);
    }
    return out;
  }

  /** Like distributed's scheduler_info(): workers keyed by address, each with name = rank. */
  async schedulerInfo(): Promise<SchedulerInfo> {
    const op = await this.request((id) => ({ op: 'info', id }));
    this.lastInfo = (op as Extract<SchedulerToClientOp, { op: 'info' }>).info;
    return this.lastInfo;
  }

  /** Dask's repr: `<Client: 'commune://…' processes=2 threads=2, memory=15.62 GiB>` (from the last scheduler info). */
  toString(): string {
    const i = this.lastInfo;
    if (this.isClosed) return `<Client: not connected>`;
    if (!i) return `<Client: '${this.link.address}' (connecting)>`;
    return `<Client: '${i.address}' processes=${i.n_workers} threads=${i.total_threads}, memory=${(i.total_memory / 2 ** 30).toFixed(2)} GiB>`;
  }

  [inspect.custom](): string { return this.toString(); }

  /** Dask's scheduler get: computes `keys` of the graph `dsk` (results, or futures with sync: false). */
  get(dsk: Graph, keys: string | unknown[], o: GetOptions = {}): Promise<unknown> {
    return getGraph(this, dsk, keys, o);
  }

  /** Submits a whole graph: internal for get(). */
  submitGraph(refs: TaskRef[], specs: TaskSpec[]): Future[] {
    this.check();
    const fresh = specs.filter((s) => this.newKey(s.key));
    if (fresh.length > 0) this.link.send({ op: 'update-graph', refs, tasks: fresh });
    return specs.map((s) => new Future(s.key, this));
  }

  /** Releases every future of this client; the cluster keeps running. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    const keys = [...this.keys.keys()];
    if (keys.length > 0 && !this.link.isClosed && !this.link.lost) this.link.send({ op: 'release', keys });
    this.isClosed = true;
    for (const s of this.keys.values()) for (const w of s.waiters.splice(0)) w();
    this.keys.clear();
    if (Client.instance === this) Client.instance = undefined;
  }

  /** Stops the scheduler and every worker (they exit 0), then closes this client. */
  async shutdown(): Promise<void> {
    if (!this.link.isClosed) {
      await this.request((id) => ({ op: 'terminate', id }), true);
      await this.link.close();
    }
    this.isClosed = true;
  }
}
