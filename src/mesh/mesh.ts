import '../polyfill.js';
import { EventEmitter } from 'node:events';
import { lookup } from 'node:dns/promises';
import type { Multiaddr } from '@multiformats/multiaddr';
import { lp, multiaddr, Uint8ArrayList } from './libp2p-stack.js';
import type { PeerId, Stream, Connection, Message } from '@libp2p/interface';
import { createNode, type Node } from './node.js';
import type { World, Endpoint } from '../../topology/types.js';
import { rankKey, networkKey, peerDirectory } from './identity.js';
import { encodeFrame, decodeFrame, cloneValue } from './codec.js';
import { Mailbox } from './mailbox.js';
import { Outbox } from './outbox.js';
import { Roster, type RosterTable } from './roster.js';
import { StallWatch } from './stall-watch.js';
import { DirectPlane, dataPlaneMode, type DataPlaneMode } from './direct-plane.js';
import { CommuneError, EvictedError, PeerLostError, ProtocolError, StartupError } from '../errors.js';
import { rankLogger, type RankLogger } from '../log.js';

/**
 * Ranks this rank dials once it learns their addresses, so gossip never depends on one relay: everyone
 * above it in a small world (a full mesh, each pair dialled once), else rank + 2^k (mod p), which with
 * the reverse edges gives every rank about 2·lg p links and a graph of diameter about lg p.
 */
export function gossipNeighbours(rank: number, size: number): Set<number> {
  const out = new Set<number>();
  if (size <= 16) {
    for (let r = rank + 1; r < size; r++) out.add(r);
  } else {
    for (let d = 1; d < size; d *= 2) out.add((rank + d) % size);
  }
  out.delete(rank);
  return out;
}

export const MSG_PROTOCOL = '/commune/msg/1.0.0';
const DIRECT_PREFIX = '\u0000direct';
const ROSTER_ASK = '\u0000roster?';
const ROSTER_TELL = '\u0000roster!';
// Liveness and eviction ride the message channel too, answered by the reader itself (not the mailbox),
// so a rank whose event loop turns between fits answers a ping even while its search is running.
const PING = '\u0000ping';
const PONG = '\u0000pong/';
const EVICT = '\u0000evict';
/** How long close() waits for queued frames to leave before it drops them. */
const CLOSE_FLUSH_MS = 5000;
export const DEFAULT_MAX_FRAME = 1024 * 1024 * 1024;

export interface MeshOptions {
  world: World;
  /** The job secret (see secret.ts); every rank of a job must pass the same one. */
  secret: string;
  /** IPv4 address to bind; default: world.bindHost, else loopback for a one-node world, else 0.0.0.0. */
  host?: string;
  /** Deadline for the whole start-up (roster complete), ms. */
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

/** A peer-to-peer mesh of the job's ranks: authenticated, private, with tagged point-to-point channels. */
export class Mesh extends EventEmitter<MeshEvents> {
  readonly rank: number;
  readonly size: number;
  readonly log: RankLogger;
  readonly timeoutMs: number;
  private readonly mailbox: Mailbox;
  private readonly outboxes = new Map<number, Promise<Outbox>>();
  private readonly inbound = new Set<Stream>();
  private closing = false;
  /** Ranks being probed → whether another loss signal arrived meanwhile (probe again if this one finds it alive). */
  private readonly probing = new Map<number, boolean>();
  private pings = 0;
  /** Set once another rank declared this one lost. */
  evictedBy?: EvictedError;
  /** When this process was frozen or its event loop held (liveness decisions check it). */
  readonly stalls = new StallWatch();
  /** Frames and bytes this rank sent to and received from other ranks (benchmarks report them; sentBytes counts the libp2p path only). */
  readonly traffic = { sent: 0, sentBytes: 0, received: 0, receivedBytes: 0 };
  /** Ranks declared lost and banned (their frames are ignored on every plane). */
  private readonly cutOffRanks = new Set<number>();

