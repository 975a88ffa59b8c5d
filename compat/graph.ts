// client.get(dsk, keys): Dask's graph protocol, as dask-ml calls it. A graph maps keys to values or
// tasks; a task is an array whose first element is a function, its other elements arguments in
// which a string naming another key of the graph (at any depth of arrays) is that key's value.
import type { Client } from './client.js';
import { CompatUsageError } from './errors.js';
import type { Future } from './future.js';
import { RefTable, type TaskSpec } from './protocol.js';
import { encode } from './serialize.js';
import { taskRef, type AnyFn, type TaskRef } from './task-ref.js';

const IDENTITY: TaskRef = { builtin: 'identity' };

export type Graph = Record<string, unknown>;

const MARK = '__commune_key__';

function isTask(v: unknown): v is [AnyFn, ...unknown[]] {
  return Array.isArray(v) && typeof v[0] === 'function';
}

export interface GetOptions {
  /** true (default): the results; false: futures. */
  sync?: boolean;
  workers?: Array<string | number>;
  allowOtherWorkers?: boolean;
  retries?: number;
  priority?: number;
  resources?: Record<string, number>;
}

/** Submits the graph (dependencies first) and returns results (or futures) in the shape of `keys`. */
export async function getGraph(client: Client, dsk: Graph, keys: string | unknown[], o: GetOptions = {}): Promise<unknown> {
  const specs: TaskSpec[] = [];
  const refs = new RefTable();
  const data: Record<string, unknown> = {};
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const depsOf = new Map<string, Set<string>>();
  const visit = (k: string): void => {
    if (state.get(k) === 'done') return;
    if (state.get(k) === 'visiting') throw new CompatUsageError(`get: the graph has a cycle through key '${k}'`);
    if (!(k in dsk)) throw new CompatUsageError(`get: key '${k}' is not in the graph`);
    state.set(k, 'visiting');
    const deps = new Set<string>();
    const scan = (v: unknown): void => {
      if (typeof v === 'string' && v in dsk && v !== k) deps.add(v);
      else if (Array.isArray(v) && !isTask(v)) v.forEach(scan);
      else if (isTask(v)) v.slice(1).forEach(scan);
    };
    const v = dsk[k];
    if (isTask(v)) v.slice(1).forEach(scan);
    else if (typeof v === 'string' && v in dsk) deps.add(v);
    depsOf.set(k, deps);
    for (const d of deps) visit(d);
    state.set(k, 'done');
    order.push(k);
  };
  const wanted = (Array.isArray(keys) ? keys.flat(Infinity) : [keys]) as string[];
  wanted.forEach(visit);
  const mark = (v: unknown): unknown => {
    if (typeof v === 'string' && v in dsk) return { [MARK]: v };
    if (Array.isArray(v)) { if (isTask(v)) throw new CompatUsageError('get: nested tasks inside arguments are not supported; give them their own key'); return v.map(mark); }
    return v;
  };
  for (const k of order) {
    const v = dsk[k];
    if (isTask(v)) {
      const [fn, ...args] = v;
      specs.push({
        key: k, ref: refs.of(taskRef(fn)), args: encode(args.map(mark)), deps: [...depsOf.get(k)!], priority: o.priority ?? 0,
        retries: o.retries, workers: o.workers, allowOtherWorkers: o.allowOtherWorkers, resources: o.resources,
      });
    } else if (typeof v === 'string' && v in dsk) {
      specs.push({ key: k, ref: refs.of(IDENTITY), args: encode([{ [MARK]: v }]), deps: [v], priority: o.priority ?? 0 });
    } else data[k] = v;
  }
  const scattered = Object.keys(data).length > 0 ? (client.scatter(data) as Record<string, Future>) : {};
  const futures = new Map<string, Future>(Object.entries(scattered));
  client.submitGraph(refs.refs, specs).forEach((f) => futures.set(f.key, f));
  const shape = (k: unknown): unknown => (Array.isArray(k) ? k.map(shape) : futures.get(k as string)!);
  const result = shape(keys) as Future | Future[];
  if (o.sync === false) return result;
  const values = await client.gather(result);
  for (const f of futures.values()) f.release();
  return values;
}
