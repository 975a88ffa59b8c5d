import { connect, type Socket } from 'node:net';
import { FrameReader } from './frame-reader.js';
import { ACCEPT_BYTES, CHALLENGE_BYTES, DIAL_ME, MAGIC, checkAccept, hello, parseChallenge, type Challenge } from './handshake.js';
import { BYE, BYE_BYTES, DIAL_BACK, DIAL_BACK_BYTES, type Encoded } from './direct-frames.js';
import type { DirectPlane } from './direct-plane.js';
import { ProtocolError } from '../errors.js';

// The direct plane's two kinds of channel to one peer (see direct-plane.ts for why one socket per
// direction): Tx carries our frames to the peer on a socket the peer dialled; Rx is the socket we dial
// to receive the peer's frames — it finds the peer's port (candidates in order, retrying a rank that is
// not up yet until the start-up deadline) and reads frames straight into posted arrays.

const RESOLVED = Promise.resolve();
/** A handshake under way is given this long: on an oversubscribed host a live rank answers late, not never. */
export const HANDSHAKE_DEADLINE_MS = 30_000;
/** Scratch for reads between payloads (heads, small frames). */
const SCRATCH_BYTES = 64 * 1024;
/** A port answering nothing (SYN dropped) is not evidence: give up on that attempt after this long (then try again). */
export const CONNECT_TIMEOUT_MS = 5_000;

/** Retrying a rank not up yet: the first retries soon, then at most this often. Rarely needed: the later of two ranks dials the earlier one itself, and that wakes the earlier one's wait (`wake`). */
export const RETRY_MAX_MS = 1000;

/** What both directions share: frames in, BYE, orderly end, and reporting the socket's end. */
export abstract class Channel {
  socket?: Socket;
  /** The peer sent BYE: its closing is a departure, not a failure. */
  left = false;
  /** Replaced, refused or dropped on purpose: its end reports nothing. */
  quiet = false;
  ended = false;

  constructor(readonly peer: number, protected readonly plane: DirectPlane) {}

  protected reader(): FrameReader {
    const { hooks } = this.plane;
    return new FrameReader(hooks.maxFrameBytes, (tag, value, bytes) => {
      if (tag === BYE) { this.left = true; return; }
      if (tag === DIAL_BACK) { this.plane.watch(this.peer); return; }
      const full = hooks.deliver(this.peer, tag, value, bytes);
      if (full && this.socket) { const s = this.socket; s.pause(); void full.then(() => s.resume()); }
    }, hooks.claim && ((tag, kind, payloadBytes) => hooks.claim!(this.peer, tag, kind, payloadBytes)));
  }

  protected malformed(e: Error): void {
    const { hooks } = this.plane;
    const err = new ProtocolError(`rank ${this.peer}`, hooks.rank, `malformed frame on the direct plane: ${e.message}`);
    hooks.log.warn({ peer: this.peer, err: err.message }, 'protocol error; direct connection dropped');
    hooks.protocolError(err);
    this.drop(err);
  }

  protected watchEnd(sock: Socket): void {
    sock.on('error', (e) => this.plane.hooks.log.debug({ peer: this.peer, err: e.message }, 'direct socket error'));
    sock.once('close', () => {
      const report = !this.quiet && !this.ended && !this.plane.closing;
      const why = this.left ? 'it closed its mesh' : 'direct connection closed';
      this.shut(new Error(why));
      if (report) this.plane.hooks.closed(this.peer, why, this.left);
    });
  }

  /** Fails whatever waits on this channel and forgets it. */
  protected abstract shut(e: Error): void;

  /** Drops the channel without reporting the peer (a replacement is coming, or the peer spoke nonsense). */
  drop(e: Error): void {
    this.quiet = true;
    this.shut(e);
    this.socket?.destroy();
  }

  /** Orderly end: BYE, flush, FIN; resolves when the socket is closed. */
  end(): Promise<void> {
    const s = this.socket;
    this.ended = true;
    if (!s || s.destroyed || s.connecting) { this.shut(new Error('the mesh is closed')); s?.destroy(); return RESOLVED; }
    return new Promise<void>((resolve) => {
      s.once('close', () => resolve());
      s.end(BYE_BYTES);
    });
  }

  destroy(): void {
    this.quiet = true;
    this.socket?.destroy();
  }
}

interface Queued { frame: Encoded; resolve: () => void; reject: (e: Error) => void }

/** Our sending channel to `peer`: it dialled us to read our frames. */
export class Tx extends Channel {
  state: 'pending' | 'open' | 'closed' = 'pending';
  private readonly queue: Queued[] = [];
  private drains: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private timer?: NodeJS.Timeout;

  send(frame: Encoded): Promise<void> {
    if (this.state === 'open') return this.write(frame);
    return new Promise((resolve, reject) => this.queue.push({ frame, resolve, reject }));
  }

