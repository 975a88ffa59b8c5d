// Fault-tolerant agreement on who survives and what each survivor contributed — the flat engine's step
// after every share of work, in the spirit of ULFM's MPI_Comm_agree + MPI_Comm_shrink, shaped like ERA
// (Herault et al., SC15): a binomial tree over the members not known dead, contributions gathered up
// to its root, the root's decision sent down, and a decision kept to answer late requests.
//
// Cost without failures: 2(p−1) messages in all — each member sends one UP and receives one DOWN, and
// sends a DOWN to each of its ≤ ⌈lg p⌉ children — over 2⌈lg p⌉ hops; with payloads of b bytes,
//   T ≈ 2·⌈lg p⌉·α + β·b·p (the root's decision carries every payload).
// Each failure found costs a restart of the tree over the survivors (the death itself reaches every
// rank through the mesh's broadcast, mesh.ts spreadDeath).
//
// Protocol. Every member keeps S, the members it knows dead; the epoch is S, the tree is the binomial
// tree over the members outside S, ascending, rooted at the lowest. A member waits for UP(S, payloads of
// the subtree) from each child, then sends UP(S, its subtree's payloads) to its parent; the root instead
// decides D = (S, every payload) and sends DOWN(D) to its children. Whenever S grows — the mesh lost a
// member, or a message carries a larger S — the member restarts in the new epoch. A member that has a
// decision (from a DOWN, any epoch, any sender) keeps it: it passes DOWN to its tree neighbours (those of
// the decision's epoch and of every later one), answers any UP or question with it, and never sends
// UP again.
// Why every survivor ends with the same decision (crash failures, no partition): the root of an epoch
// decides afresh only with UP from every member outside S, and a member sends UP only while undecided,
// so no survivor had decided then. A root that decided stays the root of every later epoch unless it
// dies, and answers every UP with its decision; if it dies, a survivor that received its decision is a
// member of the later epochs and sends DOWN instead of UP there, so the later root adopts that decision
// rather than make another. Only members that received nothing can differ, and they had none to differ
// with. A member whose own rank appears in an S stops with EvictedError instead of carrying on alone.
//
// The majority rule: at most one side of a partition goes on. Silence cannot tell a dead rank from one
// cut off behind a partition, so a root decides only for a *majority of the ranks not proven dead*:
// |alive| > (p − |P|)/2, p the world's size, P the ranks proven dead (process gone from its node, or
// fenced there when stopped; its port refusing connections; a goodbye — failure-detector.ts). Before it
// gives up it tries to prove the lost ranks dead itself. Without a majority it decides "minority": its
// side stops with PartitionedError (its own exit code) and no result. Killed ranks are proven dead, so
// killing any number of ranks stays survivable; only ranks that are unreachable yet perhaps alive count
// against a side.
// Why two sides never both decide: let A and B be disjoint sets of live ranks deciding with proven sets
// P_A and P_B. Proofs are sound (a proven rank took no part in a decision made without this side: a
// rank found gone only after it had gone silent is not counted — failure-detector.ts), so B ⊆ U_A = all − P_A and
// A ⊆ U_B; both lie in U = U_A ∩ U_B, so |A| + |B| ≤ |U|, yet |A| > |U_A|/2 ≥ |U|/2 and likewise B:
// a contradiction. This covers partitions that hold while an agreement runs; a link that flaps so that
// one rank sends UP to both sides within one agreement is outside it (that rank adopts one decision,
// and the other side loses it, and with it its majority, in the next agreement).
import type { Mesh } from '../mesh/mesh.js';
import { EvictedError, PartitionedError, PeerTimeoutError } from '../errors.js';

export interface AgreeOptions<T> {
  /** The members (ranks, ascending) taking part; this rank must be one. */
  members: readonly number[];
  /** This rank's contribution. */
  payload: T;
  /** A member silent this long is pinged; one that does not answer within as long again is evicted (unless it is seen running on this node). */
  livenessMs: number;
  /** Overall deadline: a member still answering pings but never sending fails the call. */
  timeoutMs: number;
  /** Names the step in messages ("search round 2"). */
  what: string;
  /** Start of the work this agreement closes (ms since the epoch): a stall of this rank after it counts. */
  since?: number;
}

