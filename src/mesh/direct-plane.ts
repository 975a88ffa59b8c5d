import { createServer, connect, type Server, type Socket } from 'node:net';
import type { RankLogger } from '../log.js';
import { frameParts, typedKind } from './codec.js';
import { FrameReader } from './frame-reader.js';
import {
  ACCEPT_BYTES, CHALLENGE_BYTES, DIAL_ME, HELLO_BYTES, LIBP2P_UP, MAGIC, WANT_LIBP2P,
  accept, challenge, checkAccept, checkHello, hello, parseChallenge, type Challenge, type Hello, type Mode,
} from './handshake.js';
import { ProtocolError, UsageError } from '../errors.js';

// The direct plane, like MPI's TCP transport: every rank listens on one planned port (computed wire-up,
// topology/wireup.ts) and tagged messages between two ranks travel on plain TCP sockets, made on first
// use — a rank connects to the ranks it talks to, never to all of them. A connection is admitted by a
// challenge-response keyed by the job's secret (handshake.ts) before a single frame is read. The
// sockets are NOT encrypted (as MPI's are not); COMMUNE_DATA_PLANE=libp2p sends every frame inside
// encrypted libp2p connections instead, and then this plane only answers handshakes (to say so, and as
// the doorbell that starts a rank's libp2p node when a peer needs it).
//
// One socket per direction, dialled by its receiver, because Node lets only the creator of a socket
// choose where reads land (`onread`): a large payload is read by the kernel straight into the array the
// receiver gets — into the array it posted, when it posted one — with no copy, while the sender writes
// from the caller's memory (corked head + payload). So:
//   receiving from P (recv, or P asked us)   we dial P: P's frames to us flow on that socket (Rx)
//   sending to P with no channel yet         we dial P with DIAL_ME (or ask on our open Rx socket): P
//                                            dials us back, and our frames flow on that socket (Tx)
// Frames sent before the channel opens wait in order. Frames are [u32 BE length][codec frame], parsed
// synchronously (frame-reader.ts). A socket that closes without the peer's BYE is reported, and the
// mesh decides whether the peer died (a refused re-dial of the port it listened on: `probe`).

const BYE = '\u0000bye';
/** Sent by the reading side on its socket: the writer should dial us back (we want to send too). */
const DIAL_BACK = '\u0000dial-me';

export type DataPlaneMode = Mode;

/** COMMUNE_DATA_PLANE: `direct` (default) or `libp2p`. */
export function dataPlaneMode(value: string | undefined): DataPlaneMode {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '' || v === 'direct') return 'direct';
  if (v === 'libp2p') return 'libp2p';
  throw new UsageError(`COMMUNE_DATA_PLANE='${value}' is not a data plane: use 'direct' (plain TCP, authenticated, fastest) or 'libp2p' (everything encrypted inside libp2p)`);
}

/** Where a rank listens: a host (name or address) and its candidate ports, tried in order. */
export interface Where { host: string; ports: number[] }

/** Where, and whether the rank was met there: then a refusal is its death, not a start-up race. */
type Known = Where & { met: boolean };

