import type { PeerId, Stream, Connection, Message } from '@libp2p/interface';
import type { RankLogger } from '../log.js';
import { ProtocolError } from '../errors.js';
import { decodeFrame, encodeFrame } from './libp2p-frames.js';
import { lp, multiaddr, Uint8ArrayList } from './libp2p-stack.js';
import { createNode, type Node } from './node.js';
import { networkKey, peerDirectory, rankKey } from './identity.js';
import { Outbox } from './outbox.js';

// The libp2p side of the mesh, started on demand: when the job's data plane is libp2p (every frame
// inside noise-encrypted, private-network connections), when a peer of that kind needs to reach this
// rank, or when someone uses pub/sub (gossipsub). It listens on the port after the rank's direct-plane
// port (computed wire-up), dials a peer only when it has something to say to it, and a peer that may
// not run libp2p yet is rung first through the direct plane (direct-plane.ts `ring`). Why not always:
// loading the stack and one noise handshake per pair cost more CPU than a small job's whole start-up
// (~18 ms per connection measured here), so a job that never needs libp2p never pays for it.

export const MSG_PROTOCOL = '/commune/msg/1.0.0';
/** The last frame on a stream whose rank closes its mesh: its end is a departure, not a death. */
const BYE = '\u0000bye';

/**
 * Ranks this rank links to for pub/sub, so gossip never depends on one relay: everyone above it in a
 * small world (each pair once), else rank + 2^k (mod p) — with the reverse links about 2·lg p per
 * rank and a graph of diameter about lg p, whatever gossipsub's mesh degree does on top.
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

export interface Libp2pHooks {
  rank: number;
  size: number;
  secret: string;
  host: string;
  port: number;
  maxFrameBytes: number;
  timeoutMs: number;
  log: RankLogger;
  /** The address of `peer`'s libp2p listener, once it listens (ringing it first when needed). */
  reach(peer: number): Promise<{ ip: string; port: number }>;
  /** A frame arrived from `peer`; a promise: pause reading until it resolves. */
  deliver(peer: number, tag: string, value: unknown, bytes: number): Promise<void> | undefined;
  /** The connection to `peer` closed; `left`: its stream to us ended in order (it closed its mesh). */
  closed(peer: number, why: string, left: boolean): void;
  protocolError(err: ProtocolError): void;
}

export class Libp2pPlane {
  private readonly outboxes = new Map<number, Promise<Outbox>>();
  private readonly inbound = new Set<Stream>();
  private readonly cutOff = new Set<number>();
  private closing = false;
  private overlay?: Promise<void>;
  /** Frames and bytes sent over libp2p (benchmarks report them). */
  readonly traffic = { sent: 0, sentBytes: 0 };

  private constructor(
    private readonly hooks: Libp2pHooks,
    private readonly node: Node,
    private readonly ids: PeerId[],
    private readonly rankOf: Map<string, number>,
    /** Peer ids the gater refuses (ranks declared lost: they may not come back). */
    private readonly banned: Set<string>,
  ) {}

  static async start(hooks: Libp2pHooks): Promise<Libp2pPlane> {
    const { ids, rankOf } = await peerDirectory(hooks.secret, hooks.size);
    const banned = new Set<string>();
    const node = await createNode({
      privateKey: await rankKey(hooks.secret, hooks.rank), psk: networkKey(hooks.secret), listen: [`/ip4/${hooks.host}/tcp/${hooks.port}`],
      admit: rankOf, banned, size: hooks.size,
    });
    const plane = new Libp2pPlane(hooks, node, ids, rankOf, banned);
    await node.handle(MSG_PROTOCOL, ({ stream, connection }) => { void plane.readInbound(stream, connection); }, {
      maxInboundStreams: Math.max(64, hooks.size * 2),
      maxOutboundStreams: Math.max(64, hooks.size * 2),
    });
    node.addEventListener('connection:close', (evt) => plane.onConnectionClose(evt.detail));
    return plane;
  }

  /** Addresses this rank's libp2p node listens on. */
  addresses(): string[] {
    return this.node.getMultiaddrs().map(String);
  }

  private async connect(peer: number): Promise<void> {
    if (this.node.getConnections(this.ids[peer]).length > 0) return;
    const { ip, port } = await this.hooks.reach(peer);
    await this.node.dial(multiaddr(`/ip4/${ip}/tcp/${port}/p2p/${this.ids[peer]!.toString()}`), { signal: AbortSignal.timeout(this.hooks.timeoutMs) });
  }

