// The client rank's network thread: joins the mesh, receives the scheduler's address (bcast from
// rank 0 + barrier, as dask-mpi), then relays batches between the client (main thread) and the
// scheduler. It lives in a thread so that the mesh's sockets and timers do not keep the client's
// process alive: when the user's script ends, the main thread's loop empties and the exit hook
// shuts the cluster down (dask-mpi's atexit).
import { parentPort, workerData } from 'node:worker_threads';
import { Communicator, joinWorld } from 'commune';
import { TAG } from './protocol.js';

export type LinkIn = { type: 'send'; bytes: Uint8Array } | { type: 'close' };
export type LinkOut =
  | { type: 'ready'; rank: number; size: number; address: string }
  | { type: 'ops'; bytes: Uint8Array }
  | { type: 'lost'; why: string }
  | { type: 'failed'; message: string; exitCode: number }
  | { type: 'closed' };

const port = parentPort!;
const opts = workerData as { interface?: string; timeoutMs?: number };
const post = (m: LinkOut): void => port.postMessage(m);

try {
  const mesh = await joinWorld({ interface: opts.interface, timeoutMs: opts.timeoutMs });
  const comm = new Communicator(mesh, { timeoutMs: opts.timeoutMs });
  const address = await comm.bcast<string>('', 0);
  await comm.barrier();
  let closing = false;
  mesh.on('lost', (rank, why, left) => { if (rank === 0 && !closing && !left) post({ type: 'lost', why }); });
  port.on('message', (m: LinkIn) => {
    if (m.type === 'send') {
      mesh.send(0, TAG, m.bytes).catch((e: Error) => { if (!closing) post({ type: 'lost', why: e.message }); });
    } else {
      closing = true;
      void mesh.close().finally(() => { post({ type: 'closed' }); port.close(); });
    }
  });
  post({ type: 'ready', rank: mesh.rank, size: mesh.size, address });
  for (;;) {
    let bytes: Uint8Array;
    try { bytes = (await mesh.recv(0, TAG, { timeoutMs: Infinity })) as Uint8Array; } catch { break; }
    port.postMessage({ type: 'ops', bytes } satisfies LinkOut, [bytes.buffer as ArrayBuffer]);
  }
} catch (e) {
  post({ type: 'failed', message: (e as Error).message, exitCode: (e as { exitCode?: number }).exitCode ?? 1 });
}