export interface PlaneHooks {
  rank: number;
  maxFrameBytes: number;
  log: RankLogger;
  /** The job's handshake key (identity.ts). */
  key: Uint8Array;
  mode: DataPlaneMode;
  /** Outgoing connections leave from this address (so peers see where we listen); undefined: any. */
  localAddress?: string;
  /** Until when (ms since the epoch) a rank never reached yet may still be starting. */
  startupDeadline: number;
  /** How long a channel may stay unanswered once its peer was reached, ms. */
  timeoutMs: number;
  /** Where `peer` listens before anyone has heard from it; undefined while unknown (a registry lookup). */
  endpoint(peer: number): Promise<Where | undefined>;
  /** A frame arrived; returns a promise when the receiver is full and reading should pause until it resolves. */
  deliver(peer: number, tag: string, value: unknown, bytes: number): Promise<void> | undefined;
  /** A typed-array frame's head arrived: where its payload should land (a posted receive), else undefined. */
  claim?(peer: number, tag: string, kind: number, payloadBytes: number): ArrayBufferView | undefined;
  /** A channel with `peer` ended; `left`: the peer said it closes its mesh. */
  closed(peer: number, why: string, left: boolean): void;
  /** `peer` cannot be reached: it never listened by the start-up deadline, or refused where it listened. */
  unreachable(peer: number, why: string): void;
  protocolError(err: ProtocolError): void;
  /** `peer` proved itself in a handshake (its pid, and the address and port it listens on). */
  met(peer: number, pid: number, host: string, port: number): void;
  /** `peer` takes frames over libp2p only: this pair's frames go there from now on. */
  overLibp2p(peer: number): void;
  /** A peer rang: start this rank's libp2p node (resolves once it listens). */
  startLibp2p(): Promise<void>;
  /** Frames from `peer` are refused (it was declared lost). */
  banned(peer: number): boolean;
  /** Sends an encoded frame (head without its length prefix, body) over libp2p: the peer's frames go there. */
  viaLibp2p(peer: number, head: Uint8Array, body: Uint8Array): Promise<void>;
}

const RESOLVED = Promise.resolve();
/** Payloads up to this size are copied behind their head and written in one piece. */
const COALESCE_BYTES = 16 * 1024;
/** A handshake under way is given this long: on an oversubscribed host a live rank answers late, not never. */
const HANDSHAKE_DEADLINE_MS = 30_000;
/** Scratch for reads between payloads (heads, small frames). */
const SCRATCH_BYTES = 64 * 1024;
/** A port answering nothing (SYN dropped) is not evidence: give up on that attempt after this long (then try again). */
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * One frame ready for the socket: [length + head, payload], or one buffer when small. `borrowed`: the
 * payload is the caller's memory (a large typed array, not copied), so the send resolves only once
 * the socket has handed it to the kernel.
 */
export interface Encoded { parts: Uint8Array[]; borrowed: boolean }

/** Frames a message for the socket; small payloads are copied behind their head, large typed arrays borrowed. */
export function encode(tag: string, value: unknown, maxFrameBytes: number): Encoded {
  const kind = typedKind(value);
  if (kind > 0 && (value as ArrayBufferView).byteLength <= COALESCE_BYTES) return encodeSmallTyped(tag, kind, value as ArrayBufferView, maxFrameBytes);
  const { head, body, typed } = frameParts(tag, value, 4);
  const len = head.byteLength - 4 + body.byteLength;
  if (len > maxFrameBytes) throw new RangeError(`message '${tag}' of ${len} bytes exceeds the frame limit of ${maxFrameBytes}`);
  head[0] = len >>> 24; head[1] = (len >>> 16) & 0xff; head[2] = (len >>> 8) & 0xff; head[3] = len & 0xff;
  if (body.byteLength <= COALESCE_BYTES) {
    const one = new Uint8Array(head.byteLength + body.byteLength);
    one.set(head);
    one.set(body, head.byteLength);
    return { parts: [one], borrowed: false };
  }
  return { parts: [head, body], borrowed: typed };
}

/**
 * The small typed-array frame (the latency path: every 8-byte allreduce step) written in one pass into
 * one Buffer from Node's shared pool: no head array, no encoded-tag array, no ArrayBuffer per message,
 * and a Buffer is what the socket writes without converting. Same bytes as frameParts + copy.
 */
