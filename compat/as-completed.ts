// asCompleted: futures in completion order (duplicates of one key each yielded), optionally with
// results, one at a time or in batches; futures can be added while iterating.
import { CompatUsageError } from './errors.js';
import type { Future } from './future.js';

export interface AsCompletedOptions { withResults?: boolean; raiseErrors?: boolean; timeout?: number }
export type Completed = Future | [Future, unknown];

export class AsCompleted implements AsyncIterable<Completed> {
  private readonly ready: Future[] = [];
  private pending = 0;
  private wake?: () => void;

  constructor(futures: Iterable<Future> = [], private readonly o: AsCompletedOptions = {}) {
    for (const f of futures) this.add(f);
  }

  add(f: Future): void {
    this.pending++;
    const settle = (): void => { this.pending--; this.ready.push(f); this.wake?.(); };
    if (f.done()) { this.pending--; this.ready.push(f); return; }
    void f.exception().then(settle, settle);
  }

  update(fs: Iterable<Future>): void { for (const f of fs) this.add(f); }
  count(): number { return this.pending + this.ready.length; }
  isEmpty(): boolean { return this.count() === 0; }
  hasReady(): boolean { return this.ready.length > 0; }
  clear(): void { this.ready.length = 0; }

  private async item(f: Future): Promise<Completed> {
    if (!this.o.withResults) return f;
    if (f.status === 'error' && this.o.raiseErrors === false) return [f, await f.exception()];
    return [f, await f.result()];
  }

  private async waitReady(): Promise<boolean> {
    if (this.ready.length > 0) return true;
    if (this.pending === 0) return false;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve, reject) => {
      this.wake = resolve;
      if (this.o.timeout !== undefined) timer = setTimeout(() => reject(new CompatUsageError(`asCompleted: nothing completed within ${this.o.timeout} ms`)), this.o.timeout);
    }).finally(() => { clearTimeout(timer); this.wake = undefined; });
    return true;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Completed> {
    while (await this.waitReady()) yield this.item(this.ready.shift()!);
  }

  /** Everything that is ready (waiting for at least one unless block is false). */
  async nextBatch(block = true): Promise<Completed[]> {
    if (block) await this.waitReady();
    const fs = this.ready.splice(0);
    return Promise.all(fs.map((f) => this.item(f)));
  }

  async *batches(): AsyncGenerator<Completed[]> {
    while (await this.waitReady()) yield this.nextBatch(false);
  }
}

export function asCompleted(futures: Iterable<Future> = [], o: AsCompletedOptions = {}): AsCompleted {
  return new AsCompleted(futures, o);
}
