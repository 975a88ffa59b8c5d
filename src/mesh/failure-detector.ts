import type { World } from '../../topology/types.js';
import type { RankLogger } from '../log.js';
import { PeerLostError } from '../errors.js';
import type { DirectPlane } from './direct-plane.js';
import type { Libp2pPlane } from './libp2p-plane.js';
import { pidState, type PidState } from './liveness.js';
import type { Mailbox } from './mailbox.js';

// Which ranks are dead, decided without false positives and spread in O(log p) messages per rank.
// A channel that closes without the peer's goodbye is a suspicion, never a verdict: the detector checks
// the peer's process when it runs on this node (/proc: gone is dead, stopped or slow is not), else its
// port — a refusal where it listened is death, silence proves nothing (with many ranks per core a live
// rank answers late). A rank found dead is banned on every plane, told so if it ever wakes up (EVICT),
// and the news travels the circulant graph rank ± 2^k, as ULFM's failure propagation does.

/** Another rank declared this one lost: it must stop. */
export const EVICT = '\u0000evict';
/** A rank found lost, passed on along the circulant graph (reliable broadcast: see spreadDeath). */
export const DEAD = '\u0000dead';

/** What the detector needs of the mesh it serves. */
export interface DetectorHost {
  readonly rank: number;
  readonly size: number;
  readonly world: World;
  readonly log: RankLogger;
  readonly mailbox: Mailbox;
  closing(): boolean;
  plane(): DirectPlane | undefined;
  libp2p(): Promise<Libp2pPlane> | undefined;
  send(rank: number, tag: string, value: unknown): Promise<void>;
  /** `rank` is gone (the mesh emits its 'lost' event). */
  lost(rank: number, reason: string, left: boolean): void;
  /** This rank was declared lost by rank `by`. */
  evicted(by: number, why: string): void;
}

export class FailureDetector {
  /** Ranks declared lost and banned (their frames are ignored on every plane). */
  readonly banned = new Set<number>();
  /** Ranks being probed → whether another loss signal arrived meanwhile (probe again if this one finds it alive). */
  private readonly probing = new Map<number, boolean>();

  constructor(private readonly host: DetectorHost) {}

  /**
   * What this rank can know for certain about `rank`'s process: on the same node, whether it is gone,
   * stopped or running (however slowly); elsewhere, or before it was met, undefined.
   */
  processState(rank: number): PidState | undefined {
    const { host } = this;
    const pid = host.plane()?.pidOf(rank);
    const nodes = host.world.rankNodes;
    if (pid === undefined || nodes.length !== host.size || nodes[rank] !== nodes[host.rank]) return undefined;
    return pidState(pid);
  }

  /** A DEAD notice from `peer`: the rank it names is lost (this one: evicted). */
  onDead(peer: number, value: unknown): void {
    const v = value as { rank?: unknown; why?: unknown; by?: unknown } | null;
    const by = Number.isInteger(v?.by) ? (v!.by as number) : peer;
    if (!Number.isInteger(v?.rank) || (v!.rank as number) < 0 || (v!.rank as number) >= this.host.size) return;
    const why = String(v?.why ?? 'no reason given');
    if (v!.rank === this.host.rank) this.host.evicted(by, why);
    else this.markLost(v!.rank as number, why, false, by);
  }

  /**
   * Decides whether a rank whose channel went away is dead: on this node, from its process; elsewhere,
   * from its port — a refusal where it listened is death. A live rank on an overloaded host answers
   * late, not never: silence decides nothing here (frozen ranks are caught by the pings of whoever waits on them).
   */
  probe(rank: number, why: string): void {
    const { host } = this;
    const plane = host.plane();
    if (host.closing() || host.mailbox.isLost(rank) !== undefined || !plane) return;
    // A second signal during a probe (two channels closing a moment apart) must not be lost.
    if (this.probing.has(rank)) { this.probing.set(rank, true); return; }
    if (this.processState(rank) === 'gone') { this.markLost(rank, `${why}; its process is gone`); return; }
    this.probing.set(rank, false);
    plane.probe(rank)
      .then((r) => {
        if (r === 'dead') this.markLost(rank, `${why}; its port refuses connections: the process is gone`);
        else host.log.debug({ peer: rank, probe: r }, 'peer not proven dead');
      })
      .finally(() => {
        const again = this.probing.get(rank);
        this.probing.delete(rank);
        if (again) this.probe(rank, why);
      });
  }

  /** `rank` is gone: `left` on purpose; else found dead (or evicted) here, or by rank `by` that told us. */
  markLost(rank: number, why: string, left = false, by = this.host.rank): void {
    const { host } = this;
    if (host.closing() || host.mailbox.isLost(rank) !== undefined) return;
    const reason = by === host.rank ? why : `${why} (found by rank ${by})`;
    if (left) host.log.debug({ peer: rank }, 'rank left');
    else host.log.warn({ peer: rank, why: reason }, 'rank lost');
    host.mailbox.markLost(rank, reason);
    const err = new PeerLostError(rank, host.rank, reason);
    if (left) {
      host.plane()?.fail(rank, err);
      void host.libp2p()?.then((p) => p.forget(rank, err), () => {});
    } else {
      this.spreadDeath(rank, why, by);
      void this.cutOff(rank, why, err);
    }
    host.lost(rank, reason, left);
  }

  /**
   * Tells the others that `rank` is gone, so a rank waiting on a survivor that waits on the dead one
   * learns of it now rather than at its deadline, and errors name the rank at fault. Reliable broadcast
   * over the circulant graph rank ± 2^k: every rank passes the news on the first time it hears it,
   * 2⌈lg p⌉ messages each, and it reaches every survivor in about lg p steps even when relays die.
   */
  private spreadDeath(rank: number, why: string, by: number): void {
    const { host } = this;
    const to = new Set<number>();
    for (let d = 1; d < host.size; d *= 2) to.add((host.rank + d) % host.size).add((host.rank - d + host.size) % host.size);
    for (const q of to) {
      if (q !== host.rank && q !== rank && q !== by && host.mailbox.isLost(q) === undefined) host.send(q, DEAD, { rank, why, by }).catch(() => {});
    }
  }

  /** Bans a lost rank, tells it so over an open channel (it reads that first if it wakes up), hangs up. */
  private async cutOff(rank: number, why: string, err: Error): Promise<void> {
    this.banned.add(rank);
    const plane = this.host.plane();
    if (plane?.isOpen(rank)) {
      let timer: NodeJS.Timeout | undefined;
      // A stopped peer's window may be full: the notice is best effort, the hang-up is not.
      await Promise.race([plane.send(rank, EVICT, { why })?.catch(() => {}), new Promise<void>((r) => { timer = setTimeout(r, 1000); })]);
      clearTimeout(timer);
    }
    plane?.fail(rank, err);
    await this.host.libp2p()?.then((p) => p.cut(rank, { tag: EVICT, value: { why } }, err), () => {});
  }
}
