import { pipe, Uint8ArrayList } from './libp2p-stack.js';
import type { Stream } from '@libp2p/interface';

/** Unsigned LEB128, it-length-prefixed's default length encoding. */
function varint(n: number): Uint8Array {
  const out: number[] = [];
  while (n >= 0x80) { out.push((n % 0x80) | 0x80); n = Math.floor(n / 0x80); }
  out.push(n);
  return Uint8Array.from(out);
}

// One persistent outbound stream per peer carries every tag in send order. A send resolves when yamux
// has taken its frame (the sink pulled the next one), so a fast sender is held back by the receiver's
// window instead of queueing without bound here.

interface Pending { frame: Uint8ArrayList; resolve: () => void; reject: (e: Error) => void }

export class Outbox {
  private readonly queue: Pending[] = [];
  private wake?: () => void;
  private ended = false;
  private failure?: Error;
  private readonly done: Promise<void>;

  constructor(private readonly stream: Stream, maxFrameBytes: number, onError: (e: Error) => void) {
    // Frames are length-prefixed here, one generator hop fewer than piping through lp.encode.
    this.done = pipe(this.frames(maxFrameBytes), stream)
      .catch((e: Error) => { this.fail(e); onError(e); });
  }

  private async *frames(maxFrameBytes: number): AsyncGenerator<Uint8ArrayList> {
    while (true) {
      while (this.queue.length === 0) {
        if (this.ended) return;
        await new Promise<void>((r) => { this.wake = r; });
        this.wake = undefined;
      }
      const item = this.queue[0];
      if (item.frame.byteLength > maxFrameBytes) throw new RangeError(`frame of ${item.frame.byteLength} bytes exceeds ${maxFrameBytes}`);
      yield new Uint8ArrayList(varint(item.frame.byteLength), item.frame);
      // The sink asked for the next frame: this one is written.
      this.queue.shift();
      item.resolve();
    }
  }

  send(frame: Uint8ArrayList): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended) return Promise.reject(new Error('outbox closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ frame, resolve, reject });
      this.wake?.();
    });
  }

  fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    for (const p of this.queue.splice(0)) p.reject(e);
    this.ended = true;
    this.wake?.();
  }


  /**
   * Ends the stream after what is queued has been written. With nothing queued there is nothing to wait
   * for: yamux has every frame already, and the stream's close handshake runs on its own. Waiting for
   * that handshake held a rank's exit for libp2p's 5 s close-write timeout about once in fifteen jobs
   * of four ranks, when the peer was leaving at the same moment.
   */
  async close(): Promise<void> {
    this.ended = true;
    this.wake?.();
    if (this.queue.length > 0) await this.done;
  }

}
