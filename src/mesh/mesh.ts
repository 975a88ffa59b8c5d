import '../polyfill.js';
import { EventEmitter } from 'node:events';
import type { World } from '../../topology/types.js';
import { libp2pPortOf } from '../../topology/wireup.js';
import { Endpoints } from './endpoints.js';
import { handshakeKey } from './identity.js';
import { cloneValue } from './codec.js';
import { Mailbox } from './mailbox.js';
import { StallWatch } from './stall-watch.js';
import { DirectPlane, dataPlaneMode, type DataPlaneMode, type PlaneHooks } from './direct-plane.js';
import type { Libp2pPlane } from './libp2p-plane.js';
import { Registry } from './registry.js';
import type { PidState } from './liveness.js';
import { DEAD, EVICT, FailureDetector } from './failure-detector.js';
import { finalBarrier } from './final-barrier.js';
import { CommuneError, EvictedError, PeerLostError, ProtocolError, StartupError } from '../errors.js';
import { rankLogger, type RankLogger } from '../log.js';

// A rank's view of the job: tagged point-to-point messages to any rank, made on first use. No roster is
// exchanged and no connection is made at start-up: every rank's endpoint is computed (topology/wireup.ts),
// so joining is binding one port, and a rank connects only to the ranks it talks to — O(log p) for the
// collectives — over the direct plane (direct-plane.ts), or over libp2p where the data plane is libp2p
// (libp2p-plane.ts, started on demand). A rank that never comes up is lost like any other: its peers
// stop trying at the start-up deadline. Liveness rides the same channels: a channel that closes without
// the peer's goodbye makes the failure detector check the peer (failure-detector.ts: its process on this
// node, else its port; a refusal is death, silence proves nothing), and operations that wait ping the
// rank they wait on.

// Mesh control messages, answered by the reader itself (not the mailbox), so a rank answers a ping
// even while its search is running.
const PING = '\u0000ping';
const PONG = '\u0000pong/';
/** How long close() waits for queued frames to leave before it drops them. */
const CLOSE_FLUSH_MS = 5000;
export const DEFAULT_MAX_FRAME = 1024 * 1024 * 1024;

export interface MeshOptions {
  world: World;
  /** The job secret (see secret.ts); every rank of a job must pass the same one. */
  secret: string;
  /** IPv4 address to bind; default: world.bindHost, else loopback for a one-node world, else 0.0.0.0. */
  host?: string;
  /** How long a rank never heard from may still be starting, ms from now. */
  startupTimeoutMs?: number;
  /** Frames above this many bytes are a protocol error. */
  maxFrameBytes?: number;
  /** Default deadline of a receive, ms. */
  timeoutMs?: number;
  /** Where tagged messages travel: `direct` (plain authenticated TCP per pair) or `libp2p`; default COMMUNE_DATA_PLANE, else direct. */
  dataPlane?: DataPlaneMode;
}

export interface MeshEvents {
  /** `left`: the rank closed its mesh on purpose (a normal exit), rather than dying. */
  lost: [rank: number, why: string, left: boolean];
  /** Another rank declared this one lost: it must stop (see EvictedError). */
  evicted: [err: EvictedError];
  'protocol-error': [err: ProtocolError];
}

/** A peer-to-peer mesh of the job's ranks: authenticated, with tagged point-to-point channels made on demand. */
export class Mesh extends EventEmitter<MeshEvents> {
  readonly rank: number;
  readonly size: number;
  readonly log: RankLogger;
  readonly timeoutMs: number;
  private readonly mailbox: Mailbox;
  private closing = false;
  private joined = false;
  private pings = 0;
  /** Set once another rank declared this one lost. */
  evictedBy?: EvictedError;
  /** When this process was frozen or its event loop held (liveness decisions check it). */
  readonly stalls = new StallWatch();
  /** Frames and bytes this rank sent to and received from other ranks (benchmarks report them; sentBytes counts the libp2p path only). */
  readonly traffic = { sent: 0, sentBytes: 0, received: 0, receivedBytes: 0 };
  /** Which ranks are dead (failure-detector.ts). */
  private readonly detector: FailureDetector;
  private plane?: DirectPlane;
  private libp2pPlane?: Promise<Libp2pPlane>;
  /** The libp2p node once it runs (for its addresses). */
  private libp2pStarted?: Libp2pPlane;
  private readonly registry?: Registry;
  private readonly endpoints: Endpoints;
  /** Tags whose frames go to a handler instead of the mailbox (serve()). */
  private readonly services = new Map<string, (peer: number, value: unknown) => void>();