  private constructor(
    readonly world: World,
    private readonly node: Node | undefined,
    private readonly ids: PeerId[],
    private readonly rankOf: Map<string, number>,
    private readonly maxFrameBytes: number,
    timeoutMs: number,
    private readonly banned = new Set<string>(),
  ) {
    super();
    this.rank = world.rank;
    this.size = world.size;
    this.timeoutMs = timeoutMs;
    this.log = rankLogger(world.rank, 'mesh');
    this.mailbox = new Mailbox(world.rank);
  }

  static async start(opts: MeshOptions): Promise<Mesh> {
    const { world, secret } = opts;
    const mode = opts.dataPlane ?? dataPlaneMode(process.env.COMMUNE_DATA_PLANE);
    const maxFrame = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME;
    const timeoutMs = opts.timeoutMs ?? 60_000;
    if (world.size === 1) return new Mesh(world, undefined, [], new Map(), maxFrame, timeoutMs);

    const { ids, rankOf } = await peerDirectory(secret, world.size);
    const host = opts.host ?? world.bindHost ?? (world.nodes.length <= 1 ? '127.0.0.1' : '0.0.0.0');
    const ports = world.listenPorts.length > 0 ? world.listenPorts : [0];
    const privateKey = await rankKey(secret, world.rank);

    let node: Node | undefined;
    let lastErr: unknown;
    const banned = new Set<string>();
    for (const port of ports) {
      try {
        node = await createNode({ privateKey, psk: networkKey(secret), listen: [`/ip4/${host}/tcp/${port}`], admit: rankOf, banned, size: world.size });
        break;
      } catch (e) {
        lastErr = e;
        if (!/EADDRINUSE|address already in use/i.test(String((e as Error)?.message ?? e))) break;
      }
    }
    if (!node) {
      throw new StartupError(world.rank, `cannot listen on ${host} port(s) ${ports.join(', ')}: ${(lastErr as Error)?.message ?? lastErr}` +
        (ports.length > 1 ? ' — every planned port is taken; another job may hold them, set COMMUNE_PORT to a free port' : ''));
    }
    const mesh = new Mesh(world, node, ids, rankOf, maxFrame, timeoutMs, banned);
    try {
      await mesh.startPlane(host, mode);
      await mesh.join(opts.startupTimeoutMs ?? 60_000);
      mesh.joined = true;
    } catch (e) {
      await mesh.close();
      throw e;
    }
    return mesh;
  }

  private plane?: DirectPlane;

  /** The direct data plane (direct-plane.ts); in libp2p mode a stub that refuses peers' offers. */
  private async startPlane(host: string, mode: DataPlaneMode): Promise<void> {
    this.plane = await DirectPlane.start({
      rank: this.rank,
      maxFrameBytes: this.maxFrameBytes,
      timeoutMs: this.timeoutMs,
      log: this.log,
      control: (peer, tag, value) => {
        this.sendFrame(peer, tag, encodeFrame(tag, value)).catch((e: Error) => this.log.debug({ peer, err: e.message }, 'direct-plane set-up message failed'));
      },
      hostOf: (peer) => this.directHostOf(peer),
      deliver: (peer, tag, value, bytes) => {
        if (this.cutOffRanks.has(peer)) return undefined;
        this.traffic.received++;
        this.traffic.receivedBytes += bytes;
        if (tag.charCodeAt(0) === 0 && this.onControlFrame(peer, tag, value)) return undefined;
        this.mailbox.deliver(peer, tag, value, bytes);
        return this.mailbox.full(peer) ? this.mailbox.drained(peer) : undefined;
      },
      claim: (peer, tag, kind, payloadBytes) => (this.cutOffRanks.has(peer) ? undefined : this.mailbox.claim(peer, tag, kind, payloadBytes)),
      viaLibp2p: (peer, head, body) => this.sendFrame(peer, '', new Uint8ArrayList(head, body)),
      closed: (peer, why, left) => {
        if (left) this.markLost(peer, why, true);
        else this.probe(peer, why);
      },
      protocolError: (err) => this.emit('protocol-error', err),
    }, host, mode === 'direct');
  }