export interface Agreement<T> {
  /** The surviving members, ascending. */
  alive: number[];
  /** Members agreed dead in this call (ascending), evicted on this rank. */
  lost: number[];
  /** Every survivor's payload, keyed by rank. */
  payloads: Map<number, T>;
}

type Entries<T> = Array<[number, T]>;
/** S: the dead this member knows; P: the ranks (of the whole world) it knows proven dead. */
type Up<T> = { u: 1; S: number[]; P?: number[]; p: Entries<T> };
/** A decision; `minority`: the root's side holds no majority (see the top of this file) and stops. */
type Down<T> = { d: 1; S: number[]; P?: number[]; all: Entries<T>; minority?: 1 };
/** The dead this rank knows, to a rank whose UP showed it knows fewer (it waits on us in a tree we left). */
type News = { n: 1; S: number[] };

/** Position `i`'s parent in a binomial tree over positions 0..n−1 (undefined for the root). */
function parentOf(i: number): number | undefined {
  return i === 0 ? undefined : i & (i - 1);
}

/** Position `i`'s children in a binomial tree over positions 0..n−1. */
function childrenOf(i: number, n: number): number[] {
  const out: number[] = [];
  for (let bit = 1; i + bit < n && (i === 0 || bit < (i & -i)); bit <<= 1) out.push(i + bit);
  return out;
}

/** Tree neighbours of `me` in the epoch `S`: parent (undefined at the root) and children, as ranks. */
export function treeOf(members: readonly number[], S: ReadonlySet<number>, me: number): { parent?: number; children: number[]; root: number } {
  const alive = members.filter((r) => !S.has(r));
  const i = alive.indexOf(me);
  const p = parentOf(i);
  return { parent: p === undefined ? undefined : alive[p], children: childrenOf(i, alive.length).map((c) => alive[c]!), root: alive[0]! };
}

const calls = new WeakMap<Mesh, number>();
/** Decided agreements still answering (per mesh): one 'lost' listener tells them all of later deaths. */
const keepers = new WeakMap<Mesh, Set<Agreeing<unknown>>>();

function keep(mesh: Mesh, a: Agreeing<unknown>): void {
  let set = keepers.get(mesh);
  if (!set) {
    const s = new Set<Agreeing<unknown>>();
    set = s;
    keepers.set(mesh, s);
    mesh.on('lost', (rank, _why, left) => { if (!left) for (const k of s) k.learn([rank], mesh.rank); });
  }
  set.add(a);
}

/** Agreement among `members`: collective (every member calls it in the same order). */
export async function agree<T>(mesh: Mesh, opts: AgreeOptions<T>): Promise<Agreement<T>> {
  const me = mesh.rank;
  if (!opts.members.includes(me)) throw new RangeError(`rank ${me}: agree called by a rank outside its members ${opts.members.join(',')}`);
  // Every member makes the same sequence of calls, so the n-th call has the same tag everywhere.
  const n = calls.get(mesh) ?? 0;
  calls.set(mesh, n + 1);
  if (mesh.evictedBy) throw mesh.evictedBy;
  return new Agreeing<T>(mesh, `\u0000agree/${n}`, opts).run();
}

class Agreeing<T> {
  private readonly me: number;
  private readonly members: Set<number>;
  private readonly S = new Set<number>();
  /** Ranks of the world proven dead (as far as this member knows, from the mesh and from messages). */
  private readonly P = new Set<number>();
  /** UP messages received, by epoch key then sender. */
  private readonly ups = new Map<string, Map<number, Entries<T>>>();
  private decision?: Down<T>;
  /** Ranks that told us the decision (no need to tell them). */
  private readonly informed = new Set<number>();
  /** Ranks that sent us an UP (they wait on us). */
  private readonly waitingOnUs = new Set<number>();
  /** When each rank was last heard from. */
  private readonly heard = new Map<number, number>();
  private wake?: () => void;
  private evicted?: EvictedError;
  private readonly deadline: number;

