// The client's side of its network thread (client-link-thread.ts). The thread is unref'd while the
// client waits for nothing, so the script's end is visible as an empty event loop ('beforeExit').
import { Worker as Thread } from 'node:worker_threads';
import { CommuneError } from 'commune';
import { rankLogger } from '../src/log.js';
import { SchedulerLostError } from './errors.js';
import type { LinkIn, LinkOut } from './client-link-thread.js';
import { Batcher, unpack, type ClientOp } from './protocol.js';

export class ClientLink {
  readonly rank: number;
  readonly size: number;
  readonly address: string;
  private holds = 0;
  private listeners: Array<(ops: unknown[]) => void> = [];
  private closed?: Promise<void>;
  private readonly out: Batcher<ClientOp>;
  private lostError?: SchedulerLostError;
  private lostListeners: Array<(e: SchedulerLostError) => void> = [];

  private constructor(private readonly thread: Thread, ready: Extract<LinkOut, { type: 'ready' }>) {
    this.rank = ready.rank;
    this.size = ready.size;
    this.address = ready.address;
    this.out = new Batcher((_rank, encoded) => {
      // Transfer, not copy: the buffer must be this message's alone.
      const bytes = encoded.byteOffset === 0 && encoded.byteLength === encoded.buffer.byteLength ? encoded : encoded.slice();
      this.thread.postMessage({ type: 'send', bytes } satisfies LinkIn, [bytes.buffer as ArrayBuffer]);
    });
    thread.on('message', (m: LinkOut) => {
      if (m.type === 'ops') { const ops = unpack(m.bytes); for (const l of this.listeners) l(ops); }
      else if (m.type === 'lost' && !this.lostError) {
        // The scheduler is gone: every wait and every later call fails with SchedulerLostError, as
        // Dask's client raises in the script — which decides (left unhandled, the rank exits 1 at once).
        const err = new SchedulerLostError(this.rank, m.why);
        this.lostError = err;
        rankLogger(this.rank, 'client').error(err.message);
        process.stderr.write(`commune: ${err.message}\n`);
        for (const l of this.lostListeners.splice(0)) l(err);
        this.thread.unref();
      }
    });
    thread.unref();
  }

  static async start(opts: { interface?: string; timeoutMs?: number }): Promise<ClientLink> {
    const thread = new Thread(new URL('./client-link-thread.js', import.meta.url), { workerData: opts });
    const ready = await new Promise<Extract<LinkOut, { type: 'ready' }>>((resolve, reject) => {
      const onMsg = (m: LinkOut): void => {
        if (m.type === 'ready') { thread.off('message', onMsg); resolve(m); }
        if (m.type === 'failed') { const e = new CommuneError(m.message); e.exitCode = m.exitCode; reject(e); }
      };
      thread.on('message', onMsg);
      thread.once('error', reject);
    });
    return new ClientLink(thread, ready);
  }

  onOps(fn: (ops: unknown[]) => void): () => void {
    this.listeners.push(fn);
    return () => { this.listeners = this.listeners.filter((l) => l !== fn); };
  }

  /** Calls `fn` once the scheduler is lost (at once if it already is). */
  onLost(fn: (e: SchedulerLostError) => void): void {
    if (this.lostError) fn(this.lostError);
    else this.lostListeners.push(fn);
  }

  /** Why the scheduler is unreachable for good, once it is. */
  get lost(): SchedulerLostError | undefined { return this.lostError; }

  send(op: ClientOp): void {
    if (this.lostError) throw this.lostError;
    if (this.closed) throw new CommuneError(`rank ${this.rank}: the client's connection to the scheduler is closed`);
    this.out.push(0, op);
  }

  /** Keeps the process alive while the client waits on the scheduler; returns the release. */
  hold(): () => void {
    if (this.holds++ === 0 && !this.lostError) this.thread.ref();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (--this.holds === 0) this.thread.unref();
    };
  }

  get isClosed(): boolean { return this.closed !== undefined; }

  /** Leaves the mesh (collective with the other ranks' close). */
  close(): Promise<void> {
    if (!this.closed && this.lostError) {
      // Nobody to leave the mesh with: the thread just ends.
      this.closed = this.thread.terminate().then(() => {});
    }
    if (!this.closed) {
      this.out.flush();
      const release = this.hold();
      this.closed = new Promise<void>((resolve) => {
        this.thread.on('message', (m: LinkOut) => { if (m.type === 'closed') resolve(); });
        this.thread.once('exit', () => resolve());
        this.thread.postMessage({ type: 'close' } satisfies LinkIn);
      }).finally(release);
    }
    return this.closed;
  }
}
