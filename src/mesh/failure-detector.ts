import type { World } from '../../topology/types.js';
import type { RankLogger } from '../log.js';
import { PeerLostError } from '../errors.js';
import type { DirectPlane } from './direct-plane.js';
import type { Libp2pPlane } from './libp2p-plane.js';
import { detectWorld } from '../../topology/index.js';
import { fence, pidState, processesWith, type PidState } from './liveness.js';
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

/** Every one of a rank's processes on this node is gone (none left is gone too); false where this node cannot tell. */
const allGone = (pids: number[] | undefined): boolean => pids !== undefined && pids.every((p) => pidState(p) === 'gone');

export class FailureDetector {
  /** Ranks declared lost and banned (their frames are ignored on every plane). */
  readonly banned = new Set<number>();
  /** Lost ranks whose process is known gone (see the top of this file); the others were given up on. */
  readonly proven = new Set<number>();
  /** Ranks being probed → whether another loss signal arrived meanwhile (probe again if this one finds it alive). */
  private readonly probing = new Map<number, boolean>();

  constructor(private readonly host: DetectorHost) {}

  /**
   * What this rank can know for certain about `rank`'s process: on the same node, whether it is gone,
   * stopped or running (however slowly); elsewhere, or before it was met, undefined.
   */
  processState(rank: number): PidState | undefined {
    const pid = this.host.plane()?.pidOf(rank);
    return pid === undefined || !this.onThisNode(rank) ? undefined : pidState(pid);
  }

  private onThisNode(rank: number): boolean {
    const nodes = this.host.world.rankNodes;
    return nodes.length === this.host.size && nodes[rank] === nodes[this.host.rank];
  }

  /**
   * `rank`'s processes on this node: the one its handshake named, else (a rank given up on before it was
   * met) those whose environment says they are `rank` of this job — a wrapper and the program it
   * started, say. Undefined where it cannot be known (another node, no /proc, no job id).
   */
  private processesOf(rank: number, scan = this.host.mailbox.isLost(rank) !== undefined): number[] | undefined {
    if (!this.onThisNode(rank)) return undefined;
    const met = this.host.plane()?.pidOf(rank);
    if (met !== undefined) return [met];
    const { jobId, stepId, node } = this.host.world;
    if (!jobId || !scan) return undefined; // the scan reads every process's environment
    return processesWith(jobId)?.flatMap((p) => {
      try {
        const w = detectWorld(p.env, node);
        return w.jobId === jobId && w.stepId === stepId && w.size === this.host.size && w.rank === rank ? [p.pid] : [];
      } catch {
        return []; // not a rank's environment
      }
    });
  }

  /**
   * A rank never met is still starting (hundreds of ranks on a few cores start over tens of seconds,
   * some past any fixed deadline): before the start-up deadline unless this node shows none of its
   * processes running (all gone, or stopped: judged as any silent rank is); after it, only while this
   * node shows one running — slow is not dead.
   */
  starting(rank: number, startupDeadline: number): boolean {
    const plane = this.host.plane();
    if (plane === undefined || plane.pinned(rank)) return false;
    const pids = this.processesOf(rank, true);
    const running = pids?.some((pid) => pidState(pid) === 'running') === true;
    return Date.now() < startupDeadline ? pids === undefined || running : running;
  }

  /** This node shows a process of `rank` running (however slowly). */
  seenRunning(rank: number): boolean {
    return this.processesOf(rank, true)?.some((pid) => pidState(pid) === 'running') === true;
  }

  /** A DEAD notice from `peer`: the rank it names is lost (this one: evicted). */
  onDead(peer: number, value: unknown): void {
    const v = value as { rank?: unknown; why?: unknown; by?: unknown; proven?: unknown } | null;
    const by = Number.isInteger(v?.by) ? (v!.by as number) : peer;
    if (!Number.isInteger(v?.rank) || (v!.rank as number) < 0 || (v!.rank as number) >= this.host.size) return;
    const why = String(v?.why ?? 'no reason given');
    if (v!.rank === this.host.rank) this.host.evicted(by, why);
    else this.markLost(v!.rank as number, why, false, by, v!.proven === true);
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
    if (this.processState(rank) === 'gone') { this.markLost(rank, `${why}; its process is gone`, false, host.rank, true); return; }
    this.probing.set(rank, false);
    plane.probe(rank)
      .then((r) => {
        if (r === 'dead') this.markLost(rank, `${why}; its port refuses connections: the process is gone`, false, host.rank, true);
        else host.log.debug({ peer: rank, probe: r }, 'peer not proven dead');
      })
      .finally(() => {
        const again = this.probing.get(rank);
        this.probing.delete(rank);
        if (again) this.probe(rank, why);
      });
  }