  constructor(private readonly mesh: Mesh, private readonly tag: string, private readonly opts: AgreeOptions<T>) {
    this.me = mesh.rank;
    this.members = new Set(opts.members);
    for (const r of opts.members) if (r !== this.me && mesh.isLost(r) !== undefined) this.S.add(r);
    for (const r of mesh.provenDead()) this.P.add(r);
    this.deadline = Date.now() + opts.timeoutMs;
  }

  private epochKey(S: Iterable<number> = this.S): string {
    return [...S].sort((a, b) => a - b).join(',');
  }

  private poke(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Members newly known dead: the epoch grows (this rank among them: it was evicted). */
  learn(dead: Iterable<number>, by: number): void {
    let grew = false;
    for (const r of dead) {
      if (!this.members.has(r) || this.S.has(r)) continue;
      if (r === this.me) { this.evicted ??= new EvictedError(this.me, by, `${this.opts.what}: rank ${by} counts this rank dead`); this.poke(); return; }
      this.S.add(r);
      grew = true;
      // The others learn it through the mesh's broadcast of deaths; here it is certain (agreed or proven).
      if (this.mesh.isLost(r) === undefined) this.mesh.evict(r, `found dead by rank ${by} in ${this.opts.what}`);
    }
    if (!grew) return;
    // Decided: the new epoch's neighbours may be waiting for our UP or a DOWN.
    if (this.decision) this.spread();
    this.poke();
  }

  private onMessage(from: number, msg: Up<T> | Down<T> | News): void {
    this.heard.set(from, Date.now());
    if (!msg || !Array.isArray(msg.S)) return;
    if ('P' in msg && Array.isArray(msg.P)) for (const r of msg.P) if (Number.isInteger(r) && r >= 0 && r < this.mesh.size) this.P.add(r);
    if ('d' in msg) {
      this.informed.add(from);
      if (!this.decision) this.adopt(msg);
      return;
    }
    if ('n' in msg) { if (!this.decision) this.learn(msg.S, from); return; }
    if (this.decision) { this.tell(from); return; }
    this.waitingOnUs.add(from);
    this.learn(msg.S, from);
    if ([...this.S].some((r) => !msg.S.includes(r))) {
      this.mesh.send(from, this.tag, { n: 1, S: [...this.S].sort((a, b) => a - b) } satisfies News).catch(() => {});
    }
    const key = this.epochKey(msg.S);
    let m = this.ups.get(key);
    if (!m) { m = new Map(); this.ups.set(key, m); }
    m.set(from, msg.p);
    this.poke();
  }

  private adopt(d: Down<T>): void {
    // A minority that counts this rank out has lost us, not we them: its decision is not ours.
    if (d.minority && d.S.includes(this.me)) return;
    if (d.S.includes(this.me)) { this.evicted ??= new EvictedError(this.me, this.me, `${this.opts.what}: the others agreed this rank is dead`); this.poke(); return; }
    for (const r of d.S) if (!this.S.has(r) && this.members.has(r)) { this.S.add(r); if (this.mesh.isLost(r) === undefined) this.mesh.evict(r, `agreed dead by the survivors in ${this.opts.what}`); }
    this.decision = d;
    this.spread();
    this.poke();
  }

  private tell(to: number): void {
    if (to === this.me || this.informed.has(to) || !this.decision) return;
    this.informed.add(to);
    this.mesh.send(to, this.tag, this.decision).catch(() => {});
  }

  /** Passes the decision to everyone who may wait on this rank: tree neighbours of the decision's epoch and of the current one, and every rank that sent us an UP. */
  private spread(): void {
    const d = this.decision!;
    const inDecision = treeOf(this.opts.members, new Set(d.S), this.me);
    const now = treeOf(this.opts.members, this.S, this.me);
    for (const r of [...inDecision.children, inDecision.parent, ...now.children, now.parent, ...this.waitingOnUs]) {
      if (r !== undefined && !this.S.has(r)) this.tell(r);
    }
  }

  async run(): Promise<Agreement<T>> {
    const { mesh, opts } = this;
    const stop = mesh.serve(this.tag, (from, msg) => this.onMessage(from, msg as Up<T> | Down<T> | News));
    const onLost = (rank: number, _why: string, left: boolean): void => { if (!left) this.learn([rank], this.me); };
    const onEvicted = (e: EvictedError): void => { this.evicted ??= e; this.poke(); };
    mesh.on('lost', onLost);
    mesh.on('evicted', onEvicted);
    try {
      const out = await this.rounds();
      // Decided: stay to answer late UPs and to pass the decision on when later deaths change the
      // tree (ERA keeps its decision for late requests), until the mesh closes — a few per search.
      keep(mesh, this as Agreeing<unknown>);
      return out;
    } catch (e) {
      stop();
      throw e;
    } finally {
      mesh.off('evicted', onEvicted);
      mesh.off('lost', onLost);
    }
  }

  private async rounds(): Promise<Agreement<T>> {
    const { opts } = this;
    for (;;) {
      if (this.evicted) throw this.evicted;
      if (this.decision) return this.finish(this.decision);
      const epoch = this.epochKey();
      const tree = treeOf(opts.members, this.S, this.me);
      if (tree.children.length === 0 && tree.parent === undefined) this.checkNotTheStraggler();
      // Gather the children's UPs of this epoch.
      const ups = (): Map<number, Entries<T>> | undefined => this.ups.get(epoch);
      const gathered = await this.until(() => tree.children.every((c) => ups()?.has(c)), tree.children.filter((c) => !ups()?.has(c)), epoch);
      if (!gathered) continue;
      const entries: Entries<T> = [[this.me, opts.payload]];
      for (const c of tree.children) entries.push(...ups()!.get(c)!);
      if (tree.parent === undefined) {
        const quorate = await this.quorate();
        if (this.evicted || this.decision || this.epochKey() !== epoch) continue;
        const S = [...this.S].sort((a, b) => a - b);
        this.decision = quorate
          ? { d: 1, S, P: this.provenList(), all: entries.sort((a, b) => a[0] - b[0]) }
          : { d: 1, S, P: this.provenList(), all: [], minority: 1 };
        this.spread();
        continue;
      }
      this.mesh.send(tree.parent, this.tag, { u: 1, S: [...this.S].sort((a, b) => a - b), P: this.provenList(), p: entries } satisfies Up<T>).catch(() => {});
      await this.until(() => false, [tree.parent], epoch);
    }
  }

  /**
   * Waits until `done()`, a decision, an eviction or a new epoch; watches the ranks it waits on: silent
   * past the liveness deadline → pinged → no answer → evicted, unless seen running on this node (slow
   * is not dead). Resolves true when `done()` held, false when the epoch or the state changed.
   */
  private async until(done: () => boolean, awaited: number[], epoch: string): Promise<boolean> {
    const { mesh, opts } = this;
    for (const r of awaited) mesh.watch(r);
    const since = Date.now();
    for (;;) {
      if (this.evicted || this.decision || this.epochKey() !== epoch) return false;
      if (done()) return true;
      if (Date.now() >= this.deadline) throw new PeerTimeoutError(awaited[0] ?? this.me, this.me, opts.what, opts.timeoutMs);
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((r) => { this.wake = r; timer = setTimeout(r, Math.min(opts.livenessMs, Math.max(1, this.deadline - Date.now()))); });
      clearTimeout(timer);
      this.wake = undefined;
      if (this.evicted || this.decision || this.epochKey() !== epoch || done()) continue;
      for (const r of awaited) {
        if (this.S.has(r) || Date.now() - Math.max(since, this.heard.get(r) ?? 0) < opts.livenessMs) continue;
        void this.check(r);
      }
    }
  }

  private checking = new Set<number>();

  /** A rank silent past the liveness deadline: ping it; no answer and not seen running here → evicted. */
  private async check(r: number): Promise<void> {
    if (this.checking.has(r)) return;
    this.checking.add(r);
    try {
      const { mesh, opts } = this;
      if (mesh.starting(r) || await mesh.ping(r, opts.livenessMs)) { this.heard.set(r, Date.now()); return; }
      const state = mesh.processState(r);
      if (state === 'running') { this.heard.set(r, Date.now()); return; } // on this node, alive and merely slow
      if (this.S.has(r) || this.decision) return;
      mesh.evict(r, state === 'stopped'
        ? `its process is stopped (frozen) in ${opts.what}`
        : `silent in ${opts.what} and no answer to a liveness ping within ${opts.livenessMs} ms`);
      this.learn([r], this.me);
      // Dead in fact, or fenced when stopped here: the proof counts for the majority rule.
      void mesh.prove(r).catch(() => {});
    } finally {
      this.checking.delete(r);
    }
  }

  /**
   * Everyone else lost while this rank was frozen past the deadline: it is far more likely the one the
   * others gave up on (their eviction notice lost with their connections) than the last one standing.
   * It stops rather than finish the job a second time. Only a freeze that began while some of them still
   * counted as alive here can have let them go on without it: ranks already lost when it began (killed
   * while this one ran, then the machine held it) could not have.
   */
  private checkNotTheStraggler(): void {
    const { mesh, opts } = this;
    if (this.S.size === 0) return;
    // Every rank of S is lost on the mesh too (learn() evicts it there), which keeps when.
    const lastLoss = Math.max(...[...this.S].map((r) => mesh.lostAt(r) ?? Date.now()));
    const stalled = mesh.stalls.since(opts.since ?? this.deadline - opts.timeoutMs)
      .filter((s) => s.start < lastLoss)
      .reduce((m, s) => Math.max(m, s.end - s.start), 0);
    if (stalled > opts.livenessMs) {
      throw new EvictedError(this.me, this.me, `${opts.what}: this rank was frozen for ${(stalled / 1000).toFixed(1)} s, past the liveness deadline of ` +
        `${opts.livenessMs} ms, and since then no other rank answers — the others have most likely gone on without it`);
    }
  }

  private provenList(): number[] {
    return [...this.P].sort((a, b) => a - b);
  }

  /** Ranks of the world lost, on this rank's knowledge, and not proven dead. */
  private unproven(): number[] {
    const out: number[] = [];
    for (let r = 0; r < this.mesh.size; r++) if ((this.S.has(r) || (r !== this.me && this.mesh.isLost(r) !== undefined)) && !this.P.has(r)) out.push(r);
    return out;
  }

  /** The majority rule (top of this file), after trying to prove this side's lost ranks dead. */
  private async quorate(): Promise<boolean> {
    const alive = this.opts.members.length - this.S.size;
    const holds = (): boolean => {
      for (const r of this.mesh.provenDead()) this.P.add(r);
      return 2 * alive > this.mesh.size - this.P.size;
    };
    if (holds()) return true;
    await Promise.all(this.unproven().map((r) => this.mesh.prove(r).catch(() => false)));
    return holds();
  }

  private finish(d: Down<T>): Agreement<T> {
    if (d.minority) {
      const alive = this.opts.members.filter((r) => !d.S.includes(r));
      const proven = new Set(d.P ?? []);
      const cutOff = d.S.filter((r) => !proven.has(r));
      throw new PartitionedError(this.me, this.opts.what, alive, cutOff, this.mesh.size - proven.size);
    }
    const lost = [...d.S].sort((a, b) => a - b);
    for (const r of lost) if (this.mesh.isLost(r) === undefined) this.mesh.evict(r, `agreed dead by the survivors in ${this.opts.what}`);
    return { alive: this.opts.members.filter((r) => !d.S.includes(r)), lost, payloads: new Map(d.all) };
  }
}
