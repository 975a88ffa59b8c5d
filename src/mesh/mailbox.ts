import { PeerLostError, PeerTimeoutError, CommuneError } from '../errors.js';
import { typedKind } from './codec.js';

// Messages wait here per (source rank, tag) until received. Order per (peer, tag) is the stream's order.
// Bytes queued per source are bounded: past the high-water mark the inbound reader stops pulling from
// its stream, so yamux's window pushes back on the sender instead of this process buffering without end.
//
// Posted receives (MPI's "expected message" path): receiveInto(rank, tag, dest) with nothing queued
// posts `dest` for (rank, tag); a transport that learns a frame's tag, kind and length before its
// payload asks claim() and, when `dest` has exactly that type and byte length, lands the payload in
// it and delivers `dest` itself — no allocation, no copy. Anything else (a message already queued, a
// mismatch, a transport that does not claim) delivers a fresh array as before; the receiver copies.
// A post ends with the first message delivered for its (rank, tag), or when its receive gives up.

interface Waiter {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
}

interface Slot { msgs: { value: unknown; bytes: number }[]; waiters: Waiter[] }

export const HIGH_WATER_BYTES = 256 * 1024 * 1024;

export class Mailbox {
  private readonly slots = new Map<string, Slot>();
  private readonly posts = new Map<string, ArrayBufferView>();
  private readonly queued = new Map<number, number>();
  private readonly drains = new Map<number, (() => void)[]>();
  /** Lost ranks: why, and when they were marked lost here (ms since the epoch). */
  private readonly lost = new Map<number, { why: string; at: number }>();
  private closed?: Error;

  constructor(private readonly self: number) {}

  private slot(rank: number, tag: string): Slot {
    const key = `${rank}\u0000${tag}`;
    let s = this.slots.get(key);
    if (!s) { s = { msgs: [], waiters: [] }; this.slots.set(key, s); }
    return s;
  }

  private tidy(rank: number, tag: string, s: Slot): void {
    if (s.msgs.length === 0 && s.waiters.length === 0) this.slots.delete(`${rank}\u0000${tag}`);
  }

  deliver(rank: number, tag: string, value: unknown, bytes: number): void {
    if (this.posts.size > 0) this.posts.delete(`${rank}\u0000${tag}`);
    const s = this.slot(rank, tag);
    const w = s.waiters.shift();
    if (w) {
      if (w.timer) clearTimeout(w.timer);
      w.resolve(value);
      this.tidy(rank, tag, s);
      return;
    }
    s.msgs.push({ value, bytes });
    this.queued.set(rank, (this.queued.get(rank) ?? 0) + bytes);
  }

  /** Takes every message queued under `tag`, from any rank, in arrival order per rank (a service starting late: Mesh.serve). */
  takeAll(tag: string): Array<[number, unknown]> {
    const out: Array<[number, unknown]> = [];
    for (const [key, s] of this.slots) {
      const cut = key.indexOf('\u0000');
      if (key.slice(cut + 1) !== tag || s.msgs.length === 0) continue;
      const rank = Number(key.slice(0, cut));
      for (const m of s.msgs.splice(0)) {
        out.push([rank, m.value]);
        this.queued.set(rank, (this.queued.get(rank) ?? 0) - m.bytes);
      }
      this.tidy(rank, tag, s);
    }
    return out;
  }

  /** Whether the bytes queued from `rank` are at or above the high-water mark. */
  full(rank: number): boolean {
    return (this.queued.get(rank) ?? 0) >= HIGH_WATER_BYTES && !this.closed;
  }

  /** Resolves once the bytes queued from `rank` are below the high-water mark. */
  async drained(rank: number): Promise<void> {
    if ((this.queued.get(rank) ?? 0) < HIGH_WATER_BYTES || this.closed) return;
    await new Promise<void>((resolve) => {
      const list = this.drains.get(rank) ?? [];
      list.push(resolve);
      this.drains.set(rank, list);
    });
  }