  /** The peer was reached and asked to dial back: it must within `ms`, or the frames waiting fail. */
  expectWithin(ms: number): void {
    if (this.state !== 'pending' || this.timer) return;
    this.timer = setTimeout(() => {
      if (this.state !== 'pending') return;
      const e = new Error(`rank ${this.peer} did not open its receiving channel within ${ms} ms`);
      this.shut(e);
      this.plane.hooks.closed(this.peer, e.message, false);
    }, ms);
    this.timer.unref();
  }

  private write({ parts, borrowed }: Encoded): Promise<void> {
    const s = this.socket!;
    if (parts.length === 1) {
      if (s.write(parts[0])) return RESOLVED;
      return new Promise((resolve, reject) => this.drains.push({ resolve, reject }));
    }
    // Head and payload leave in one writev, the payload straight from the caller's memory.
    return new Promise((resolve, reject) => {
      s.cork();
      s.write(parts[0]);
      if (borrowed) s.write(parts[1], (e) => (e ? reject(e) : resolve()));
      else if (s.write(parts[1])) resolve();
      else this.drains.push({ resolve, reject });
      s.uncork();
    });
  }

  /** Takes over the admitted socket the peer dialled in on; `rest`: bytes that followed its hello. */
  attach(sock: Socket, rest: Uint8Array): void {
    clearTimeout(this.timer);
    this.socket = sock;
    this.state = 'open';
    // The reading side sends only BYE and DIAL_BACK this way; anything it sends is parsed all the same.
    const reader = this.reader();
    const onData = (chunk: Uint8Array): void => {
      try { reader.push(chunk); } catch (e) { this.malformed(e as Error); }
    };
    sock.on('data', onData);
    sock.on('drain', () => { for (const d of this.drains.splice(0)) d.resolve(); });
    this.watchEnd(sock);
    if (rest.byteLength > 0) onData(rest);
    for (const q of this.queue.splice(0)) {
      if (this.state !== 'open') { q.reject(new Error('direct connection closed')); continue; }
      this.write(q.frame).then(q.resolve, q.reject);
    }
  }

  /** The peer takes frames over libp2p only: the queued frames go there, in order. */
  handOver(): void {
    clearTimeout(this.timer);
    this.quiet = true;
    this.state = 'closed';
    this.plane.forget(this);
    for (const q of this.queue.splice(0)) this.plane.viaLibp2p(this.peer, q.frame.parts).then(q.resolve, q.reject);
  }

  protected shut(e: Error): void {
    clearTimeout(this.timer);
    this.state = 'closed';
    for (const q of this.queue.splice(0)) q.reject(e);
    for (const d of this.drains.splice(0)) d.reject(e);
    this.plane.forget(this);
  }
}

type Attempt = 'open' | 'refused' | 'silent' | 'other-process' | 'libp2p' | 'closing';

/** `peer`'s sending channel to us: we dial it, and reads land where the frame reader wants them. */
export class Rx extends Channel {
  state: 'dialling' | 'open' | 'closed' = 'dialling';
  private readonly scratch = new Uint8Array(SCRATCH_BYTES);
  private nap?: { timer: NodeJS.Timeout; done: () => void };

  /** `dialMe`: we also want to send, so the peer should dial us back. */
  constructor(peer: number, plane: DirectPlane, public dialMe: boolean) {
    super(peer, plane);
    void this.dial();
  }

  get open(): boolean {
    return this.state === 'open' && !this.socket!.destroyed;
  }

  /** The peer showed up (it dialled us): retry now instead of after the back-off. */
  wake(): void {
    if (!this.nap) return;
    clearTimeout(this.nap.timer);
    this.nap.done();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((done) => {
      const timer = setTimeout(() => { this.nap = undefined; done(); }, ms);
      timer.unref();
      this.nap = { timer, done: () => { this.nap = undefined; done(); } };
    });
  }

  /** Asks the peer to dial us back (we want to send too). */
  askDialBack(): void {
    if (this.state === 'open') this.socket!.write(DIAL_BACK_BYTES);
    else this.dialMe = true;
  }

