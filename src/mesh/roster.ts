import { EventEmitter } from 'node:events';
import type { GossipsubEvents } from '@chainsafe/libp2p-gossipsub';
import type { PubSub, Message } from '@libp2p/interface';
import type { Logger } from 'pino';
import type { World } from '../../topology/types.js';
import { encodeValue, decodeValue } from './codec.js';
import { StartupError } from '../errors.js';

// Membership by gossip: each rank announces (rank, addresses, how many ranks it knows) on one topic
// and repeats with back-off while anyone — itself or a peer that reported an incomplete roster — still
// lacks entries, so late joiners catch up without a co-ordinator. Signed messages (StrictSign) and the
// check that the signer's peer id is the announced rank's keep one rank from speaking for another.

export const ROSTER_TOPIC = 'commune/roster/1';

interface Announce { r: number; a?: string[]; k?: number; bye?: boolean }

export class Roster extends EventEmitter {
  private readonly entries = new Map<number, string[]>();
  private readonly reported = new Map<number, number>();
  private readonly left = new Set<number>();
  private timer?: NodeJS.Timeout;
  private interval = 50;
  private waiters: (() => void)[] = [];
  private stopped = false;
  private readonly onMessage = (evt: CustomEvent<Message>): void => this.receive(evt.detail);
  private readonly onSubscription = (): void => this.soon();

  constructor(
    private readonly world: World,
    private readonly pubsub: PubSub<GossipsubEvents>,
    private readonly rankOf: Map<string, number>,
    private readonly addresses: () => string[],
    private readonly log: Logger,
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

  start(): void {
    this.pubsub.addEventListener('message', this.onMessage);
    this.pubsub.addEventListener('subscription-change', this.onSubscription);
    this.pubsub.subscribe(ROSTER_TOPIC);
    this.soon();
  }

  private needed(): boolean {
    if (!this.isComplete()) return true;
    for (let r = 0; r < this.world.size; r++) if (r !== this.world.rank && this.reported.get(r) !== this.world.size) return true;
    return false;
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
    this.publish({ r: this.world.rank, a: this.addresses(), k: this.entries.size });
    if (this.needed()) {
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
    if (msg.bye) { this.left.add(signer); return; }
    if (typeof msg.k === 'number') {
      const before = this.reported.get(signer);
      this.reported.set(signer, msg.k);
      // A peer still missing entries needs ours again.
      if (msg.k < this.world.size && before !== msg.k) this.soon();
    }
    if (Array.isArray(msg.a) && !this.entries.has(signer)) {
      this.entries.set(signer, msg.a.map(String));
      this.emit('peer', signer, this.entries.get(signer));
      if (this.isComplete()) {
        this.soon();
        for (const w of this.waiters.splice(0)) w();
      }
    }
  }

  /** Resolves when every rank is known; fails at the deadline naming the ranks never seen. */
  complete(deadline: number): Promise<void> {
    if (this.isComplete()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        const missing: number[] = [];
        for (let r = 0; r < this.world.size; r++) if (!this.entries.has(r)) missing.push(r);
        reject(new StartupError(this.world.rank, `ranks never seen within the start-up deadline: ${missing.join(', ')} (${missing.length} of ${this.world.size}); check that they were started with the same job secret and can reach the bootstrap endpoints`));
      }, Math.max(0, deadline - Date.now()));
      const done = (): void => { clearTimeout(t); resolve(); };
      this.waiters.push(done);
    });
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