  receive(rank: number, tag: string, timeoutMs: number, what = `message '${tag}'`): Promise<unknown> {
    const s = this.slot(rank, tag);
    const m = s.msgs.shift();
    if (m) {
      const left = (this.queued.get(rank) ?? 0) - m.bytes;
      this.queued.set(rank, left);
      if (left < HIGH_WATER_BYTES) for (const d of this.drains.get(rank)?.splice(0) ?? []) d();
      this.tidy(rank, tag, s);
      return Promise.resolve(m.value);
    }
    this.tidy(rank, tag, s);
    if (this.closed) return Promise.reject(this.closed);
    const why = this.lost.get(rank)?.why;
    if (why !== undefined) return Promise.reject(new PeerLostError(rank, this.self, why));
    return new Promise((resolve, reject) => {
      const w: Waiter = { resolve, reject };
      if (Number.isFinite(timeoutMs) && timeoutMs > 0) {
        w.timer = setTimeout(() => {
          const sl = this.slot(rank, tag);
          sl.waiters = sl.waiters.filter((x) => x !== w);
          this.tidy(rank, tag, sl);
          reject(new PeerTimeoutError(rank, this.self, what, timeoutMs));
        }, timeoutMs);
      }
      this.slot(rank, tag).waiters.push(w);
    });
  }

  /**
   * Like receive, but a message not yet arrived may land straight in `dest` (see the top). Resolves to
   * the message: `dest` itself when it landed there, else whatever arrived (the caller copies).
   */
  receiveInto(rank: number, tag: string, dest: ArrayBufferView, timeoutMs: number, what?: string): Promise<unknown> {
    const key = `${rank}\u0000${tag}`;
    const s = this.slots.get(key);
    // Posted only when this receive is first in line, so the next message for (rank, tag) is its own.
    if (s && (s.msgs.length > 0 || s.waiters.length > 0)) return this.receive(rank, tag, timeoutMs, what);
    const got = this.receive(rank, tag, timeoutMs, what);
    if (!this.closed && !this.lost.has(rank) && !this.posts.has(key)) {
      this.posts.set(key, dest);
      // Timed out, lost, closed: the post goes with its receive.
      got.catch(() => this.unpost(rank, tag, dest));
    }
    return got;
  }

  /** Withdraws `dest` if it is still posted for (rank, tag) (its receive was abandoned). */
  unpost(rank: number, tag: string, dest: ArrayBufferView): void {
    const key = `${rank}\u0000${tag}`;
    if (this.posts.get(key) === dest) this.posts.delete(key);
  }

  /**
   * A frame from `rank` under `tag` of codec kind `kind` with `bytes` payload bytes is about to be read:
   * the posted destination when it fits exactly (the post is then used up), else undefined.
   */
  claim(rank: number, tag: string, kind: number, bytes: number): ArrayBufferView | undefined {
    if (this.posts.size === 0) return undefined;
    const key = `${rank}\u0000${tag}`;
    const dest = this.posts.get(key);
    if (!dest || dest.byteLength !== bytes || typedKind(dest) !== kind) return undefined;
    this.posts.delete(key);
    return dest;
  }

  /** Fails every present and future receive from `rank`. */
  markLost(rank: number, why: string): void {
    if (this.lost.has(rank)) return;
    this.lost.set(rank, { why, at: Date.now() });
    for (const key of this.posts.keys()) if (key.startsWith(`${rank}\u0000`)) this.posts.delete(key);
    for (const [key, s] of this.slots) {
      if (!key.startsWith(`${rank}\u0000`)) continue;
      for (const w of s.waiters.splice(0)) {
        if (w.timer) clearTimeout(w.timer);
        w.reject(new PeerLostError(rank, this.self, why));
      }
      if (s.msgs.length === 0) this.slots.delete(key);
    }
  }

  isLost(rank: number): string | undefined {
    return this.lost.get(rank)?.why;
  }

  /** When `rank` was marked lost here (ms since the epoch), if it was. */
  lostAt(rank: number): number | undefined {
    return this.lost.get(rank)?.at;
  }


  /** Fails every present and future receive with `reason` (a message, or the error itself). */
  close(reason: string | Error): void {
    const err = typeof reason === 'string' ? new CommuneError(reason) : reason;
    this.closed ??= err;
    this.posts.clear();
    for (const s of this.slots.values()) {
      for (const w of s.waiters.splice(0)) {
        if (w.timer) clearTimeout(w.timer);
        w.reject(err);
      }
    }
    for (const list of this.drains.values()) for (const d of list.splice(0)) d();
  }
}
