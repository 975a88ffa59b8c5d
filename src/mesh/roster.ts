import { EventEmitter } from 'node:events';
import type { GossipsubEvents } from '@chainsafe/libp2p-gossipsub';
import type { PubSub, Message } from '@libp2p/interface';
import type { World } from '../../topology/types.js';
import type { RankLogger } from '../log.js';
import { encodeValue, decodeValue } from './codec.js';
import { StartupError } from '../errors.js';

// Membership by gossip, push and pull: announcements on a gossipsub topic spread entries fast, and a
// rank still waiting also exchanges whole tables with a connected peer (push-pull anti-entropy over a
// direct stream), which repairs what the topic dropped while subscriptions and meshes were forming.
// Announcements: each rank announces (rank, addresses, how many ranks it knows) on one topic
// and repeats with back-off while anyone — itself or a peer that says it is still waiting — lacks
// entries, so late joiners catch up without a co-ordinator. Start-up completes only when every rank
// has reported a complete roster (or left on purpose, which it does only after completing): a rank
// that finished early must not leave while it still relays gossip for others. Signed messages (StrictSign) and the
// check that the signer's peer id is the announced rank's keep one rank from speaking for another.

export const ROSTER_TOPIC = 'commune/roster/1';

/** What one rank knows: entries, completion reports, departures — exchanged whole by push-pull. */
export interface RosterTable { e: [number, string[]][]; k: [number, number][]; l: number[] }

/** r: rank, a: addresses, k: ranks known, w: still waiting for someone, bye: leaving on purpose, dead: a rank r found lost. */
interface Announce { r: number; a?: string[]; k?: number; w?: boolean; bye?: boolean; dead?: number }

export class Roster extends EventEmitter {
  private readonly entries = new Map<number, string[]>();
  private readonly reported = new Map<number, number>();
  private readonly left = new Set<number>();
  private timer?: NodeJS.Timeout;
  private interval = 50;
  private waiters: (() => void)[] = [];
  private stopped = false;
  /** This rank is done and its final, complete report has been handed to the network. */
  private done = false;
  private finishing = false;
  private readonly onMessage = (evt: CustomEvent<Message>): void => this.receive(evt.detail);
  private readonly onSubscription = (): void => this.soon();

  constructor(
    private readonly world: World,
    private readonly pubsub: PubSub<GossipsubEvents>,
    private readonly rankOf: Map<string, number>,
    private readonly addresses: () => string[],
    private readonly log: RankLogger,
    /** Exchanges tables with some connected peer; called on every tick while this rank waits. */
    private readonly pull: () => void = () => {},
  ) {
    super();
    this.entries.set(world.rank, addresses());
  }

  known(): Map<number, string[]> {
    return this.entries;
  }

  isComplete(): boolean {
    return this.entries.size === this.world.size;
  }

  hasLeft(rank: number): boolean {
    return this.left.has(rank);
  }

  /**
   * A known rank whose process went away: it either crashed (later operations report it) or finished its
   * start-up and closed before its last announcement reached us — either way, nothing more to wait for.
   */
  gone(rank: number): void {
    if (!this.entries.has(rank)) return;
    this.left.add(rank);
    this.settle();
  }

  start(): void {
    this.pubsub.addEventListener('message', this.onMessage);
    this.pubsub.addEventListener('subscription-change', this.onSubscription);
    this.pubsub.subscribe(ROSTER_TOPIC);
    this.soon();
  }

  private needed(): boolean {
    if (!this.isComplete()) return true;
    for (let r = 0; r < this.world.size; r++) {
      if (r !== this.world.rank && this.reported.get(r) !== this.world.size && !this.left.has(r)) return true;
    }
    return false;
  }

  private settle(): void {
    if (this.done) { for (const w of this.waiters.splice(0)) w(); return; }
    if (this.finishing || this.needed()) return;
    // Our complete report goes out before start-up returns: a rank that then computes for long (or is
    // stopped) must not leave the others waiting for it. The macrotask boundary after the publish lets
    // the stream pipeline hand the bytes to the socket.
    this.finishing = true;
    void this.publish({ r: this.world.rank, a: this.addresses(), k: this.entries.size, w: false })
      .then(() => new Promise<void>((r) => setImmediate(r)))
      .then(() => { this.done = true; this.settle(); });
  }

  private soon(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.interval = 50;
    this.timer = setTimeout(() => this.tick(), 10);
  }