  private constructor(
    readonly world: World,
    private readonly secret: string,
    private readonly mode: DataPlaneMode,
    private readonly host: string,
    private readonly maxFrameBytes: number,
    timeoutMs: number,
    private readonly startupDeadline: number,
  ) {
    super();
    this.rank = world.rank;
    this.size = world.size;
    this.timeoutMs = timeoutMs;
    this.log = rankLogger(world.rank, 'mesh');
    this.mailbox = new Mailbox(world.rank);
    this.detector = new FailureDetector({
      rank: this.rank, size: this.size, world, log: this.log, mailbox: this.mailbox,
      closing: () => this.closing,
      plane: () => this.plane,
      libp2p: () => this.libp2pPlane,
      send: (r, tag, v) => this.send(r, tag, v),
      lost: (r, reason, left) => this.emit('lost', r, reason, left),
      evicted: (by, why) => this.onEvicted(by, why),
    });
    if (world.size > 1 && world.wireUp === 'registry' && world.bootstrap.length > 0) {
      this.registry = new Registry(world.bootstrap[0]!.rank, world.rank, (r, tag, v) => { this.send(r, tag, v).catch(() => {}); });
    }
    this.endpoints = new Endpoints(world, this.registry);
  }

  static async start(opts: MeshOptions): Promise<Mesh> {
    const { world } = opts;
    const mode = opts.dataPlane ?? dataPlaneMode(process.env.COMMUNE_DATA_PLANE);
    const host = opts.host ?? world.bindHost ?? (world.nodes.length <= 1 ? '127.0.0.1' : '0.0.0.0');
    const mesh = new Mesh(world, opts.secret, mode, host, opts.maxFrameBytes ?? DEFAULT_MAX_FRAME, opts.timeoutMs ?? 60_000,
      Date.now() + (opts.startupTimeoutMs ?? 60_000));
    if (world.size === 1) return mesh;
    try {
      await mesh.listen();
      if (mode === 'libp2p') await mesh.libp2p();
      // A registry learns where a rank listens from its first handshake with the registrar.
      if (mesh.registry && mesh.registry.registrar !== mesh.rank) mesh.plane!.watch(mesh.registry.registrar);
      // Every rank is watched by its parent and children in the binomial tree rooted at 0: one
      // connection per rank, made in the background, so a rank that dies before anyone else talked to
      // it is still found dead at once — by a neighbour whose channel closes — and the news spreads.
      if (mesh.rank !== 0) mesh.watch(mesh.rank & (mesh.rank - 1));
      mesh.joined = true;
    } catch (e) {
      await mesh.close();
      throw e;
    }
    return mesh;
  }

  private async listen(): Promise<void> {
    const ports = this.world.listenPorts;
    const hooks: PlaneHooks = {
      rank: this.rank,
      maxFrameBytes: this.maxFrameBytes,
      log: this.log,
      key: handshakeKey(this.secret),
      mode: this.mode,
      localAddress: this.host === '0.0.0.0' ? undefined : this.host,
      startupDeadline: this.startupDeadline,
      seenRunning: (peer) => this.detector.seenRunning(peer),
      timeoutMs: this.timeoutMs,
      endpoint: (peer) => this.endpoints.of(peer),
      deliver: (peer, tag, value, bytes) => this.deliver(peer, tag, value, bytes),
      claim: (peer, tag, kind, payloadBytes) => (this.detector.banned.has(peer) ? undefined : this.mailbox.claim(peer, tag, kind, payloadBytes)),
      closed: (peer, why, left) => (left ? this.detector.markLost(peer, why, true) : this.detector.probe(peer, why)),
      unreachable: (peer, why, proven) => this.detector.markLost(peer, why, false, this.rank, proven),
      protocolError: (err) => this.emit('protocol-error', err),
      met: (peer, _pid, host, port) => this.registry?.record(peer, host, port),
      overLibp2p: (peer) => { this.libp2p().then((p) => p.watch(peer), (e: Error) => this.detector.markLost(peer, `cannot start libp2p to reach it: ${e.message}`)); },
      startLibp2p: async () => { await this.libp2p(); },
      banned: (peer) => this.detector.banned.has(peer),
      viaLibp2p: async (peer, head, body) => (await this.libp2p()).sendParts(peer, head, body),
    };
    try {
      this.plane = await DirectPlane.start(hooks, this.host, ports);
    } catch (e) {
      throw new StartupError(this.rank, `cannot listen on ${this.host}: ${(e as Error).message}` +
        (ports.length > 1 ? ' — every planned port is taken; another job may hold them: set COMMUNE_PORT to the first port of a free block' : ''));
    }
  }