  private outbox(peer: number): Promise<Outbox> {
    let ob = this.outboxes.get(peer);
    if (!ob) {
      ob = (async () => {
        await this.connect(peer);
        const stream = await this.node.dialProtocol(this.ids[peer]!, MSG_PROTOCOL, { signal: AbortSignal.timeout(this.hooks.timeoutMs) });
        return new Outbox(stream, this.hooks.maxFrameBytes, (e) => {
          this.outboxes.delete(peer);
          if (!this.closing) this.hooks.closed(peer, `stream failed: ${e.message}`, false);
        });
      })();
      ob.catch(() => this.outboxes.delete(peer));
      this.outboxes.set(peer, ob);
    }
    return ob;
  }

  /** Sends one message to `peer`. */
  send(peer: number, tag: string, value: unknown): Promise<void> {
    return this.sendFrame(peer, tag, encodeFrame(tag, value));
  }

  /** Sends an encoded frame (head, body). */
  sendParts(peer: number, head: Uint8Array, body: Uint8Array): Promise<void> {
    return this.sendFrame(peer, '', new Uint8ArrayList(head, body));
  }

  private async sendFrame(peer: number, tag: string, frame: Uint8ArrayList): Promise<void> {
    if (frame.byteLength > this.hooks.maxFrameBytes) {
      throw new RangeError(`rank ${this.hooks.rank}: message '${tag}' of ${frame.byteLength} bytes exceeds the frame limit of ${this.hooks.maxFrameBytes}`);
    }
    const ob = await this.outbox(peer);
    this.traffic.sent++;
    this.traffic.sentBytes += frame.byteLength;
    await ob.send(frame);
  }

  /** Makes sure a connection to `peer` is up, so its death shows (we are about to receive from it). */
  watch(peer: number): void {
    if (this.closing || this.cutOff.has(peer)) return;
    this.connect(peer).catch((e: Error) => this.hooks.closed(peer, `unreachable over libp2p: ${e.message}`, false));
  }

  private async readInbound(stream: Stream, connection: Connection): Promise<void> {
    const peer = this.rankOf.get(connection.remotePeer.toString());
    if (peer === undefined) { stream.abort(new Error('unknown peer')); return; }
    this.inbound.add(stream);
    let left = false;
    try {
      for await (const chunk of lp.decode(stream.source, { maxDataLength: this.hooks.maxFrameBytes })) {
        let frame;
        try {
          frame = decodeFrame(chunk);
        } catch (e) {
          throw new ProtocolError(`rank ${peer}`, this.hooks.rank, `malformed frame: ${(e as Error).message}`);
        }
        // A rank declared lost is not heard again, even if it wakes up.
        if (this.cutOff.has(peer)) continue;
        if (frame.tag === BYE) { left = true; continue; }
        const full = this.hooks.deliver(peer, frame.tag, frame.value, frame.bytes);
        if (full) await full;
      }
      // A stream that ends without BYE: its process may have exited without closing, or died.
      if (!this.closing && !this.cutOff.has(peer)) this.hooks.closed(peer, left ? 'it closed its mesh' : 'its libp2p stream ended', left);
    } catch (e) {
      const err = e as Error;
      if (this.closing) return;
      if (err instanceof ProtocolError || /InvalidDataLength|InvalidMessageLength|UnexpectedEOF/.test(err.name)) {
        const pe = err instanceof ProtocolError ? err
          : new ProtocolError(`rank ${peer}`, this.hooks.rank, `${err.name}: ${err.message} (frame limit ${this.hooks.maxFrameBytes} bytes)`);
        this.hooks.log.warn({ peer, err: pe.message }, 'protocol error; stream dropped');
        this.hooks.protocolError(pe);
        stream.abort(pe);
      } else {
        this.hooks.log.debug({ peer, err: String(err) }, 'inbound stream ended');
      }
    } finally {
      this.inbound.delete(stream);
    }
  }

  private onConnectionClose(conn: Connection): void {
    if (this.closing) return;
    const peer = this.rankOf.get(conn.remotePeer.toString());
    if (peer === undefined || this.node.getConnections(conn.remotePeer).length > 0) return;
    this.hooks.closed(peer, 'libp2p connection closed', false);
  }

