// One execution thread of a worker: imports task modules by URL (once), runs tasks in order, keeps
// the dependency values it was sent, and posts results back in small batches.
import { parentPort, threadId } from 'node:worker_threads';
import { toRemoteError, type RemoteError } from './errors.js';
import { decode, encode, fillFutures } from './serialize.js';
import { resolveRef, type TaskRef } from './task-ref.js';
import './builtins.js';

export interface ThreadTask { key: string; ref: TaskRef; args: Uint8Array; deps: string[] }
export type ThreadIn = { op: 'tasks'; tasks: ThreadTask[]; data: Array<[string, Uint8Array]> } | { op: 'free'; keys: string[] }
  | { op: 'run'; id: number; ref: TaskRef; args: Uint8Array };
export interface ThreadRunResult { id: number; ok: boolean; value?: Uint8Array; error?: RemoteError }
export interface ThreadResult { key: string; ok: boolean; value?: Uint8Array; error?: RemoteError; duration: number }

const port = parentPort!;
const data = new Map<string, unknown>();
const queue: ThreadTask[] = [];
let running = false;
let results: ThreadResult[] = [];
let lastPost = performance.now();

function post(): void {
  if (results.length === 0) return;
  port.postMessage(results);
  results = [];
  lastPost = performance.now();
}

async function runOne(t: ThreadTask): Promise<ThreadResult> {
  let t0 = performance.now();
  try {
    const fn = await resolveRef(t.ref);
    t0 = performance.now(); // the duration is the task's, not its module's first import
    let args = decode(t.args) as unknown[];
    if (t.deps.length > 0) {
      args = fillFutures(args, (k) => {
        if (!data.has(k)) throw new Error(`worker thread ${threadId}: dependency '${k}' was not delivered`);
        return data.get(k);
      }) as unknown[];
    }
    let v = fn(...args);
    if (v instanceof Promise) v = await v;
    const value = encode(v);
    const duration = (performance.now() - t0) / 1000;
    data.set(t.key, v);
    return { key: t.key, ok: true, value, duration };
  } catch (e) {
    return { key: t.key, ok: false, error: toRemoteError(e), duration: (performance.now() - t0) / 1000 };
  }
}

/** client.run: outside the task queue. */
async function runFn(id: number, ref: TaskRef, args: Uint8Array): Promise<void> {
  try {
    const fn = await resolveRef(ref);
    let v = fn(...(decode(args) as unknown[]));
    if (v instanceof Promise) v = await v;
    port.postMessage({ id, ok: true, value: encode(v) } satisfies ThreadRunResult);
  } catch (e) {
    port.postMessage({ id, ok: false, error: toRemoteError(e) } satisfies ThreadRunResult);
  }
}

async function drain(): Promise<void> {
  if (running) return;
  running = true;
  while (queue.length > 0) {
    results.push(await runOne(queue.shift()!));
    if (queue.length === 0 || performance.now() - lastPost > 2) post();
  }
  running = false;
}

port.on('message', (m: ThreadIn) => {
  if (m.op === 'free') { for (const k of m.keys) data.delete(k); return; }
  if (m.op === 'run') { void runFn(m.id, m.ref, m.args); return; }
  for (const [k, bytes] of m.data) data.set(k, decode(bytes));
  queue.push(...m.tasks);
  void drain();
});
