import { createServer, connect, type Server, type Socket } from 'node:net';
import type { RankLogger } from '../log.js';
import { frameParts, typedKind } from './codec.js';
import { FrameReader } from './frame-reader.js';
import { ACCEPTED, HELLO_BYTES, MAGIC, TOKEN_BYTES, hello, newToken, parseHello, sameToken } from './direct-auth.js';
import { ProtocolError, UsageError } from '../errors.js';

// The direct data plane, like MPI's TCP transport: tagged point-to-point messages between two ranks
// travel on plain TCP sockets instead of through libp2p's per-stream stack (protector, noise, yamux,
// each an async-iterator stage — measured at ~0.4 ms per round trip and ~120 MiB/s). libp2p remains
// the control plane: it authenticates both ends (see direct-auth.ts for how a socket is admitted),
// carries the set-up messages below and the roster, and its connection still watches liveness. The
// sockets are NOT encrypted (as MPI's are not); COMMUNE_DATA_PLANE=libp2p keeps every byte inside the
// encrypted libp2p connection for untrusted networks.
//
// One socket per direction, set up by its sender alone, so there is never a duplicate to resolve:
//   sender → receiver   OFFER (over libp2p) { p: sender's port, t: one-time token }, on its first send
//   receiver → sender   raw TCP: hello (magic, rank, token); sender answers ACCEPTED; frames flow
//   receiver → sender   REFUSE (over libp2p) instead, when its data plane is libp2p: the pair uses libp2p
// The receiver dials because Node lets only the creator of a socket choose where reads land (`onread`):
// a large payload is read by the kernel straight into the array the receiver gets — no copy, no
// per-chunk Buffer; when the receiver posted its destination array first, straight into that — while the sender writes it from the caller's memory (corked head + payload).
// Frames are [u32 BE length][codec frame] (codec.ts), parsed synchronously (frame-reader.ts).
// Sends queued while the channel is being set up keep their order; per (peer, tag) order is the
// socket's. A socket closing without the peer's BYE frame is reported like a lost libp2p connection.

export const DIRECT_OFFER = '\u0000direct!';
export const DIRECT_REFUSE = '\u0000direct-';
const BYE = '\u0000bye';

export type DataPlaneMode = 'libp2p' | 'direct';

/** COMMUNE_DATA_PLANE: `direct` (default) or `libp2p`. */
export function dataPlaneMode(value: string | undefined): DataPlaneMode {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '' || v === 'direct') return 'direct';
  if (v === 'libp2p') return 'libp2p';
  throw new UsageError(`COMMUNE_DATA_PLANE='${value}' is not a data plane: use 'direct' (plain TCP, authenticated, fastest) or 'libp2p' (everything encrypted inside libp2p)`);
}

export interface PlaneHooks {
  rank: number;
  maxFrameBytes: number;
  /** Deadline for setting up a channel, ms. */
  timeoutMs: number;
  log: RankLogger;
  /** Sends a set-up message over the authenticated libp2p channel. */
  control(peer: number, tag: string, value: unknown): void;
  /** The IP address at which this rank's libp2p connection reaches `peer`. */
  hostOf(peer: number): string | undefined;
  /** A frame arrived; returns a promise when the receiver is full and reading should pause until it resolves. */
  deliver(peer: number, tag: string, value: unknown, bytes: number): Promise<void> | undefined;
  /** A typed-array frame's head arrived: where its payload should land (a posted receive), else undefined. */
  claim?(peer: number, tag: string, kind: number, payloadBytes: number): ArrayBufferView | undefined;
  /** Sends an already-encoded frame (head without length prefix, body) over libp2p: the peer refused the plane. */
  viaLibp2p(peer: number, head: Uint8Array, body: Uint8Array): Promise<void>;
  /** The channel to `peer` closed; `left`: the peer said it closes its mesh. */
  closed(peer: number, why: string, left: boolean): void;
  protocolError(err: ProtocolError): void;
}