  /** This rank's libp2p node, started on first use (see libp2p-plane.ts). */
  private libp2p(): Promise<Libp2pPlane> {
    this.libp2pPlane ??= (async () => {
      const { Libp2pPlane } = await import('./libp2p-plane.js');
      if (this.closing) throw new CommuneError(`rank ${this.rank}: the mesh is closed`);
      return Libp2pPlane.start({
        rank: this.rank, size: this.size, secret: this.secret, host: this.host, port: libp2pPortOf(this.plane!.port),
        maxFrameBytes: this.maxFrameBytes, timeoutMs: this.timeoutMs, log: this.log,
        reach: async (peer) => {
          await this.plane!.ring(peer);
          const where = (await this.plane!.where(peer))!;
          return { ip: await this.endpoints.resolve(where.host), port: libp2pPortOf(where.ports[0]!) };
        },
        deliver: (peer, tag, value, bytes) => this.deliver(peer, tag, value, bytes),
        closed: (peer, why, left) => (left ? this.detector.markLost(peer, why, true) : this.detector.probe(peer, why)),
        protocolError: (err) => this.emit('protocol-error', err),
      }).then((p) => { this.libp2pStarted = p; return p; });
    })();
    return this.libp2pPlane;
  }

  /** A frame from `peer` on either plane; a promise: the mailbox is full, pause reading until it resolves. */
  private deliver(peer: number, tag: string, value: unknown, bytes: number): Promise<void> | undefined {
    if (this.detector.banned.has(peer)) return undefined;
    this.traffic.received++;
    this.traffic.receivedBytes += bytes;
    if (tag.charCodeAt(0) === 0 && this.onControlFrame(peer, tag, value)) return undefined;
    const service = this.services.get(tag);
    if (service) { service(peer, value); return undefined; }
    this.mailbox.deliver(peer, tag, value, bytes);
    return this.mailbox.full(peer) ? this.mailbox.drained(peer) : undefined;
  }

  /** Frames under reserved tags handled here instead of the mailbox; false: deliver to the mailbox. */
  private onControlFrame(peer: number, tag: string, value: unknown): boolean {
    switch (tag) {
      case PING:
        this.send(peer, PONG + String(value), null).catch(() => {});
        return true;
      case EVICT:
        this.onEvicted(peer, String((value as { why?: unknown })?.why ?? 'no reason given'));
        return true;
      case DEAD:
        this.detector.onDead(peer, value);
        return true;
      default:
        return this.registry?.onControl(peer, tag, value) ?? false;
    }
  }

  private onEvicted(by: number, why: string): void {
    if (this.evictedBy || this.closing) return;
    const err = new EvictedError(this.rank, by, why);
    this.evictedBy = err;
    this.log.error({ by, why }, 'evicted by the other ranks');
    this.mailbox.close(err);
    this.emit('evicted', err);
  }