  private tick(): void {
    this.timer = undefined;
    if (this.stopped) return;
    this.publish({ r: this.world.rank, a: this.addresses(), k: this.entries.size, w: this.needed() });
    if (this.needed()) {
      this.pull();
      this.timer = setTimeout(() => this.tick(), this.interval);
      this.interval = Math.min(1000, this.interval * 2);
    }
  }

  private publish(msg: Announce): Promise<void> {
    return this.pubsub.publish(ROSTER_TOPIC, encodeValue(msg)).then(() => {}, (e: Error) => {
      this.log.debug({ err: e.message }, 'roster publish failed');
    });
  }

  private receive(m: Message): void {
    if (m.topic !== ROSTER_TOPIC || m.type !== 'signed' || !m.from) return;
    const signer = this.rankOf.get(m.from.toString());
    let msg: Announce;
    try {
      msg = decodeValue(m.data) as Announce;
    } catch {
      this.log.warn({ signer }, 'undecodable roster message ignored');
      return;
    }
    if (signer === undefined || msg?.r !== signer) {
      this.log.warn({ signer, claimed: msg?.r }, 'roster message for another rank ignored');
      return;
    }
    if (msg.bye) { this.left.add(signer); this.settle(); return; }
    if (typeof msg.dead === 'number') { this.emit('suspect', msg.dead, signer); return; }
    if (typeof msg.k === 'number') {
      const before = this.reported.get(signer);
      this.reported.set(signer, msg.k);
      // A peer still waiting needs our announcement (again): it may have missed it.
      if (msg.w || (msg.k < this.world.size && before !== msg.k)) this.soon();
    }
    if (Array.isArray(msg.a) && !this.entries.has(signer)) {
      this.entries.set(signer, msg.a.map(String));
      this.emit('peer', signer, this.entries.get(signer));
      if (this.isComplete()) this.soon();
    }
    this.settle();
  }

  table(): RosterTable {
    return { e: [...this.entries], k: [...this.reported], l: [...this.left] };
  }

  /** Merges a peer's table (the peer is authenticated by the connection it came over). */
  merge(t: RosterTable): void {
    const size = this.world.size;
    const ok = (r: unknown): r is number => Number.isInteger(r) && (r as number) >= 0 && (r as number) < size;
    let grew = false;
    for (const [r, a] of t.e ?? []) {
      if (ok(r) && Array.isArray(a) && !this.entries.has(r)) {
        this.entries.set(r, a.map(String));
        this.emit('peer', r, this.entries.get(r));
        grew = true;
      }
    }
    for (const [r, k] of t.k ?? []) if (ok(r) && typeof k === 'number' && k > (this.reported.get(r) ?? -1)) this.reported.set(r, k);
    for (const r of t.l ?? []) if (ok(r)) this.left.add(r);
    if (grew && this.isComplete()) this.soon();
    this.settle();
  }

  /** Resolves when every rank is known and knows everyone; fails at the deadline naming the ranks missing. */
  complete(deadline: number): Promise<void> {
    if (this.done) return Promise.resolve();
    const p = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        const missing: number[] = [];
        const waiting: number[] = [];
        for (let r = 0; r < this.world.size; r++) {
          if (!this.entries.has(r)) missing.push(r);
          else if (r !== this.world.rank && this.reported.get(r) !== this.world.size && !this.left.has(r)) waiting.push(r);
        }
        reject(new StartupError(this.world.rank, missing.length > 0
          ? `ranks never seen within the start-up deadline: ${missing.join(', ')} (${missing.length} of ${this.world.size}); check that they were started with the same job secret and can reach the bootstrap endpoints`
          : `ranks ${waiting.join(', ')} never confirmed a complete roster within the start-up deadline; check their logs`));
      }, Math.max(0, deadline - Date.now()));
      const done = (): void => { clearTimeout(t); resolve(); };
      this.waiters.push(done);
    });
    this.settle();
    return p;
  }

  /** Tells the others that `rank` was found lost, so ranks not connected to it check it at once. */
  reportDead(rank: number): Promise<void> {
    return this.publish({ r: this.world.rank, dead: rank });
  }

  /** Tells the others this rank is closing on purpose, so its disconnect is not taken for a crash. */
  leave(): Promise<void> {
    return this.publish({ r: this.world.rank, bye: true });
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.pubsub.removeEventListener('message', this.onMessage);
    this.pubsub.removeEventListener('subscription-change', this.onSubscription);
    try { this.pubsub.unsubscribe(ROSTER_TOPIC); } catch { /* stopping anyway */ }
  }
}
