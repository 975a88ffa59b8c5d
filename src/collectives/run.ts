import type { Mesh } from '../mesh/mesh.js';
import { PeerTimeoutError } from '../errors.js';
import { expectLike } from './errors.js';
import type { Ctx, ReduceArray } from './types.js';

// One collective call in progress: its tag space (communicator id, sequence number, algorithm),
// its deadline, what it is waiting on (for peers' status queries), and an abort switch.

const EXPIRED = Symbol('expired');

export class Run {
  readonly deadline: number;
  private readonly pendingRecv = new Map<number, number>();
  private readonly pendingSend = new Map<number, number>();
  private abortWith!: (e: Error) => void;
  private readonly aborted: Promise<never>;
  private readonly expired: Promise<never>;
  private timer?: NodeJS.Timeout;
  /** Posted receives not yet settled (an algorithm that failed may leave one behind). */
  private readonly posted = new Set<{ from: number; tag: string; dest: ReduceArray }>();

  constructor(
    private readonly mesh: Mesh,
    private readonly prefix: string,
    readonly seq: number,
    readonly what: string,
    readonly timeoutMs: number,
  ) {
    this.deadline = Date.now() + timeoutMs;
    this.aborted = new Promise<never>((_, reject) => { this.abortWith = reject; });
    this.aborted.catch(() => {});
    this.expired = new Promise<never>((_, reject) => { this.timer = setTimeout(() => reject(EXPIRED), timeoutMs); });
    this.expired.catch(() => {});
  }

  abort(e: Error): void { this.abortWith(e); }

  /** Ends the call: stops its deadline timer and withdraws receive destinations still posted. */
  dispose(): void {
    clearTimeout(this.timer);
    for (const p of this.posted) this.mesh.unpost(p.from, p.tag, p.dest);
    this.posted.clear();
  }

  /** The rank the latest pending receive (else send) waits on; computed only when a peer asks. */
  get waitingOn(): number | undefined {
    const last = (m: Map<number, number>): number | undefined => [...m.keys()].pop();
    return last(this.pendingRecv) ?? last(this.pendingSend);
  }

  private track(map: Map<number, number>, peer: number, d: 1 | -1): void {
    const n = (map.get(peer) ?? 0) + d;
    if (n > 0) map.set(peer, n); else map.delete(peer);
  }

  async send(to: number, step: string, value: unknown): Promise<void> {
    this.track(this.pendingSend, to, 1);
    // A buffer sent may be reused once the send resolves (the mesh copies small payloads and hands large
    // ones to the socket without a copy, resolving when the kernel has them).
    const sent = this.mesh.send(to, `${this.prefix}${step}`, value);
    sent.catch(() => {});
    // On failure the wait stays recorded: peers asking where this rank is see whom it waited on.
    try {
      await Promise.race([sent, this.aborted, this.expired]);
    } catch (e) {
      if (e === EXPIRED) throw new PeerTimeoutError(to, this.mesh.rank, `acceptance of ${this.what} step ${step}`, this.timeoutMs);
      throw e;
    }
    this.track(this.pendingSend, to, -1);
  }

  recv(from: number, step: string): Promise<unknown> {
    return this.received(from, step, this.mesh.recv(from, `${this.prefix}${step}`, { timeoutMs: 0 }));
  }

  /**
   * recv with `dest` posted for the message (Mesh.recvInto): resolves to `dest` when the payload landed
   * there, else to the message as received. A receive given up (abort, deadline) withdraws the post,
   * and its caller must not reuse `dest`: a frame whose head was already read may still be landing.
   */
  async recvInto(from: number, step: string, dest: ReduceArray): Promise<unknown> {
    const tag = `${this.prefix}${step}`;
    const post = { from, tag, dest };
    this.posted.add(post);
    try {
      return await this.received(from, step, this.mesh.recvInto(from, tag, dest, { timeoutMs: 0 }), () => this.mesh.unpost(from, tag, dest));
    } finally {
      this.posted.delete(post);
    }
  }

  /**
   * Waits for a receive under the collective's one deadline timer (expired) and abort switch: no timer
   * per receive. Tags are unique per collective call, so a receive abandoned at the deadline can never
   * take another's message. On failure the wait stays recorded for peers' status queries.
   */
  private async received(from: number, step: string, got: Promise<unknown>, onFail?: () => void): Promise<unknown> {
    this.track(this.pendingRecv, from, 1);
    got.catch(() => {});
    let value: unknown;
    try {
      value = await Promise.race([got, this.aborted, this.expired]);
    } catch (e) {
      onFail?.();
      if (e === EXPIRED) throw new PeerTimeoutError(from, this.mesh.rank, `${this.what} step ${step}`, this.timeoutMs);
      throw e;
    }
    this.track(this.pendingRecv, from, -1);
    return value;
  }
}

/** The Ctx an algorithm sees: a Run with step names under `prefix`. */
export class View implements Ctx {
  readonly rank: number;
  readonly size: number;

  constructor(private readonly run: Run, private readonly prefix: string, mesh: { rank: number; size: number }) {
    this.rank = mesh.rank;
    this.size = mesh.size;
  }

  send(to: number, step: string, value: unknown): Promise<void> {
    return this.run.send(to, this.prefix + step, value);
  }

  recv(from: number, step: string): Promise<unknown> {
    return this.run.recv(from, this.prefix + step);
  }

  async sendrecv(to: number, value: unknown, from: number, step: string): Promise<unknown> {
    const [, got] = await Promise.all([this.send(to, step, value), this.recv(from, step)]);
    return got;
  }

  async recvArray<T extends ReduceArray>(from: number, step: string, like: T, length?: number): Promise<T> {
    return expectLike(await this.recv(from, step), like, length, from, this.rank, `${this.run.what} step ${this.prefix}${step}`);
  }

  async sendrecvArray<T extends ReduceArray>(to: number, value: T, from: number, step: string, length?: number): Promise<T> {
    const got = await this.sendrecv(to, value, from, step);
    return expectLike(got, value, length, from, this.rank, `${this.run.what} step ${this.prefix}${step}`);
  }

  async recvInto<T extends ReduceArray>(from: number, step: string, dest: T): Promise<T> {
    const got = await this.run.recvInto(from, this.prefix + step, dest);
    if (got === dest) return dest;
    // Arrived before it was posted, over libp2p, or not as posted: checked, then copied.
    dest.set(expectLike(got, dest, dest.length, from, this.rank, `${this.run.what} step ${this.prefix}${step}`) as never);
    return dest;
  }

  async sendrecvInto<T extends ReduceArray>(to: number, value: T, from: number, step: string, dest: T): Promise<T> {
    await Promise.all([this.send(to, step, value), this.recvInto(from, step, dest)]);
    return dest;
  }

  sub(prefix: string): Ctx {
    return new View(this.run, `${this.prefix}${prefix}.`, this);
  }
}
