import { createServer, connect, type Server, type Socket } from 'node:net';
import type { RankLogger } from '../log.js';
import {
  ACCEPT_BYTES, CHALLENGE_BYTES, DIAL_ME, HELLO_BYTES, LIBP2P_UP, MAGIC, WANT_LIBP2P,
  accept, challenge, checkAccept, checkHello, hello, parseChallenge, type Challenge, type Hello, type Mode,
} from './handshake.js';
import { ProtocolError, UsageError } from '../errors.js';
import { encode } from './direct-frames.js';
import { Channel, Rx, Tx, CONNECT_TIMEOUT_MS, HANDSHAKE_DEADLINE_MS, RETRY_MAX_MS } from './direct-channels.js';

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

/**
 * Unauthenticated connections one remote address may hold at once: above what a node's ranks open to
 * one rank at the same moment (one each, plus a ring), far below an accept queue's worth.
 */
export const MAX_UNAUTHENTICATED_PER_ADDRESS = 256;

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
  /** This node shows a process of `peer` running: past the deadline, a rank never reached is still starting. */
  seenRunning(peer: number): boolean;
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
  /**
   * `peer` cannot be reached: it never listened by the start-up deadline, or refused where it listened;
   * `proven` when its port refused (no process listens there), not merely stayed silent.
   */
  unreachable(peer: number, why: string, proven: boolean): void;
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
  /** Connections not yet authenticated, by remote address, oldest first (see accept). */
  private readonly unauthenticated = new Map<string, Set<Socket>>();

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
   * process is gone), 'alive' when it accepts, 'unknown' when nothing answers. A rank never met is
   * 'unknown' until the start-up deadline (and after it while this node shows it running), then 'dead'
   * if its first port refuses: a live rank binds the first free one of its candidates by then.
   */
  async probe(peer: number): Promise<'dead' | 'alive' | 'unknown'> {
    const where = await this.where(peer);
    if (!where || (!where.met && (Date.now() < this.hooks.startupDeadline || this.hooks.seenRunning(peer))) || this.closing) return 'unknown';
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
      if (Date.now() > this.hooks.startupDeadline && !this.hooks.seenRunning(peer)) throw new Error(`rank ${peer} did not answer at its planned ports by the start-up deadline`);
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
    // Connections that have not authenticated yet, per remote address: past the bound the oldest goes
    // (a job's rank answers its challenge at once, so the oldest is the likeliest to be trickling), and
    // one address cannot hold the port's accept queue for the handshake deadline.
    const from = sock.remoteAddress ?? '';
    let waiting = this.unauthenticated.get(from);
    if (!waiting) { waiting = new Set(); this.unauthenticated.set(from, waiting); }
    waiting.add(sock);
    if (waiting.size > MAX_UNAUTHENTICATED_PER_ADDRESS) {
      const oldest = waiting.values().next().value!;
      waiting.delete(oldest);
      oldest.destroy();
    }
    const sent = challenge(hooks.rank, hooks.mode);
    let got: Buffer = Buffer.alloc(0);
    let settled = false;
    const release = (): void => {
      settled = true;
      clearTimeout(timer);
      sock.off('data', onData);
      this.pendingSockets.delete(sock);
      waiting.delete(sock);
      if (waiting.size === 0 && this.unauthenticated.get(from) === waiting) this.unauthenticated.delete(from);
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