  /**
   * The address to dial `peer`'s direct plane at: an address it announced (the connection's remote
   * address is the peer's outgoing source, which on a multi-homed or loopback-aliased host need not be
   * one it listens on). Several announced (a 0.0.0.0 bind): the one our connection came from, else the
   * first that is not loopback.
   */
  private directHostOf(peer: number): string | undefined {
    const remote = this.node?.getConnections(this.ids[peer])[0]?.remoteAddr.nodeAddress().address;
    const announced = [...new Set((this.roster?.known().get(peer) ?? []).flatMap((a) => {
      const m = /^\/ip4\/([\d.]+)\/tcp\//.exec(a);
      return m && m[1] !== '0.0.0.0' ? [m[1]] : [];
    }))];
    if (announced.length === 1) return announced[0];
    if (remote !== undefined && announced.includes(remote)) return remote;
    return announced.find((a) => !a.startsWith('127.')) ?? announced[0] ?? remote;
  }

  /** Where this rank's direct data plane listens (undefined: libp2p data plane, or a world of one). */
  directPort(): number | undefined {
    return this.plane?.enabled ? this.plane.port : undefined;
  }

  private get libp2p(): Node {
    if (!this.node) throw new CommuneError(`rank ${this.rank}: a world of one has no network`);
    return this.node;
  }

  private roster?: Roster;

  private async join(deadlineMs: number): Promise<void> {
    const node = this.libp2p;
    await node.handle(MSG_PROTOCOL, ({ stream, connection }) => { void this.readInbound(stream, connection); }, {
      maxInboundStreams: Math.max(64, this.size * 2),
      maxOutboundStreams: Math.max(64, this.size * 2),
    });
    node.addEventListener('connection:close', (evt) => this.onConnectionClose(evt.detail));
    const roster = new Roster(this.world, node.services.pubsub, this.rankOf, () => node.getMultiaddrs().map(String), this.log, () => this.pullRoster());
    this.roster = roster;
    for (const [r, addrs] of roster.known()) this.learn(r, addrs);
    roster.on('peer', (r: number, addrs: string[]) => this.learn(r, addrs));
    // A death seen by one rank is checked by all: a rank waiting on a survivor that waits on the dead
    // rank would otherwise learn of it only at its deadline.
    roster.on('suspect', (r: number, by: number) => {
      if (r === this.rank) this.onEvicted(by, 'it reported this rank lost on the roster topic');
      else this.probe(r, `reported lost by rank ${by}`);
    });
    roster.start();
    const deadline = Date.now() + deadlineMs;
    // Dialling runs beside the roster: the roster's completion (or deadline) alone decides start-up.
    void this.dialBootstrap(this.world.bootstrap.filter((e) => e.rank !== this.rank), deadline);
    await roster.complete(deadline);
  }

  private learn(rank: number, addrs: string[]): void {
    if (rank === this.rank || !this.node) return;
    const node = this.node;
    void node.peerStore.merge(this.ids[rank], { multiaddrs: addrs.map((a) => multiaddr(a)) })
      .then(() => {
        if (!this.closing && gossipNeighbours(this.rank, this.size).has(rank) && node.getConnections(this.ids[rank]).length === 0) {
          return node.dial(this.ids[rank], { signal: AbortSignal.timeout(10_000) }).then(() => {});
        }
      })
      .catch((e: Error) => {
        this.log.debug({ peer: rank, err: e.message }, 'overlay dial failed');
        // It announced its addresses, so it listens: a rank that dies during start-up must not hold
        // the others' roster until the deadline.
        if (!this.closing) this.probe(rank, `unreachable during start-up: ${e.message}`);
      });
  }

  private pulls = 0;

  /** Push-pull with one connected rank, round robin, over the ordinary channel: our table out, theirs back. */
  private pullRoster(): void {
    const peers = this.connectedRanks().filter((r) => r !== this.rank && this.mailbox.isLost(r) === undefined);
    if (peers.length === 0 || !this.roster) return;
    const peer = peers[this.pulls++ % peers.length];
    this.send(peer, ROSTER_ASK, this.roster.table())
      .catch((e: Error) => this.log.debug({ peer, err: e.message }, 'roster pull failed'));
  }