  /**
   * Whether `rank`'s loss can be proven now: its process gone from this node, or its port refusing
   * connections (also a rank never met, once past the start-up deadline: it never bound). A proof found
   * is recorded and spread like a death.
   */
  async prove(rank: number): Promise<boolean> {
    if (this.proven.has(rank)) return true;
    const pids = this.processesOf(rank);
    let gone = allGone(pids);
    if (!gone && pids?.length && this.host.mailbox.isLost(rank) !== undefined && pids.every((p) => pidState(p) === 'stopped')) {
      // Given up on while stopped on this node: fenced (liveness.ts), then gone.
      gone = pids.map(fence).every(Boolean);
      if (gone) this.host.log.warn({ peer: rank, pids }, 'fenced: ended a stopped rank the others gave up on');
    }
    if (!gone) {
      // Running here (however slowly) proves it alive; elsewhere only its port can tell.
      const plane = this.host.plane();
      if (pids !== undefined || !plane || (await plane.probe(rank)) !== 'dead') return false;
    }
    this.markLost(rank, gone ? 'its process is gone (or was stopped and has been ended)' : 'its port refuses connections: the process is gone', false, this.host.rank, true);
    return this.proven.has(rank);
  }


  /** Ends `rank` when it is stopped on this node (declared lost first); true when it was. */
  async fenceIfStopped(rank: number, why: string): Promise<boolean> {
    if (this.host.mailbox.isLost(rank) !== undefined || this.processState(rank) !== 'stopped') return false;
    this.markLost(rank, why);
    return this.prove(rank);
  }

  /**
   * `rank` is gone: `left` on purpose; else found dead (or evicted) here, or by rank `by` that told us;
   * `proven` when its process is known gone (a rank that left is gone too).
   */
  markLost(rank: number, why: string, left = false, by = this.host.rank, proven = false): void {
    const { host } = this;
    if (host.closing()) return;
    if (host.mailbox.isLost(rank) !== undefined) {
      if (proven && !left && !this.proven.has(rank)) {
        // Given up on earlier, found gone now. The majority rule needs more than "gone": a rank that
        // went silent may have been alive behind a partition, taken part in the other side's decision
        // and exited since — its port refuses then as a dead rank's does. Only what shows it took no
        // part counts: its process gone from this node (a silent rank here is slow, never cut off) or
        // a proof made by a rank that lost it and proved it at once (that rank applies this same rule).
        if (by === host.rank && !allGone(this.processesOf(rank, true))) {
          host.log.info({ peer: rank, why }, 'lost rank gone now, but it was unreachable before: not counted as proven dead for the majority rule');
          return;
        }
        this.proven.add(rank);
        this.spreadDeath(rank, why, by, true);
      }
      return;
    }
    if (left || proven) this.proven.add(rank);
    const reason = by === host.rank ? why : `${why} (found by rank ${by})`;
    if (left) host.log.debug({ peer: rank }, 'rank left');
    else host.log.warn({ peer: rank, why: reason, proven }, 'rank lost');
    host.mailbox.markLost(rank, reason);
    const err = new PeerLostError(rank, host.rank, reason);
    if (left) {
      host.plane()?.fail(rank, err);
      void host.libp2p()?.then((p) => p.forget(rank, err), () => {});
    } else {
      this.spreadDeath(rank, why, by, proven);
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
  private spreadDeath(rank: number, why: string, by: number, proven: boolean): void {
    const { host } = this;
    const to = new Set<number>();
    for (let d = 1; d < host.size; d *= 2) to.add((host.rank + d) % host.size).add((host.rank - d + host.size) % host.size);
    for (const q of to) {
      if (q !== host.rank && q !== rank && q !== by && host.mailbox.isLost(q) === undefined) host.send(q, DEAD, { rank, why, by, proven }).catch(() => {});
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