function encodeSmallTyped(tag: string, kind: number, value: ArrayBufferView, maxFrameBytes: number): Encoded {
  const tagBytes = Buffer.byteLength(tag, 'utf8');
  if (tagBytes > 0xffff) throw new RangeError(`tag longer than 65535 bytes`);
  const len = 3 + tagBytes + value.byteLength;
  if (len > maxFrameBytes) throw new RangeError(`message '${tag}' of ${len} bytes exceeds the frame limit of ${maxFrameBytes}`);
  const one = Buffer.allocUnsafe(4 + len); // every byte is written below
  one.writeUInt32BE(len, 0);
  one[4] = kind;
  one[5] = tagBytes >> 8;
  one[6] = tagBytes & 0xff;
  one.write(tag, 7, 'utf8');
  one.set(new Uint8Array(value.buffer, value.byteOffset, value.byteLength), 7 + tagBytes);
  return { parts: [one], borrowed: false };
}

const BYE_BYTES = encode(BYE, null, Number.MAX_SAFE_INTEGER).parts[0];
const DIAL_BACK_BYTES = encode(DIAL_BACK, null, Number.MAX_SAFE_INTEGER).parts[0];

/** Retrying a rank not up yet: the first retries soon, then at most this often. Rarely needed: the later of two ranks dials the earlier one itself, and that wakes the earlier one's wait (`wake`). */
const RETRY_MAX_MS = 1000;

/** What both directions share: frames in, BYE, orderly end, and reporting the socket's end. */
abstract class Channel {
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
class Tx extends Channel {
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
class Rx extends Channel {
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
      for (const port of where?.ports ?? []) {
        const r = await this.attempt(where!.host, port);
        if (r === 'open' || r === 'closing') return;
        if (r === 'libp2p') { this.quiet = true; this.shut(); plane.toLibp2p(this.peer); return; }
        if (r === 'refused' && where!.met) refusedWhereItListened = true;
        // A free port: the rank is not up yet (it binds the first free candidate), so the later
        // candidates need not be tried; another process there means it may have moved on to them.
        if (r === 'refused') break;
      }
      if (refusedWhereItListened) return this.giveUp(`its port refused the connection: the process is gone`);
      // Silence from a rank met before proves nothing (a partition, an overloaded host): keep trying
      // until the mesh gives up on it. A rank never met may still be starting, until the deadline.
      if (!plane.pinned(this.peer) && Date.now() > plane.hooks.startupDeadline) {
        return this.giveUp(where ? `nobody answered at ${where.host} port${where.ports.length > 1 ? 's' : ''} ${where.ports.join(', ')} by the start-up deadline` : 'where it listens was never learned by the start-up deadline');
      }
      await this.sleep(delay);
      delay = Math.min(RETRY_MAX_MS, delay * 2);
    }
  }