  /** Tries the peer's candidate ports until one admits us; gives up at the start-up deadline, or at once when the port it listened on refuses. */
  private async dial(): Promise<void> {
    const { plane } = this;
    let delay = 10;
    for (;;) {
      if (this.quiet || plane.closing) return;
      const where = await plane.where(this.peer);
      let refusedWhereItListened = false;
      let refused = false;
      for (const port of where?.ports ?? []) {
        // Each silent candidate costs a connect timeout: a closing mesh or a lost peer stops the round.
        if (this.quiet || plane.closing) return;
        const r = await this.attempt(where!.host, port);
        refused = r === 'refused';
        if (r === 'open' || r === 'closing') return;
        if (r === 'libp2p') { this.quiet = true; this.shut(); plane.toLibp2p(this.peer); return; }
        if (r === 'refused' && where!.met) refusedWhereItListened = true;
        // A free port: the rank is not up yet (it binds the first free candidate), so the later
        // candidates need not be tried; another process there means it may have moved on to them.
        if (r === 'refused') break;
      }
      if (refusedWhereItListened) return this.giveUp(`its port refused the connection: the process is gone`, true);
      // Silence from a rank met before proves nothing (a partition, an overloaded host): keep trying
      // until the mesh gives up on it. A rank never met may still be starting, until the deadline or
      // for as long as this node shows its process running.
      if (!plane.pinned(this.peer) && Date.now() > plane.hooks.startupDeadline && !plane.hooks.seenRunning(this.peer)) {
        // Refused now proves no process listens there, not that none ever did: behind a partition it may
        // have run, taken part in the other side's decision and exited. Not proven (the majority rule).
        return this.giveUp(where ? `nobody answered at ${where.host} port${where.ports.length > 1 ? 's' : ''} ${where.ports.join(', ')} by the start-up deadline${refused ? ' (its port refuses now)' : ''}` : 'where it listens was never learned by the start-up deadline', false);
      }
      await this.sleep(delay);
      delay = Math.min(RETRY_MAX_MS, delay * 2);
    }
  }

  private giveUp(why: string, proven: boolean): void {
    if (this.quiet || this.plane.closing) return;
    this.quiet = true;
    this.shut();
    this.plane.hooks.unreachable(this.peer, why, proven);
  }

  /** One connection attempt: the handshake, then (when admitted) this channel's frames. */
  private attempt(host: string, port: number): Promise<Attempt> {
    const { plane } = this;
    const { hooks } = plane;
    return new Promise<Attempt>((settle) => {
      const reader = this.reader();
      const scratch = this.scratch;
      let into: Uint8Array = scratch;
      let got = Buffer.alloc(0);
      let ch: Challenge | undefined;
      let sentHello: Buffer | undefined;
      let done = false;
      const finish = (r: Attempt): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (r !== 'open') sock.destroy();
        settle(r);
      };
      // Handshake bytes arrive before any frame: gather them, then hand what follows to the reader.
      const handshake = (chunk: Buffer): Buffer | undefined => {
        got = got.byteLength === 0 ? Buffer.from(chunk) : Buffer.concat([got, chunk]);
        if (!ch) {
          const seen = Math.min(got.byteLength, MAGIC.byteLength);
          if (!got.subarray(0, seen).equals(MAGIC.subarray(0, seen))) { finish('other-process'); return undefined; }
          if (got.byteLength < CHALLENGE_BYTES) return undefined;
          const c = parseChallenge(got);
          if ('error' in c || c.rank !== this.peer) { finish('other-process'); return undefined; }
          if (c.mode === 'libp2p' && hooks.mode === 'direct') { finish('libp2p'); return undefined; }
          ch = c;
          got = got.subarray(CHALLENGE_BYTES);
          sentHello = hello(hooks.key, c, { rank: hooks.rank, target: this.peer, flags: this.dialMe ? DIAL_ME : 0, port: plane.port, pid: process.pid });
          sock.write(sentHello);
        }
        if (got.byteLength < ACCEPT_BYTES) return undefined;
        const a = checkAccept(hooks.key, ch, sentHello!, got);
        if ('error' in a) {
          hooks.log.warn({ peer: this.peer, host, port, err: a.error }, 'direct-plane handshake failed');
          finish('other-process');
          return undefined;
        }
        this.state = 'open';
        this.socket = sock;
        plane.met(this.peer, a.pid, host, port);
        this.watchEnd(sock);
        finish('open');
        return got.subarray(ACCEPT_BYTES);
      };
      const sock = connect({
        host, port, noDelay: true, ...(hooks.localAddress ? { localAddress: hooks.localAddress } : {}),
        onread: {
          buffer: () => (into = (this.state === 'open' ? reader.target() : undefined) ?? scratch),
          callback: (n: number) => {
            try {
              if (this.state !== 'open') {
                const rest = handshake(Buffer.from(scratch.subarray(0, n)));
                if (rest && rest.byteLength > 0) reader.push(rest);
              } else if (into === scratch) reader.push(scratch.subarray(0, n), true);
              else reader.advance(n);
            } catch (e) {
              this.malformed(e as Error);
            }
            return true;
          },
        },
      });
      let timer = setTimeout(() => finish('silent'), CONNECT_TIMEOUT_MS);
      sock.once('connect', () => {
        clearTimeout(timer);
        timer = setTimeout(() => finish(ch ? 'other-process' : 'silent'), HANDSHAKE_DEADLINE_MS);
      });
      sock.once('error', (e: NodeJS.ErrnoException) => {
        if (done) return;
        finish(plane.closing ? 'closing' : e.code === 'ECONNREFUSED' ? 'refused' : 'silent');
      });
      sock.once('close', () => finish(plane.closing ? 'closing' : 'other-process'));
    });
  }

  protected shut(): void {
    this.state = 'closed';
    this.plane.forget(this);
  }
}