  /** Frames under reserved tags handled here instead of the mailbox; false: deliver to the mailbox. */
  private onControlFrame(peer: number, tag: string, value: unknown): boolean {
    switch (tag) {
      case ROSTER_ASK:
      case ROSTER_TELL:
        if (!this.roster || this.closing) return true;
        this.roster.merge(value as RosterTable);
        if (tag === ROSTER_ASK) this.send(peer, ROSTER_TELL, this.roster.table()).catch(() => {});
        return true;
      case PING:
        this.send(peer, PONG + String(value), null).catch(() => {});
        return true;
      case EVICT:
        this.onEvicted(peer, String((value as { why?: unknown })?.why ?? 'no reason given'));
        return true;
      default:
        return false;
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

  /** The reason `rank` was declared lost, or undefined while it is part of the world. */
  isLost(rank: number): string | undefined {
    return this.mailbox.isLost(rank);
  }

  /**
   * Declares `rank` lost for good: receives from it fail, its connection is refused from now on, and it
   * is told (when still connected) so that, should it wake up, it stops instead of disturbing the others.
   */
  evict(rank: number, why: string): void {
    this.checkRank(rank);
    if (rank !== this.rank) this.markLost(rank, why);
  }

  /** Dials the bootstrap endpoints, retrying until they are up or the deadline passes. */
  private async dialBootstrap(endpoints: Endpoint[], deadline: number): Promise<void> {
    if (endpoints.length === 0) return;
    const attempt = async (e: Endpoint): Promise<boolean> => {
      let ip = e.host;
      if (!/^\d+\.\d+\.\d+\.\d+$/.test(ip)) ip = (await lookup(e.host, { family: 4 })).address;
      for (const port of e.ports) {
        const ma: Multiaddr = multiaddr(`/ip4/${ip}/tcp/${port}/p2p/${this.ids[e.rank]}`);
        try {
          await this.libp2p.dial(ma, { signal: AbortSignal.timeout(Math.min(5000, Math.max(100, deadline - Date.now()))) });
          return true;
        } catch (err) {
          this.log.debug({ err: String(err), ma: ma.toString() }, 'bootstrap dial failed');
        }
      }
      return false;
    };
    // One reachable bootstrap suffices: gossip spreads the rest of the roster.
    let delay = 20;
    while (!this.closing && !this.roster?.isComplete() && Date.now() < deadline) {
      const results = await Promise.all(endpoints.map((e) => attempt(e).catch(() => false)));
      if (results.some(Boolean)) return;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(500, delay * 2);
    }
    if (!this.closing && !this.roster?.isComplete()) {
      this.log.error(`no bootstrap endpoint answered: ${endpoints.map((e) => `rank ${e.rank} at ${e.host}:${e.ports.join('|')}`).join(', ')} — is rank ${endpoints[0].rank} running and reachable?`);
    }
  }

  /** Addresses this rank listens on. */
  addresses(): string[] {
    return this.node ? this.node.getMultiaddrs().map(String) : [];
  }

  /** Ranks this rank currently has a connection to. */
  connectedRanks(): number[] {
    if (!this.node) return [];
    return [...new Set(this.node.getConnections().map((c) => this.rankOf.get(c.remotePeer.toString())).filter((r): r is number => r !== undefined))].sort((a, b) => a - b);
  }

  private async readInbound(stream: Stream, connection: Connection): Promise<void> {
    const peerId = connection.remotePeer.toString();
    const peer = this.rankOf.get(peerId);
    if (peer === undefined) { stream.abort(new Error('unknown peer')); return; }
    this.inbound.add(stream);
    try {
      for await (const chunk of lp.decode(stream.source, { maxDataLength: this.maxFrameBytes })) {
        let frame;
        try {
          frame = decodeFrame(chunk);
          this.traffic.received++;
          this.traffic.receivedBytes += chunk.byteLength;
        } catch (e) {
          throw new ProtocolError(`rank ${peer}`, this.rank, `malformed frame: ${(e as Error).message}`);
        }
        // A rank declared lost is not heard again, even if it wakes up (it is told it was evicted).
        if (this.cutOffRanks.has(peer)) continue;
        if (frame.tag.startsWith(DIRECT_PREFIX)) {
          this.plane?.onControl(peer, frame.tag, frame.value);
          continue;
        }
        if (frame.tag.charCodeAt(0) === 0 && this.onControlFrame(peer, frame.tag, frame.value)) continue;
        this.mailbox.deliver(peer, frame.tag, frame.value, frame.bytes);
        await this.mailbox.drained(peer);
      }
    } catch (e) {
      const err = e as Error;
      if (this.closing) return;
      if (err instanceof ProtocolError || /InvalidDataLength|InvalidMessageLength|UnexpectedEOF/.test(err.name)) {
        const pe = err instanceof ProtocolError ? err
          : new ProtocolError(`rank ${peer}`, this.rank, `${err.name}: ${err.message} (frame limit ${this.maxFrameBytes} bytes)`);
        this.log.warn({ peer, err: pe.message }, 'protocol error; stream dropped');
        this.emit('protocol-error', pe);
        stream.abort(pe);
      } else {
        this.log.debug({ peer, err: String(err) }, 'inbound stream ended');
      }
    } finally {
      this.inbound.delete(stream);
    }
  }

  private outbox(rank: number): Promise<Outbox> {
    let ob = this.outboxes.get(rank);
    if (!ob) {
      ob = (async () => {
        const stream = await this.libp2p.dialProtocol(this.ids[rank], MSG_PROTOCOL, { signal: AbortSignal.timeout(this.timeoutMs) });
        return new Outbox(stream, this.maxFrameBytes, (e) => {
          this.outboxes.delete(rank);
          if (!this.closing) this.probe(rank, `stream failed: ${e.message}`);
        });
      })();
      ob.catch(() => this.outboxes.delete(rank));
      this.outboxes.set(rank, ob);
    }
    return ob;
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
    // Tags starting with NUL are the mesh's own control traffic (roster, closing barrier): libp2p carries them.
    const direct = tag.charCodeAt(0) === 0 ? undefined : this.plane?.send(rank, tag, value);
    if (direct) {
      this.traffic.sent++;
      try {
        return await direct;
      } catch (e) {
        throw new PeerLostError(rank, this.rank, this.mailbox.isLost(rank) ?? `send failed: ${(e as Error).message}`);
      }
    }
    return this.sendFrame(rank, tag, encodeFrame(tag, value));
  }

  private async sendFrame(rank: number, tag: string, frame: Uint8ArrayList): Promise<void> {
    if (frame.byteLength > this.maxFrameBytes) {
      throw new RangeError(`rank ${this.rank}: message '${tag}' of ${frame.byteLength} bytes exceeds the frame limit of ${this.maxFrameBytes}`);
    }
    let ob: Outbox;
    try {
      ob = await this.outbox(rank);
    } catch (e) {
      throw this.mailbox.isLost(rank) !== undefined
        ? new PeerLostError(rank, this.rank, this.mailbox.isLost(rank)!)
        : new PeerLostError(rank, this.rank, `cannot open a channel: ${(e as Error).message}`);
    }
    this.traffic.sent++;
    this.traffic.sentBytes += frame.byteLength;
    try {
      await ob.send(frame);
    } catch (e) {
      throw new PeerLostError(rank, this.rank, `send failed: ${(e as Error).message}`);
    }
  }

  /** Receives the next message from `rank` under `tag`. */
  recv(rank: number, tag: string, opts: { timeoutMs?: number; what?: string } = {}): Promise<unknown> {
    this.watchPeer(rank);
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
    this.watchPeer(rank);
    return this.mailbox.receiveInto(rank, tag, dest, opts.timeoutMs ?? this.timeoutMs, opts.what);
  }

  /** Withdraws a destination posted by recvInto whose receive the caller abandons. */
  unpost(rank: number, tag: string, dest: ArrayBufferView): void {
    this.mailbox.unpost(rank, tag, dest);
  }

  private watchPeer(rank: number): void {
    this.checkRank(rank);
    if (rank !== this.rank && this.node && !this.plane?.isOpen(rank) && this.node.getConnections(this.ids[rank]).length === 0 && !this.closing) {
      // Watch the peer we wait on: a connection makes its death visible at once instead of at the deadline.
      void this.libp2p.dial(this.ids[rank], { signal: AbortSignal.timeout(5000) })
        .catch((e: Error) => this.probe(rank, `unreachable: ${e.message}`));
    }
  }

  private checkRank(rank: number): void {
    if (!Number.isInteger(rank) || rank < 0 || rank >= this.size) {
      throw new RangeError(`rank ${this.rank}: peer rank ${rank} is outside the world 0..${this.size - 1}`);
    }
  }

  private onConnectionClose(conn: Connection): void {
    if (this.closing) return;
    const rank = this.rankOf.get(conn.remotePeer.toString());
    if (rank === undefined || this.libp2p.getConnections(conn.remotePeer).length > 0) return;
    this.probe(rank, 'connection closed');
  }

  /**
   * Decides whether a rank whose connection went away is dead: one re-dial. A dead process refuses at
   * once; the generous timeout only spares a live rank on an overloaded host (a frozen one is caught by
   * the liveness pings and deadlines instead).
   */
  private probe(rank: number, why: string): void {
    if (this.closing || this.mailbox.isLost(rank) !== undefined) return;
    // A second signal during a probe (the direct socket and the libp2p connection close a moment apart)
    // must not be lost: the first dial may have found the libp2p connection not yet torn down.
    if (this.probing.has(rank)) { this.probing.set(rank, true); return; }
    if (this.roster?.hasLeft(rank)) { this.markLost(rank, 'it closed its mesh', true); return; }
    this.probing.set(rank, false);
    this.libp2p.dial(this.ids[rank], { signal: AbortSignal.timeout(5000) })
      .then(() => { this.log.debug({ peer: rank }, 'peer reachable again'); })
      .catch((e: Error) => this.markLost(rank, `${why}; re-dial failed: ${e.message}`))
      .finally(() => {
        const again = this.probing.get(rank);
        this.probing.delete(rank);
        if (again) this.probe(rank, why);
      });
  }

  private markLost(rank: number, why: string, left = false): void {
    if (this.closing || this.mailbox.isLost(rank) !== undefined) return;
    if (left) this.log.debug({ peer: rank }, 'rank left');
    else {
      this.log.warn({ peer: rank, why }, 'rank lost');
      void this.roster?.reportDead(rank);
    }
    this.mailbox.markLost(rank, why);
    this.plane?.fail(rank, new PeerLostError(rank, this.rank, why));
    this.roster?.gone(rank);
    const ob = this.outboxes.get(rank);
    this.outboxes.delete(rank);
    if (left) void ob?.then((o) => o.fail(new PeerLostError(rank, this.rank, why)), () => {});
    else void this.cutOff(rank, ob, why);
    this.emit('lost', rank, why, left);
  }

  /** Bans a lost rank, tells it so over its open channel (it reads that first if it wakes up), hangs up. */
  private async cutOff(rank: number, ob: Promise<Outbox> | undefined, why: string): Promise<void> {
    this.banned.add(this.ids[rank].toString());
    this.cutOffRanks.add(rank);
    if (ob) {
      let timer: NodeJS.Timeout | undefined;
      try {
        const o = await ob;
        o.send(encodeFrame(EVICT, { why })).catch(() => {});
        // A stopped peer's window may be full: the notice is best effort, the hang-up is not.
        await Promise.race([o.close(), new Promise<void>((r) => { timer = setTimeout(r, 1000); })]);
        o.fail(new PeerLostError(rank, this.rank, why));
      } catch { /* the channel was already gone */ } finally {
        clearTimeout(timer);
      }
    }
    await this.node?.hangUp(this.ids[rank]).catch(() => {});
  }


  private joined = false;

  /**
   * Closing is collective, like MPI_Finalize: a dissemination barrier (⌈lg p⌉ rounds) makes sure no rank
   * leaves while another may still need it to finish start-up. Best effort: a lost or late partner is
   * skipped after the deadline, so a crashed rank never holds the others' exit.
   */
  private async finalBarrier(timeoutMs: number): Promise<void> {
    for (let d = 1, round = 0; d < this.size; d *= 2, round++) {
      const to = (this.rank + d) % this.size;
      const from = (this.rank - d + this.size) % this.size;
      await Promise.all([
        this.send(to, `\u0000fin${round}`, null).catch(() => {}),
        this.recv(from, `\u0000fin${round}`, { timeoutMs }).catch(() => {}),
      ]);
    }
  }

  /**
   * Publishes `data` on a gossipsub topic to the ranks subscribed to it (best effort: a world of one,
   * a closing mesh or a failed publish sends nothing). For side channels such as progress, never results.
   */
  async publish(topic: string, data: Uint8Array): Promise<void> {
    if (!this.node || this.closing) return;
    try {
      await this.node.services.pubsub.publish(topic, data);
    } catch (e) {
      this.log.debug({ topic, err: (e as Error).message }, 'publish failed');
    }
  }

  /**
   * Calls `handler(rank, data)` for every signed message another rank publishes on `topic`.
   * Returns a function that unsubscribes. A world of one receives nothing.
   */
  subscribe(topic: string, handler: (rank: number, data: Uint8Array) => void): () => void {
    const pubsub = this.node?.services.pubsub;
    if (!pubsub) return () => {};
    const listener = (evt: CustomEvent<Message>): void => {
      const m = evt.detail;
      if (m.topic !== topic || m.type !== 'signed' || !m.from) return;
      const rank = this.rankOf.get(m.from.toString());
      if (rank !== undefined) handler(rank, m.data);
    };
    pubsub.addEventListener('message', listener);
    pubsub.subscribe(topic);
    return () => {
      pubsub.removeEventListener('message', listener);
      try { pubsub.unsubscribe(topic); } catch { /* stopping anyway */ }
    };
  }

  /** Leaves the mesh: flushes outgoing channels, tells the others, stops libp2p. No handles stay open. */
  async close(): Promise<void> {
    if (this.closing) return;
    // An evicted rank leaves quietly: the others no longer count it.
    if (this.joined && !this.evictedBy) await this.finalBarrier(Math.min(this.timeoutMs, 10_000));
    if (!this.evictedBy) await this.roster?.leave().catch(() => {});
    this.closing = true;
    this.stalls.stop();
    this.roster?.stop();
    const obs = [...this.outboxes.entries()];
    this.outboxes.clear();
    // Flush what was sent, but a peer that stopped reading must not hold our exit.
    const pending = new Set<string>();
    const track = (what: string, p: Promise<unknown> | undefined): Promise<unknown> | undefined => {
      if (!p) return p;
      pending.add(what);
      return p.catch(() => {}).finally(() => pending.delete(what));
    };
    let flushTimer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([
        ...obs.map(([r, p]) => track(`libp2p stream to rank ${r}`, p.then((o) => o.close(), () => {}))),
        track('direct plane', this.plane?.close()),
      ]),
      new Promise<void>((r) => { flushTimer = setTimeout(r, CLOSE_FLUSH_MS); }),
    ]);
    clearTimeout(flushTimer);
    if (pending.size > 0) this.log.warn({ pending: [...pending] }, `close: gave up flushing after ${CLOSE_FLUSH_MS} ms`);
    this.plane?.destroy();
    this.mailbox.close(`rank ${this.rank}: the mesh is closed`);
    // gossipsub's stop() forgets its pending heartbeat timer without clearing it, so every rank's exit
    // waited up to one heartbeat (200 ms); clear it first (a no-op should the internals change).
    const gossip = this.node?.services.pubsub as unknown as { status?: { heartbeatTimeout?: NodeJS.Timeout } } | undefined;
    const heartbeat = gossip?.status?.heartbeatTimeout;
    await this.node?.stop();
    clearTimeout(heartbeat);
    // libp2p's address manager arms a 1 s debounce timer as its listeners close and does not cancel it
    // on stop: every rank's exit waited for it. Cancel it (a no-op should the internals change).
    (this.node as unknown as { components?: { addressManager?: { _updatePeerStoreAddresses?: { stop?: () => void } } } } | undefined)
      ?.components?.addressManager?._updatePeerStoreAddresses?.stop?.();
  }
}