  /**
   * True when `rank` answers a liveness ping within `timeoutMs`. A stopped process, or one whose event
   * loop is held longer than that, does not.
   */
  async ping(rank: number, timeoutMs: number): Promise<boolean> {
    const id = this.pings++;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.send(rank, PING, id).then(() => this.mailbox.receive(rank, PONG + id, timeoutMs, 'liveness reply')).then(() => true, () => false),
        new Promise<boolean>((r) => { timer = setTimeout(() => r(false), timeoutMs); }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** True while `rank` has never been met and may still be starting, so its silence means nothing yet (FailureDetector.starting). */
  starting(rank: number): boolean {
    return this.detector.starting(rank, this.startupDeadline);
  }

  /**
   * What this rank can know for certain about `rank`'s process: on the same node, whether it is gone,
   * stopped or running (however slowly); elsewhere, or before it was met, undefined.
   */
  processState(rank: number): PidState | undefined {
    return this.detector.processState(rank);
  }

  /** Ranks lost with proof that their process is gone (failure-detector.ts), not only given up on. */
  provenDead(): ReadonlySet<number> {
    return this.detector.proven;
  }

  /** Tries to prove a lost `rank` dead now (gone from this node, fenced when stopped here, its port refusing). */
  prove(rank: number): Promise<boolean> {
    return this.detector.prove(rank);
  }

  /** The reason `rank` was declared lost, or undefined while it is part of the world. */
  isLost(rank: number): string | undefined {
    return this.mailbox.isLost(rank);
  }

  /** When this rank learned `rank` lost (ms since the epoch), if it has. */
  lostAt(rank: number): number | undefined {
    return this.mailbox.lostAt(rank);
  }

  /**
   * Declares `rank` lost for good: receives from it fail, its connections are refused from now on, and
   * it is told (when a channel is open) so that, should it wake up, it stops instead of disturbing the others.
   */
  evict(rank: number, why: string): void {
    this.checkRank(rank);
    if (rank !== this.rank) this.detector.markLost(rank, why);
  }

  /** Addresses this rank listens on: its direct-plane port, and its libp2p node's addresses once it runs. */
  addresses(): string[] {
    if (!this.plane) return [];
    return [`/ip4/${this.plane.host}/tcp/${this.plane.port}`, ...(this.libp2pStarted?.addresses() ?? [])];
  }

  /** `host:port` where this rank listens for its peers (undefined in a world of one). */
  listenAddress(): string | undefined {
    return this.plane ? `${this.plane.host}:${this.plane.port}` : undefined;
  }

  /** Where this rank's direct data plane listens (undefined: libp2p data plane, or a world of one). */
  directPort(): number | undefined {
    return this.mode === 'direct' ? this.plane?.port : undefined;
  }

  /** Sends a typed array or a MessagePack-able value to `rank` under `tag`. Resolves when written. */
  async send(rank: number, tag: string, value: unknown): Promise<void> {
    this.checkRank(rank);
    if (this.evictedBy) throw this.evictedBy;
    if (rank === this.rank) {
      this.mailbox.deliver(rank, tag, cloneValue(value), 0);
      return;
    }
    const why = this.mailbox.isLost(rank);
    if (why !== undefined) throw new PeerLostError(rank, this.rank, why);
    if (!this.plane) throw new CommuneError(`rank ${this.rank}: the mesh is closed`);
    const direct = this.plane.send(rank, tag, value);
    this.traffic.sent++;
    if (direct) {
      try {
        return await direct;
      } catch (e) {
        throw new PeerLostError(rank, this.rank, this.mailbox.isLost(rank) ?? `send failed: ${(e as Error).message}`);
      }
    }
    let plane: Libp2pPlane;
    try {
      plane = await this.libp2p();
    } catch (e) {
      throw new PeerLostError(rank, this.rank, `cannot start libp2p to reach it: ${(e as Error).message}`);
    }
    try {
      await plane.send(rank, tag, value);
    } catch (e) {
      if (e instanceof RangeError) throw e;
      throw new PeerLostError(rank, this.rank, this.mailbox.isLost(rank) ?? `send failed: ${(e as Error).message}`);
    } finally {
      this.traffic.sentBytes = plane.traffic.sentBytes;
    }
  }

  /** Receives the next message from `rank` under `tag`. */
  recv(rank: number, tag: string, opts: { timeoutMs?: number; what?: string } = {}): Promise<unknown> {
    this.watch(rank);
    return this.mailbox.receive(rank, tag, opts.timeoutMs ?? this.timeoutMs, opts.what);
  }

  /**
   * Receives like recv, posting `dest` (a typed array) for the message: when it has not arrived yet and
   * comes over the direct plane with exactly `dest`'s type and byte length, its payload is read
   * straight into `dest` and the promise resolves to `dest` itself; otherwise to the message as recv
   * gives it (the caller copies). `dest` must not be read or written until the promise settles, nor
   * afterwards when the caller abandons the receive without unpost().
   */
  recvInto(rank: number, tag: string, dest: ArrayBufferView, opts: { timeoutMs?: number; what?: string } = {}): Promise<unknown> {
    this.watch(rank);
    return this.mailbox.receiveInto(rank, tag, dest, opts.timeoutMs ?? this.timeoutMs, opts.what);
  }

  /**
   * Hands every message under `tag`, from any rank, to `handler` as it arrives (and those that arrived
   * before), instead of queueing it for recv — a service others may call at any time (no channel is
   * opened for it: a caller's send makes its own). Returns a function that stops the service.
   */
  serve(tag: string, handler: (peer: number, value: unknown) => void): () => void {
    this.services.set(tag, handler);
    // What arrived before the service started waits in the mailbox.
    for (const [peer, value] of this.mailbox.takeAll(tag)) handler(peer, value);
    return () => { if (this.services.get(tag) === handler) this.services.delete(tag); };
  }

  /** Withdraws a destination posted by recvInto whose receive the caller abandons. */
  unpost(rank: number, tag: string, dest: ArrayBufferView): void {
    this.mailbox.unpost(rank, tag, dest);
  }

  /**
   * Opens the channel `rank`'s frames come on now (a receive does this itself), so that its death
   * shows: for a service (serve()) that waits on that rank.
   */
  watch(rank: number): void {
    this.checkRank(rank);
    if (rank === this.rank || !this.plane || this.closing || this.mailbox.isLost(rank) !== undefined) return;
    if (this.plane.overLibp2p(rank)) this.libp2p().then((p) => p.watch(rank), () => {});
    else this.plane.watch(rank);
  }

  private checkRank(rank: number): void {
    if (!Number.isInteger(rank) || rank < 0 || rank >= this.size) {
      throw new RangeError(`rank ${this.rank}: peer rank ${rank} is outside the world 0..${this.size - 1}`);
    }
  }

  /**
   * Publishes `data` on a gossipsub topic to the ranks subscribed to it (best effort: a world of one,
   * a closing mesh or a failed publish sends nothing). Starts this rank's libp2p node on first use.
   * For side channels, never results.
   */
  async publish(topic: string, data: Uint8Array): Promise<void> {
    if (this.size === 1 || this.closing) return;
    try {
      await (await this.libp2p()).publish(topic, data);
    } catch (e) {
      this.log.debug({ topic, err: (e as Error).message }, 'publish failed');
    }
  }

  /**
   * Calls `handler(rank, data)` for every signed message another rank publishes on `topic` (gossipsub,
   * libp2p started on first use). Returns a function that unsubscribes. A world of one receives nothing.
   */
  subscribe(topic: string, handler: (rank: number, data: Uint8Array) => void): () => void {
    if (this.size === 1) return () => {};
    let off: (() => void) | undefined;
    let cancelled = false;
    this.libp2p().then((p) => { if (!cancelled) off = p.subscribe(topic, handler); },
      (e: Error) => this.log.warn({ topic, err: e.message }, 'cannot subscribe: libp2p did not start'));
    return () => { cancelled = true; off?.(); };
  }

  /** Leaves the mesh: tells the peers it talks to (BYE), flushes outgoing channels, stops libp2p. No handles stay open. */
  async close(): Promise<void> {
    if (this.closing) return;
    // An evicted rank leaves quietly: the others no longer count it.
    if (this.joined && !this.evictedBy) {
      await finalBarrier({
        rank: this.rank, size: this.size, send: (r, tag, v) => this.send(r, tag, v), recv: (r, tag, o) => this.recv(r, tag, o),
        fenceIfStopped: (r, why) => this.detector.fenceIfStopped(r, why),
      }, Math.min(this.timeoutMs, 10_000));
    }
    this.closing = true;
    this.stalls.stop();
    // Flush what was sent, but a peer that stopped reading must not hold our exit.
    const plane = this.plane;
    let flushed = plane === undefined;
    let flushTimer: NodeJS.Timeout | undefined;
    if (plane) await Promise.race([plane.close().then(() => { flushed = true; }), new Promise<void>((r) => { flushTimer = setTimeout(r, CLOSE_FLUSH_MS); })]);
    clearTimeout(flushTimer);
    plane?.destroy();
    const pending = flushed ? [] : ['direct plane'];
    const lp = await this.libp2pPlane?.catch(() => undefined);
    if (lp) pending.push(...await lp.close(CLOSE_FLUSH_MS));
    if (pending.length > 0) this.log.warn({ pending }, `close: gave up flushing after ${CLOSE_FLUSH_MS} ms`);
    this.mailbox.close(`rank ${this.rank}: the mesh is closed`);
  }
}
