// Future: a handle on a remote result, like distributed's. Many Future objects may share one key;
// the key is released (the scheduler may forget it) when the last of them is released or garbage
// collected. Results stay as bytes until asked for.
import { inspect } from 'node:util';
import { CancelledError, fromRemoteError, TimeoutError, type RemoteError } from './errors.js';
import type { KeyStatus } from './protocol.js';

export type FutureStatus = 'pending' | KeyStatus;

export interface KeyState {
  status: FutureStatus;
  value?: Uint8Array;
  decoded?: { v: unknown };
  error?: RemoteError;
  refs: number;
  waiters: Array<() => void>;
}

/** What a Future needs from its client. */
export interface FutureHost {
  state(key: string): KeyState | undefined;
  addRef(key: string): void;
  decRef(key: string): void;
  waitFor(key: string, timeoutMs?: number): Promise<void>;
  decodeValue(key: string): unknown;
  cancelKeys(keys: string[]): void;
  retryKeys(keys: string[]): void;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v !== 'object') return typeof v;
  return (v as object).constructor?.name ?? 'Object';
}

const collected = new FinalizationRegistry<{ host: FutureHost; key: string }>(({ host, key }) => host.decRef(key));

export class Future {
  private released = false;

  constructor(readonly key: string, private readonly host: FutureHost) {
    host.addRef(key);
    collected.register(this, { host, key }, this);
  }

  /** 'pending' | 'finished' | 'error' | 'cancelled' | 'lost'. */
  get status(): FutureStatus {
    return this.host.state(this.key)?.status ?? 'cancelled';
  }

  /** True once finished, erred or cancelled. */
  done(): boolean {
    const s = this.status;
    return s === 'finished' || s === 'error' || s === 'cancelled';
  }

  cancelled(): boolean { return this.status === 'cancelled'; }

  /** Waits for the result; re-raises the remote exception (with its remote stack), CancelledError, or TimeoutError. */
  async result(timeoutMs?: number): Promise<unknown> {
    await this.host.waitFor(this.key, timeoutMs);
    const st = this.host.state(this.key);
    if (!st || st.status === 'cancelled') throw new CancelledError([this.key]);
    if (st.status === 'error') throw fromRemoteError(st.error!);
    if (st.status === 'lost') throw new CancelledError([this.key]);
    return this.host.decodeValue(this.key);
  }

  /** The remote exception once done, else undefined (waits like result()). */
  async exception(timeoutMs?: number): Promise<Error | undefined> {
    await this.host.waitFor(this.key, timeoutMs);
    const st = this.host.state(this.key);
    return st?.status === 'error' ? fromRemoteError(st.error!) : undefined;
  }

  /** The remote stack of an erred future, else undefined. */
  async traceback(timeoutMs?: number): Promise<string | undefined> {
    await this.host.waitFor(this.key, timeoutMs);
    return this.host.state(this.key)?.error?.stack;
  }

  cancel(): void { this.host.cancelKeys([this.key]); }

  /** Re-runs an erred task (and its erred dependencies). */
  retry(): void { this.host.retryKeys([this.key]); }

  /** Calls fn(this) once done, whatever the outcome (at once if already done); exceptions are logged. */
  addDoneCallback(fn: (f: Future) => unknown): void {
    const call = (): void => {
      try {
        const r = fn(this);
        if (r instanceof Promise) r.catch((e: unknown) => process.stderr.write(`future callback for ${this.key} failed: ${(e as Error)?.stack ?? e}\n`));
      } catch (e) {
        process.stderr.write(`future callback for ${this.key} failed: ${(e as Error)?.stack ?? e}\n`);
      }
    };
    // Waiting through the host keeps the client alive until the callback has run.
    this.host.waitFor(this.key).then(() => setImmediate(call), () => setImmediate(call));
  }

  /** Dask's repr: `<Future: finished, type: number, key: inc-…>` (the type once the result was read). */
  toString(): string {
    const st = this.host.state(this.key);
    const type = st?.decoded ? typeName(st.decoded.v) : undefined;
    return `<Future: ${this.status}, ${type ? `type: ${type}, ` : ''}key: ${this.key}>`;
  }

  [inspect.custom](): string { return this.toString(); }

  /** Drops this handle's reference now instead of at garbage collection. */
  release(): void {
    if (this.released) return;
    this.released = true;
    collected.unregister(this);
    this.host.decRef(this.key);
  }
}

export function timeoutError(what: string, ms: number): TimeoutError {
  return new TimeoutError(`${what} did not complete within ${ms} ms`);
}
