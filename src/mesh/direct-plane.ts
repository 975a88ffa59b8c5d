import { createServer, connect, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { frameParts } from './codec.js';
import { FrameReader } from './frame-reader.js';
import { ACCEPTED, HELLO_BYTES, MAGIC, TOKEN_BYTES, hello, newToken, parseHello, sameToken } from './direct-auth.js';
import { ProtocolError, UsageError } from '../errors.js';

// The direct data plane, like MPI's TCP transport: tagged point-to-point messages between two ranks
// travel on one plain TCP socket per pair instead of through libp2p's per-stream stack (protector,
// noise, yamux, each an async-iterator stage — measured at ~0.4 ms per round trip and ~120 MiB/s).
// libp2p remains the control plane: it authenticates both ends (see direct-auth.ts for how the socket
// is admitted), carries the set-up messages below and the roster, and its connection still watches
// liveness. The socket is NOT encrypted (as MPI's is not); COMMUNE_DATA_PLANE=libp2p keeps every
// byte inside the encrypted libp2p connection for untrusted networks.
//
// One connection per pair, deterministically: the lower rank dials, the higher rank listens.
//   lower → higher  ASK    (over libp2p) "offer me a channel"
//   higher → lower  OFFER  (over libp2p) { p: port, t: one-time token } — sent on ASK or on its own first send
//   lower → higher  raw TCP: hello (magic, rank, token); higher answers ACCEPTED; then frames both ways
//   either          REFUSE (over libp2p) "my data plane is libp2p": both then use libp2p for this pair
// Frames on the socket are [u32 BE length][codec frame] (codec.ts), written with one write (small) or
// corked head + payload (large), parsed synchronously from 'data' chunks (frame-reader.ts).
// Sends queued while the channel is being set up keep their order; per (peer, tag) order is the
// socket's. The socket closing without the peer's BYE frame is reported like a lost libp2p connection.

export const DIRECT_ASK = '\u0000direct?';
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
  log: Logger;
  /** Sends a set-up message over the authenticated libp2p channel. */
  control(peer: number, tag: string, value: unknown): void;
  /** The IP address at which this rank's libp2p connection reaches `peer`. */
  hostOf(peer: number): string | undefined;
  /** A frame arrived; returns a promise when the receiver is full and reading should pause until it resolves. */
  deliver(peer: number, tag: string, value: unknown, bytes: number): Promise<void> | undefined;
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

interface Queued { parts: Uint8Array[]; resolve: () => void; reject: (e: Error) => void }
type LinkState = 'pending' | 'open' | 'refused' | 'closed';

class Link {
  state: LinkState = 'pending';
  socket?: Socket;
  dialing = false;
  /** The peer sent BYE: its closing is a departure, not a failure. */
  left = false;
  /** Replaced or dropped on purpose: its closing reports nothing. */
  quiet = false;
  private readonly queue: Queued[] = [];
  private drains: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private timer?: NodeJS.Timeout;

  constructor(readonly peer: number, private readonly plane: DirectPlane, timeoutMs: number) {
    this.timer = setTimeout(() => this.fail(new Error(`no direct channel to rank ${peer} within ${timeoutMs} ms`)), timeoutMs);
    this.timer.unref();
  }

  send(parts: Uint8Array[]): Promise<void> {
    if (this.state === 'open') return this.write(parts);
    return new Promise((resolve, reject) => this.queue.push({ parts, resolve, reject }));
  }

  private write(parts: Uint8Array[]): Promise<void> {
    const s = this.socket!;
    let ok: boolean;
    if (parts.length === 1) ok = s.write(parts[0]);
    else {
      s.cork();
      s.write(parts[0]);
      ok = s.write(parts[1]);
      s.uncork();
    }
    if (ok) return RESOLVED;
    return new Promise((resolve, reject) => this.drains.push({ resolve, reject }));
  }

  /** Takes over an authenticated socket; `rest`: bytes that followed the handshake. */
  attach(sock: Socket, rest: Uint8Array): void {
    clearTimeout(this.timer);
    this.socket = sock;
    this.state = 'open';
    const plane = this.plane;
    const peer = this.peer;
    const reader = new FrameReader(plane.hooks.maxFrameBytes, (tag, value, bytes) => {
      if (tag === BYE) { this.left = true; return; }
      const full = plane.hooks.deliver(peer, tag, value, bytes);
      if (full) { sock.pause(); void full.then(() => sock.resume()); }
    });
    const onData = (chunk: Uint8Array): void => {
      try {
        reader.push(chunk);
      } catch (e) {
        const err = new ProtocolError(`rank ${peer}`, plane.hooks.rank, `malformed frame on the direct plane: ${(e as Error).message}`);
        plane.hooks.log.warn({ peer, err: err.message }, 'protocol error; direct connection dropped');
        plane.hooks.protocolError(err);
        this.drop(err);
      }
    };
    sock.on('data', onData);
    sock.on('drain', () => { for (const d of this.drains.splice(0)) d.resolve(); });
    sock.on('close', () => this.closed());
    if (rest.byteLength > 0) onData(rest);
    for (const q of this.queue.splice(0)) {
      if (this.state !== 'open') { q.reject(new Error('direct connection closed')); continue; }
      this.write(q.parts).then(q.resolve, q.reject);
    }
  }

  /** The peer's data plane is libp2p: queued frames go there, in order. */
  refuse(): void {
    clearTimeout(this.timer);
    this.state = 'refused';
    for (const q of this.queue.splice(0)) this.plane.viaLibp2p(this.peer, q.parts).then(q.resolve, q.reject);
  }

  /** Fails the link and everything waiting on it. */
  fail(e: Error, report = true): void {
    if (this.state === 'closed') return;
    clearTimeout(this.timer);
    const wasOpen = this.state === 'open';
    this.state = 'closed';
    if (!report) this.quiet = true;
    for (const q of this.queue.splice(0)) q.reject(e);
    for (const d of this.drains.splice(0)) d.reject(e);
    this.socket?.destroy();
    this.plane.forget(this);
    if (report && !wasOpen) this.plane.hooks.closed(this.peer, e.message, false);
  }

  /** Drops the link without reporting the peer (a replacement is coming, or the peer spoke nonsense). */
  drop(e: Error): void {
    this.quiet = true;
    this.fail(e, false);
  }

  private closed(): void {
    const why = this.left ? 'it closed its mesh' : 'direct connection closed';
    const report = !this.quiet && !this.plane.closing;
    if (this.state !== 'closed') {
      this.quiet = true; // fail() below must not report a second time
      this.fail(new Error(why), false);
    }
    if (report) this.plane.hooks.closed(this.peer, why, this.left);
  }

  /** Orderly end: BYE, flush, FIN; resolves when the socket is closed. */
  end(): Promise<void> {
    const s = this.socket;
    if (this.state !== 'open' || !s) { this.fail(new Error('the mesh is closed'), false); return RESOLVED; }
    return new Promise<void>((resolve) => {
      s.once('close', () => resolve());
      s.end(encode(BYE, null, Number.MAX_SAFE_INTEGER)[0]);
    });
  }

  destroy(): void {
    this.quiet = true;
    this.socket?.destroy();
  }
}

/** [u32 length + head, payload] or one buffer for small payloads; typed-array payloads are copied, so the caller may reuse its buffer at once. */
export function encode(tag: string, value: unknown, maxFrameBytes: number): Uint8Array[] {
  const { head, body, typed } = frameParts(tag, value, 4);
  const len = head.byteLength - 4 + body.byteLength;
  if (len > maxFrameBytes) throw new RangeError(`message '${tag}' of ${len} bytes exceeds the frame limit of ${maxFrameBytes}`);
  head[0] = len >>> 24; head[1] = (len >>> 16) & 0xff; head[2] = (len >>> 8) & 0xff; head[3] = len & 0xff;
  if (body.byteLength <= COALESCE_BYTES) {
    const one = new Uint8Array(head.byteLength + body.byteLength);
    one.set(head);
    one.set(body, head.byteLength);
    return [one];
  }
  return [head, typed ? body.slice() : body];
}

export class DirectPlane {
  closing = false;
  private readonly links = new Map<number, Link>();
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

  /** Whether frames to `peer` go straight onto an open socket. */
  isOpen(peer: number): boolean {
    return this.links.get(peer)?.state === 'open';
  }

  /**
   * Sends on the direct channel to `peer` (set up on first use). Returns undefined when this pair uses
   * libp2p (this plane is disabled or the peer refused). Throws RangeError for an oversized frame.
   */
  send(peer: number, tag: string, value: unknown): Promise<void> | undefined {
    if (!this.server || this.refused.has(peer) || this.closing) return undefined;
    const parts = encode(tag, value, this.hooks.maxFrameBytes);
    const link = this.links.get(peer);
    if (link !== undefined && link.state === 'open') return link.send(parts);
    return this.link(peer).send(parts);
  }

  private link(peer: number): Link {
    let link = this.links.get(peer);
    if (link) return link;
    link = new Link(peer, this, this.hooks.timeoutMs);
    this.links.set(peer, link);
    if (peer < this.hooks.rank) this.offer(peer, link);
    else this.hooks.control(peer, DIRECT_ASK, null);
    return link;
  }

  forget(link: Link): void {
    if (this.links.get(link.peer) === link) this.links.delete(link.peer);
  }

  viaLibp2p(peer: number, parts: Uint8Array[]): Promise<void> {
    const head = parts[0].subarray(4);
    if (parts.length === 1) return this.hooks.viaLibp2p(peer, head, new Uint8Array(0));
    return this.hooks.viaLibp2p(peer, head, parts[1]);
  }

  /** Fails the channel to a rank found lost. */
  fail(peer: number, e: Error): void {
    this.links.get(peer)?.fail(e, false);
    this.offers.delete(peer);
  }

  /** A set-up message from `peer` (it arrived over the authenticated libp2p channel). */
  onControl(peer: number, tag: string, value: unknown): void {
    if (this.closing) return;
    if (!this.server) {
      if (tag !== DIRECT_REFUSE) this.hooks.control(peer, DIRECT_REFUSE, null);
      return;
    }
    switch (tag) {
      case DIRECT_ASK: {
        if (peer > this.hooks.rank) return this.hooks.log.warn({ peer }, 'direct-plane ASK from a higher rank ignored (the lower rank dials)');
        const old = this.links.get(peer);
        // An ASK while our side looks open: the peer lost its side, so this socket is stale.
        if (old?.state === 'open') old.drop(new Error('replaced: the peer asked for a new channel'));
        this.offer(peer, this.links.get(peer) ?? this.newLink(peer));
        return;
      }
      case DIRECT_OFFER: {
        const o = value as { p?: unknown; t?: unknown } | null;
        if (peer < this.hooks.rank || !o || !Number.isInteger(o.p) || (o.p as number) <= 0 || (o.p as number) > 65535
          || !(o.t instanceof Uint8Array) || o.t.byteLength !== TOKEN_BYTES) {
          return this.hooks.protocolError(new ProtocolError(`rank ${peer}`, this.hooks.rank, 'malformed direct-plane offer'));
        }
        let link = this.links.get(peer);
        if (link?.state === 'open') { link.drop(new Error('replaced: the peer offered a new channel')); link = undefined; }
        link ??= this.newLink(peer);
        if (!link.dialing) this.dial(link, o.p as number, o.t);
        return;
      }
      case DIRECT_REFUSE: {
        this.refused.add(peer);
        this.links.get(peer)?.refuse();
        this.links.delete(peer);
        return;
      }
    }
  }

  private newLink(peer: number): Link {
    const link = new Link(peer, this, this.hooks.timeoutMs);
    this.links.set(peer, link);
    return link;
  }

  private offer(peer: number, link: Link): void {
    void link;
    let token = this.offers.get(peer);
    if (!token) { token = newToken(); this.offers.set(peer, token); }
    this.hooks.control(peer, DIRECT_OFFER, { p: this.port, t: new Uint8Array(token) });
  }

  private dial(link: Link, port: number, token: Uint8Array): void {
    const host = this.hooks.hostOf(link.peer);
    if (!host) { link.fail(new Error(`no libp2p connection to rank ${link.peer} to learn its address from`)); return; }
    link.dialing = true;
    const sock = connect({ host, port, noDelay: true });
    this.pendingSockets.add(sock);
    sock.write(hello(this.hooks.rank, token));
    const onData = (chunk: Buffer): void => {
      sock.off('data', onData);
      this.pendingSockets.delete(sock);
      if (chunk[0] !== ACCEPTED) { sock.destroy(); link.fail(new Error(`rank ${link.peer} did not accept the direct channel`)); return; }
      if (link.state !== 'pending') { sock.destroy(); return; }
      link.attach(sock, chunk.subarray(1));
    };
    sock.on('data', onData);
    sock.on('error', (e) => this.hooks.log.debug({ peer: link.peer, err: e.message }, 'direct socket error'));
    sock.once('close', () => {
      this.pendingSockets.delete(sock);
      if (!link.socket) link.fail(new Error(`direct channel to rank ${link.peer} closed during its handshake`), !this.closing);
    });
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
      clearTimeout(timer);
      sock.off('data', onData);
      this.pendingSockets.delete(sock);
      this.offers.delete(h.rank);
      let link = this.links.get(h.rank);
      if (link?.state === 'open') { link.drop(new Error('replaced by a new channel')); link = undefined; }
      link ??= this.newLink(h.rank);
      sock.write(Uint8Array.of(ACCEPTED));
      link.attach(sock, got.subarray(HELLO_BYTES));
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
    await Promise.all([...this.links.values()].map((l) => l.end()));
  }

  /** Destroys whatever is still open (after close()'s grace period). */
  destroy(): void {
    for (const l of this.links.values()) l.destroy();
    this.links.clear();
  }
}