  /**
   * Bans a lost rank: its connections are refused from now on; `notice` (an encoded frame) is sent on
   * its open channel first, best effort, then it is hung up on.
   */
  async cut(peer: number, notice: { tag: string; value: unknown }, reason: Error): Promise<void> {
    this.banned.add(this.ids[peer]!.toString());
    this.cutOff.add(peer);
    const ob = this.outboxes.get(peer);
    this.outboxes.delete(peer);
    if (ob) {
      let timer: NodeJS.Timeout | undefined;
      try {
        const o = await ob;
        o.send(encodeFrame(notice.tag, notice.value)).catch(() => {});
        // A stopped peer's window may be full: the notice is best effort, the hang-up is not.
        await Promise.race([o.close(), new Promise<void>((r) => { timer = setTimeout(r, 1000); })]);
        o.fail(reason);
      } catch { /* the channel was already gone */ } finally {
        clearTimeout(timer);
      }
    }
    await this.node.hangUp(this.ids[peer]!).catch(() => {});
  }

  /** Fails the outgoing channel of a rank that left (no notice, no ban). */
  forget(peer: number, reason: Error): void {
    const ob = this.outboxes.get(peer);
    this.outboxes.delete(peer);
    void ob?.then((o) => o.fail(reason), () => {});
  }

  /** Links to the pub/sub neighbours once (gossipsub then forwards along its own mesh). */
  private joinOverlay(): Promise<void> {
    this.overlay ??= Promise.all([...gossipNeighbours(this.hooks.rank, this.hooks.size)].map((r) =>
      this.connect(r).catch((e: Error) => this.hooks.log.debug({ peer: r, err: e.message }, 'pub/sub link failed')))).then(() => {});
    return this.overlay;
  }

  async publish(topic: string, data: Uint8Array): Promise<void> {
    if (this.closing) return;
    await this.joinOverlay();
    try {
      await this.node.services.pubsub.publish(topic, data);
    } catch (e) {
      this.hooks.log.debug({ topic, err: (e as Error).message }, 'publish failed');
    }
  }

  subscribe(topic: string, handler: (rank: number, data: Uint8Array) => void): () => void {
    const pubsub = this.node.services.pubsub;
    const listener = (evt: CustomEvent<Message>): void => {
      const m = evt.detail;
      if (m.topic !== topic || m.type !== 'signed' || !m.from) return;
      const rank = this.rankOf.get(m.from.toString());
      if (rank !== undefined) handler(rank, m.data);
    };
    pubsub.addEventListener('message', listener);
    pubsub.subscribe(topic);
    void this.joinOverlay();
    return () => {
      pubsub.removeEventListener('message', listener);
      try { pubsub.unsubscribe(topic); } catch { /* stopping anyway */ }
    };
  }

  /** Flushes the outgoing streams (at most `graceMs`), then stops libp2p. No handles stay open. */
  async close(graceMs: number): Promise<string[]> {
    this.closing = true;
    const obs = [...this.outboxes.entries()];
    this.outboxes.clear();
    const pending = new Set<string>();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(obs.map(([r, p]) => {
        pending.add(`libp2p stream to rank ${r}`);
        return p.then((o) => { o.send(encodeFrame(BYE, null)).catch(() => {}); return o.close(); }, () => {})
          .catch(() => {}).finally(() => pending.delete(`libp2p stream to rank ${r}`));
      })),
      new Promise<void>((r) => { timer = setTimeout(r, graceMs); }),
    ]);
    clearTimeout(timer);
    // gossipsub's stop() forgets its pending heartbeat timer without clearing it, so every rank's exit
    // waited up to one heartbeat; clear it first (a no-op should the internals change).
    const gossip = this.node.services.pubsub as unknown as { status?: { heartbeatTimeout?: NodeJS.Timeout } } | undefined;
    const heartbeat = gossip?.status?.heartbeatTimeout;
    await this.node.stop();
    clearTimeout(heartbeat);
    // libp2p's address manager arms a 1 s debounce timer as its listeners close and does not cancel it
    // on stop: every rank's exit waited for it. Cancel it (a no-op should the internals change).
    (this.node as unknown as { components?: { addressManager?: { _updatePeerStoreAddresses?: { stop?: () => void } } } })
      .components?.addressManager?._updatePeerStoreAddresses?.stop?.();
    return [...pending];
  }
}