  private giveUp(why: string): void {
    if (this.quiet || this.plane.closing) return;
    this.quiet = true;
    this.shut();
    this.plane.hooks.unreachable(this.peer, why);
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

export class DirectPlane {
  closing = false;
  private readonly tx = new Map<number, Tx>();
  private readonly rx = new Map<number, Rx>();
  /**
   * Where each rank met so far listens: its port (a refusal there is its death) and pid; the host once
   * we dialled it there (a connection it made to us shows only its source address, which on a host
   * with several addresses need not be where it listens).
   */
  private readonly pins = new Map<number, { host?: string; port: number; pid: number }>();
  private readonly libp2pPeers = new Set<number>();
  private readonly pendingSockets = new Set<Socket>();

  private constructor(readonly hooks: PlaneHooks, private readonly server: Server, readonly port: number, readonly host: string) {}

  /** Listens on `host` at the first of `ports` that is free (0: any). */
  static async start(hooks: PlaneHooks, host: string, ports: readonly number[]): Promise<DirectPlane> {
    let lastErr: Error | undefined;
    for (const port of ports.length > 0 ? ports : [0]) {
      let plane!: DirectPlane;
      const server = createServer({ noDelay: true }, (sock) => plane.accept(sock));
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ port, host, backlog: 4096 }, () => { server.off('error', reject); resolve(); });
        });
      } catch (e) {
        lastErr = e as Error;
        if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') continue;
        break;
      }
      server.on('error', (e) => hooks.log.warn({ err: e.message }, 'direct-plane listener error'));
      plane = new DirectPlane(hooks, server, (server.address() as { port: number }).port, host);
      return plane;
    }
    throw Object.assign(new Error(`${lastErr?.message ?? 'cannot listen'}${ports.length > 1 ? ` (tried ports ${ports.join(', ')})` : ''}`), { cause: lastErr });
  }

  /** Whether a channel to or from `peer` is up (its closing would reveal the peer's death). */
  isOpen(peer: number): boolean {
    return this.tx.get(peer)?.state === 'open' || this.rx.get(peer)?.open === true;
  }

  /** Whether `peer`'s frames go over libp2p (either end's data plane is libp2p). */
  overLibp2p(peer: number): boolean {
    return this.hooks.mode === 'libp2p' || this.libp2pPeers.has(peer);
  }

  /**
   * Sends on the channel to `peer` (made on first use). Returns undefined when this pair's frames go
   * over libp2p. Throws RangeError for an oversized frame.
   */
  send(peer: number, tag: string, value: unknown): Promise<void> | undefined {
    if (this.closing || this.overLibp2p(peer)) return undefined;
    const frame = encode(tag, value, this.hooks.maxFrameBytes);
    let tx = this.tx.get(peer);
    if (tx === undefined) {
      tx = new Tx(peer, this);
      this.tx.set(peer, tx);
      const rx = this.rx.get(peer);
      if (rx) rx.askDialBack();
      else this.rx.set(peer, new Rx(peer, this, true));
    }
    return tx.send(frame);
  }

  /** Makes sure `peer`'s frames to us have a channel (we are about to receive from it). */
  watch(peer: number): void {
    if (this.closing || this.overLibp2p(peer) || this.hooks.banned(peer)) return;
    if (!this.rx.has(peer)) this.rx.set(peer, new Rx(peer, this, false));
  }

  /** Where to dial `peer`: where it was met, else its planned endpoint. */
  async where(peer: number): Promise<Known | undefined> {
    const pin = this.pins.get(peer);
    if (pin?.host !== undefined) return { host: pin.host, ports: [pin.port], met: true };
    const planned = await this.hooks.endpoint(peer);
    if (!planned) return undefined;
    return pin ? { host: planned.host, ports: [pin.port], met: true } : { ...planned, met: false };
  }

  pinned(peer: number): boolean {
    return this.pins.has(peer);
  }

  /** The pid `peer` reported in its handshake, once met. */
  pidOf(peer: number): number | undefined {
    return this.pins.get(peer)?.pid;
  }

  /** `peer` proved itself; `host`: where we dialled it, undefined when it dialled us. */
  met(peer: number, pid: number, host: string | undefined, port: number, from?: string): void {
    const pin = this.pins.get(peer);
    if (!pin) this.pins.set(peer, { host, port, pid });
    else if (pin.host === undefined && host !== undefined && pin.port === port) pin.host = host;
    const tx = this.tx.get(peer);
    if (tx?.state === 'pending') tx.expectWithin(this.hooks.timeoutMs);
    this.rx.get(peer)?.wake();
    this.hooks.met(peer, pid, host ?? from ?? '', port);
  }

  /**
   * Whether `peer` still listens where it was met: 'dead' when the port refuses the connection (its
   * process is gone), 'alive' when it accepts, 'unknown' when nothing answers or we never met it.
   */
  async probe(peer: number): Promise<'dead' | 'alive' | 'unknown'> {
    const where = await this.where(peer);
    if (!where?.met || this.closing) return 'unknown';
    return new Promise((resolve) => {
      const sock = connect({ host: where.host, port: where.ports[0]!, ...(this.hooks.localAddress ? { localAddress: this.hooks.localAddress } : {}) });
      const timer = setTimeout(() => { sock.destroy(); resolve('unknown'); }, CONNECT_TIMEOUT_MS);
      sock.once('connect', () => { clearTimeout(timer); sock.destroy(); resolve('alive'); });
      sock.once('error', (e: NodeJS.ErrnoException) => { clearTimeout(timer); resolve(e.code === 'ECONNREFUSED' ? 'dead' : 'unknown'); });
    });
  }

  /**
   * Rings `peer`'s port to have it start its libp2p node (it may not run one yet); resolves once it
   * says its libp2p listens, rejects when the peer cannot be reached.
   */
  async ring(peer: number): Promise<void> {
    let delay = 10;
    for (;;) {
      if (this.closing) throw new Error('the mesh is closing');
      const where = await this.where(peer);
      for (const port of where?.ports ?? []) if (await this.ringAt(peer, where!.host, port)) return;
      if (Date.now() > this.hooks.startupDeadline) throw new Error(`rank ${peer} did not answer at its planned ports by the start-up deadline`);
      await new Promise((r) => setTimeout(r, delay).unref());
      delay = Math.min(RETRY_MAX_MS, delay * 2);
    }
  }

  private ringAt(peer: number, host: string, port: number): Promise<boolean> {
    const { hooks } = this;
    return new Promise<boolean>((resolve) => {
      let got = Buffer.alloc(0);
      let ch: Challenge | undefined;
      let sent: Buffer | undefined;
      const sock = connect({ host, port, ...(hooks.localAddress ? { localAddress: hooks.localAddress } : {}) });
      const done = (ok: boolean): void => { clearTimeout(timer); sock.destroy(); resolve(ok); };
      // Starting a libp2p node takes a while on a busy host: the acceptor answers once it listens.
      const timer = setTimeout(() => done(false), HANDSHAKE_DEADLINE_MS + CONNECT_TIMEOUT_MS);
      sock.on('data', (chunk: Buffer) => {
        got = Buffer.concat([got, chunk]);
        if (!ch) {
          if (got.byteLength < CHALLENGE_BYTES) return;
          const c = parseChallenge(got);
          if ('error' in c || c.rank !== peer) return done(false);
          ch = c;
          got = got.subarray(CHALLENGE_BYTES);
          sent = hello(hooks.key, c, { rank: hooks.rank, target: peer, flags: WANT_LIBP2P, port: this.port, pid: process.pid });
          sock.write(sent);
        }
        if (got.byteLength < ACCEPT_BYTES) return;
        const a = checkAccept(hooks.key, ch, sent!, got);
        if (!('error' in a)) this.met(peer, a.pid, host, port);
        done(!('error' in a) && (a.flags & LIBP2P_UP) !== 0);
      });
      sock.on('error', () => done(false));
      sock.on('close', () => done(false));
    });
  }

  forget(ch: Channel): void {
    const map: Map<number, Channel> = ch instanceof Tx ? this.tx : this.rx;
    if (map.get(ch.peer) === ch) map.delete(ch.peer);
  }

  /** `peer` takes frames over libp2p only: whatever waits for it goes there. */
  toLibp2p(peer: number): void {
    if (this.libp2pPeers.has(peer)) return;
    this.libp2pPeers.add(peer);
    this.tx.get(peer)?.handOver();
    this.hooks.overLibp2p(peer);
  }

  viaLibp2p(peer: number, parts: Uint8Array[]): Promise<void> {
    return this.hooks.viaLibp2p(peer, parts[0].subarray(4), parts.length === 1 ? new Uint8Array(0) : parts[1]);
  }

  /** Fails the channels of a rank found lost. */
  fail(peer: number, e: Error): void {
    this.tx.get(peer)?.drop(e);
    this.rx.get(peer)?.drop(e);
  }

  /** A connection to our port: admitted only with a hello carrying the job's key. */
  private accept(sock: Socket): void {
    const { hooks } = this;
    this.pendingSockets.add(sock);
    const who = `${sock.remoteAddress}:${sock.remotePort}`;
    const sent = challenge(hooks.rank, hooks.mode);
    let got: Buffer = Buffer.alloc(0);
    let settled = false;
    const release = (): void => {
      settled = true;
      clearTimeout(timer);
      sock.off('data', onData);
      this.pendingSockets.delete(sock);
    };
    const refuse = (why: string, claimed?: number): void => {
      release();
      sock.destroy();
      if (this.closing) return;
      const err = new ProtocolError(`${claimed !== undefined ? `a process claiming rank ${claimed}` : 'a process'} at ${who}`, hooks.rank,
        `direct-plane connection refused: ${why}`);
      hooks.log.warn({ from: who, err: err.message }, 'direct-plane connection refused');
      hooks.protocolError(err);
    };
    const timer = setTimeout(() => refuse(`no handshake within ${HANDSHAKE_DEADLINE_MS} ms`), HANDSHAKE_DEADLINE_MS);
    timer.unref();
    const onData = (chunk: Buffer): void => {
      got = got.byteLength === 0 ? chunk : Buffer.concat([got, chunk]);
      const seen = Math.min(got.byteLength, MAGIC.byteLength);
      if (!got.subarray(0, seen).equals(MAGIC.subarray(0, seen))) return refuse('not a commune direct-plane handshake');
      if (got.byteLength < HELLO_BYTES) return;
      const h = checkHello(hooks.key, sent, got, hooks.rank);
      if ('error' in h) return refuse(h.error, h.rank);
      if (hooks.banned(h.rank)) return refuse('that rank was declared lost', h.rank);
      release();
      if (h.flags & WANT_LIBP2P) { void this.answerRing(sock, sent, h); return; }
      if (hooks.mode === 'libp2p') { sock.destroy(); return; } // our challenge said so: a direct peer does not get this far
      this.admit(sock, sent, h, got.subarray(HELLO_BYTES));
    };
    sock.on('data', onData);
    sock.on('error', () => {});
    // A connection that closes before its hello (a probe of our liveness) is not an intrusion.
    sock.once('close', () => { if (!settled) release(); });
    sock.write(sent);
  }

  private admit(sock: Socket, sent: Buffer, h: Hello, rest: Uint8Array): void {
    sock.write(accept(this.hooks.key, sent, h, process.pid, 0));
    this.met(h.rank, h.pid, undefined, h.port, sock.remoteAddress);
    let tx = this.tx.get(h.rank);
    // A new channel from a rank that already had one: it lost its side of the old one.
    if (tx?.state === 'open') { tx.drop(new Error('replaced: the peer opened a new channel')); tx = undefined; }
    if (!tx) { tx = new Tx(h.rank, this); this.tx.set(h.rank, tx); }
    tx.attach(sock, rest);
    if (h.flags & DIAL_ME) this.watch(h.rank);
  }

  private async answerRing(sock: Socket, sent: Buffer, h: Hello): Promise<void> {
    this.met(h.rank, h.pid, undefined, h.port, sock.remoteAddress);
    let flags = 0;
    try {
      await this.hooks.startLibp2p();
      flags = LIBP2P_UP;
    } catch (e) {
      this.hooks.log.warn({ peer: h.rank, err: (e as Error).message }, 'cannot start libp2p for a peer that asked');
    }
    if (!sock.destroyed) sock.end(accept(this.hooks.key, sent, h, process.pid, flags));
  }

  /** Ends every channel (BYE, flush, FIN) and stops listening; resolves when the sockets are closed. */
  async close(): Promise<void> {
    this.closing = true;
    this.server.close();
    for (const s of this.pendingSockets) s.destroy();
    this.pendingSockets.clear();
    await Promise.all([...this.tx.values(), ...this.rx.values()].map((c) => c.end()));
  }

  /** Destroys whatever is still open (after close()'s grace period). */
  destroy(): void {
    for (const c of [...this.tx.values(), ...this.rx.values()]) c.destroy();
    this.tx.clear();
    this.rx.clear();
  }
}