const RESOLVED = Promise.resolve();
/** Payloads up to this size are copied behind their head and written in one piece. */
const COALESCE_BYTES = 16 * 1024;
const HELLO_DEADLINE_MS = 10_000;
/** Scratch for reads between payloads (heads, small frames). */
const SCRATCH_BYTES = 64 * 1024;

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

  protected watch(sock: Socket): void {
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
    if (!s || s.destroyed) { this.shut(new Error('the mesh is closed')); return RESOLVED; }
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

/** Our sending channel to `peer`: we offered, it dialled in. */
class Tx extends Channel {
  state: 'pending' | 'open' | 'closed' = 'pending';
  private readonly queue: Queued[] = [];
  private drains: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(peer: number, plane: DirectPlane, timeoutMs: number) {
    super(peer, plane);
    this.timer = setTimeout(() => {
      if (this.state !== 'pending') return;
      const e = new Error(`rank ${peer} did not take the direct channel offered within ${timeoutMs} ms`);
      this.shut(e);
      plane.hooks.closed(peer, e.message, false);
    }, timeoutMs);
    this.timer.unref();
  }

  send(frame: Encoded): Promise<void> {
    if (this.state === 'open') return this.write(frame);
    return new Promise((resolve, reject) => this.queue.push({ frame, resolve, reject }));
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

  /** Takes over the authenticated socket the peer dialled in on; `rest`: bytes that followed its hello. */
  attach(sock: Socket, rest: Uint8Array): void {
    clearTimeout(this.timer);
    this.socket = sock;
    this.state = 'open';
    // A well-behaved peer sends only BYE this way; anything it sends is parsed all the same.
    const reader = this.reader();
    const onData = (chunk: Uint8Array): void => {
      try { reader.push(chunk); } catch (e) { this.malformed(e as Error); }
    };
    sock.on('data', onData);
    sock.on('drain', () => { for (const d of this.drains.splice(0)) d.resolve(); });
    this.watch(sock);
    if (rest.byteLength > 0) onData(rest);
    for (const q of this.queue.splice(0)) {
      if (this.state !== 'open') { q.reject(new Error('direct connection closed')); continue; }
      this.write(q.frame).then(q.resolve, q.reject);
    }
  }

  /** The peer's data plane is libp2p: queued frames go there, in order. */
  refuse(): void {
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

/** `peer`'s sending channel to us: it offered, we dialled. Reads land where the frame reader wants them. */
class Rx extends Channel {
  private accepted = false;

  constructor(peer: number, plane: DirectPlane, host: string, port: number, token: Uint8Array) {
    super(peer, plane);
    const reader = this.reader();
    const scratch = new Uint8Array(SCRATCH_BYTES);
    let into: Uint8Array = scratch;
    const sock = connect({
      host, port, noDelay: true,
      onread: {
        buffer: () => (into = reader.target() ?? scratch),
        callback: (n: number) => {
          try {
            let chunk = into.subarray(0, n);
            if (!this.accepted) {
              if (chunk[0] !== ACCEPTED) throw new RangeError(`rank ${peer} did not accept the direct channel`);
              this.accepted = true;
              chunk = chunk.subarray(1);
              if (into !== scratch) throw new RangeError('payload before the handshake');
            }
            if (into === scratch) reader.push(chunk, true);
            else reader.advance(n);
          } catch (e) {
            this.malformed(e as Error);
          }
          return true;
        },
      },
    });
    this.socket = sock;
    // Unreachable (a firewall, an address we cannot route to): the pair falls back to libp2p instead of
    // leaving the sender's frames queued for a connection that never comes.
    sock.once('error', (e) => {
      if (this.accepted || plane.closing) return;
      this.quiet = true;
      plane.hooks.log.warn({ peer, host, port, err: e.message }, 'direct channel unreachable; this pair uses libp2p');
      plane.hooks.control(peer, DIRECT_REFUSE, null);
    });
    sock.write(hello(plane.hooks.rank, token));
    this.watch(sock);
  }

  get open(): boolean {
    return this.accepted && !this.socket!.destroyed;
  }

  protected shut(): void {
    this.plane.forget(this);
  }
}

export class DirectPlane {
  closing = false;
  private readonly tx = new Map<number, Tx>();
  private readonly rx = new Map<number, Rx>();
  private readonly offers = new Map<number, Buffer>();
  private readonly refused = new Set<number>();
  private readonly pendingSockets = new Set<Socket>();

  private constructor(readonly hooks: PlaneHooks, private readonly server?: Server, readonly port = 0) {}

  /** A plane listening on `host` (port 0: the port travels in OFFER messages); `enabled: false` only refuses. */
  static async start(hooks: PlaneHooks, host: string, enabled: boolean): Promise<DirectPlane> {
    if (!enabled) return new DirectPlane(hooks);
    let plane!: DirectPlane;
    const server = createServer({ noDelay: true }, (sock) => plane.accept(sock));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => { server.off('error', reject); resolve(); });
    });
    server.on('error', (e) => hooks.log.warn({ err: e.message }, 'direct-plane listener error'));
    plane = new DirectPlane(hooks, server, (server.address() as { port: number }).port);
    return plane;
  }

  get enabled(): boolean {
    return this.server !== undefined;
  }

  /** Whether a direct socket to or from `peer` is up (its closing would reveal the peer's death). */
  isOpen(peer: number): boolean {
    return this.tx.get(peer)?.state === 'open' || this.rx.get(peer)?.open === true;
  }

  /**
   * Sends on the direct channel to `peer` (offered on first use). Returns undefined when this pair uses
   * libp2p (this plane is disabled or the peer refused). Throws RangeError for an oversized frame.
   */
  send(peer: number, tag: string, value: unknown): Promise<void> | undefined {
    if (!this.server || this.refused.has(peer) || this.closing) return undefined;
    const frame = encode(tag, value, this.hooks.maxFrameBytes);
    let tx = this.tx.get(peer);
    if (tx === undefined) {
      tx = new Tx(peer, this, this.hooks.timeoutMs);
      this.tx.set(peer, tx);
      const token = newToken();
      this.offers.set(peer, token);
      this.hooks.control(peer, DIRECT_OFFER, { p: this.port, t: new Uint8Array(token) });
    }
    return tx.send(frame);
  }

  forget(ch: Channel): void {
    const map: Map<number, Channel> = ch instanceof Tx ? this.tx : this.rx;
    if (map.get(ch.peer) === ch) map.delete(ch.peer);
  }

  viaLibp2p(peer: number, parts: Uint8Array[]): Promise<void> {
    const head = parts[0].subarray(4);
    if (parts.length === 1) return this.hooks.viaLibp2p(peer, head, new Uint8Array(0));
    return this.hooks.viaLibp2p(peer, head, parts[1]);
  }

  /** Fails the channels of a rank found lost. */
  fail(peer: number, e: Error): void {
    this.tx.get(peer)?.drop(e);
    this.rx.get(peer)?.drop(e);
    this.offers.delete(peer);
  }

  /** A set-up message from `peer` (it arrived over the authenticated libp2p channel). */
  onControl(peer: number, tag: string, value: unknown): void {
    if (this.closing) return;
    if (!this.server) {
      if (tag === DIRECT_OFFER) this.hooks.control(peer, DIRECT_REFUSE, null);
      return;
    }
    if (tag === DIRECT_REFUSE) {
      this.refused.add(peer);
      this.offers.delete(peer);
      this.tx.get(peer)?.refuse();
      return;
    }
    if (tag !== DIRECT_OFFER) return;
    const o = value as { p?: unknown; t?: unknown } | null;
    if (!o || !Number.isInteger(o.p) || (o.p as number) <= 0 || (o.p as number) > 65535
      || !(o.t instanceof Uint8Array) || o.t.byteLength !== TOKEN_BYTES) {
      this.hooks.protocolError(new ProtocolError(`rank ${peer}`, this.hooks.rank, 'malformed direct-plane offer'));
      return;
    }
    // A new offer means the peer lost its side of any channel we still hold from it.
    this.rx.get(peer)?.drop(new Error('replaced: the peer offered a new channel'));
    const host = this.hooks.hostOf(peer);
    if (!host) {
      this.hooks.log.warn({ peer }, 'direct-plane offer from a rank with no libp2p connection to learn its address from');
      return;
    }
    this.rx.set(peer, new Rx(peer, this, host, o.p as number, o.t));
  }

  /** A raw connection to our port: admitted only with a hello carrying a token this rank offered. */
  private accept(sock: Socket): void {
    this.pendingSockets.add(sock);
    const who = `${sock.remoteAddress}:${sock.remotePort}`;
    let got: Buffer = Buffer.alloc(0);
    const refuse = (why: string, claimed?: number): void => {
      clearTimeout(timer);
      sock.off('data', onData);
      this.pendingSockets.delete(sock);
      sock.destroy();
      if (this.closing) return;
      const err = new ProtocolError(`${claimed !== undefined ? `a process claiming rank ${claimed}` : 'a process'} at ${who}`, this.hooks.rank,
        `direct-plane connection refused: ${why}`);
      this.hooks.log.warn({ from: who, err: err.message }, 'direct-plane connection refused');
      this.hooks.protocolError(err);
    };
    const timer = setTimeout(() => refuse(`no handshake within ${HELLO_DEADLINE_MS} ms`), HELLO_DEADLINE_MS);
    timer.unref();
    const onData = (chunk: Buffer): void => {
      got = got.byteLength === 0 ? chunk : Buffer.concat([got, chunk]);
      const seen = Math.min(got.byteLength, MAGIC.byteLength);
      if (!got.subarray(0, seen).equals(MAGIC.subarray(0, seen))) return refuse('not a commune direct-plane handshake');
      if (got.byteLength < HELLO_BYTES) return;
      const h = parseHello(got);
      if ('error' in h) return refuse(h.error);
      const expected = this.offers.get(h.rank);
      if (!expected) return refuse('no channel was offered to that rank', h.rank);
      if (!sameToken(expected, h.token)) return refuse('wrong token', h.rank);
      const tx = this.tx.get(h.rank);
      if (!tx || tx.state !== 'pending') return refuse('no channel is waiting for that rank', h.rank);
      clearTimeout(timer);
      sock.off('data', onData);
      this.pendingSockets.delete(sock);
      this.offers.delete(h.rank);
      sock.write(Uint8Array.of(ACCEPTED));
      tx.attach(sock, got.subarray(HELLO_BYTES));
    };
    sock.on('data', onData);
    sock.on('error', () => {});
    sock.once('close', () => { clearTimeout(timer); this.pendingSockets.delete(sock); });
  }

  /** Ends every channel (BYE, flush, FIN) and stops listening; resolves when the sockets are closed. */
  async close(): Promise<void> {
    this.closing = true;
    this.offers.clear();
    this.server?.close();
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
