// Fault-tolerant agreement on who survives and what each survivor contributed — the flat engine's
// step after every share of work, in the spirit of ULFM's MPI_Comm_agree + MPI_Comm_shrink.
//
// Cost: R rounds, R = 1 + the number of times a member's view of the dead set changes (1 without
// failures); per round every live member sends one message to every other: R·(p−1) messages per rank
// carrying its own payload, then (p−1) decision messages carrying all payloads:
//   T ≈ R·α·(p−1) + β·(p−1)·(|own| + |all|).
// Quadratic in p overall: fine for hundreds of ranks; a tree-shaped agreement is the way to thousands.
//
// Protocol. Every member keeps S, the members it knows dead (its mesh declared them lost). Round r:
// send (r, S, payload) to every member outside S, then read one message from each of them. A member
// that dies or stays silent past the liveness deadline (no message, no answer to a ping) is evicted and
// counted dead. If every message read carried exactly S and nobody was lost while reading, decide S.
// Otherwise S ← S ∪ all S read ∪ the newly lost, and go to round r+1. A member that decides sends
// DECIDE(S, all payloads) to the others and from then on sends nothing else; a member reading a DECIDE
// where it expected a round message adopts it. Why everyone ends with the same decision (crash
// failures, no partition): two members deciding by completion in the same round read one and the same
// message from every member outside S, so their S are equal; a member still undecided cannot complete
// a later round without reading from a live decided member, which sends only its DECIDE, so it adopts
// that. Only a member whose decision reached nobody can differ, and it is dead. A member read in a
// message's S learns it was evicted and stops (EvictedError) instead of carrying on alone.
import type { Mesh } from '../mesh/mesh.js';
import { EvictedError, PeerLostError, PeerTimeoutError, ProtocolError } from '../errors.js';

export interface AgreeOptions<T> {
  /** The members (ranks, ascending) taking part; this rank must be one. */
  members: readonly number[];
  /** This rank's contribution. */
  payload: T;
  /** A member silent this long is pinged; one that does not answer within as long again is evicted. */
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

type RoundMsg<T> = { r: number; S: number[]; p: T };
type DecideMsg<T> = { d: 1; S: number[]; all: Array<[number, T]> };
type Heard<T> = { q: number; m: RoundMsg<T> } | { q: number; decide: DecideMsg<T> } | { q: number; lost: true };

const calls = new WeakMap<Mesh, number>();

/** Agreement among `members`: collective (every member calls it in the same order). */
export async function agree<T>(mesh: Mesh, opts: AgreeOptions<T>): Promise<Agreement<T>> {
  const me = mesh.rank;
  if (!opts.members.includes(me)) throw new RangeError(`rank ${me}: agree called by a rank outside its members ${opts.members.join(',')}`);
  // Every member makes the same sequence of calls, so the n-th call has the same tag everywhere.
  const n = calls.get(mesh) ?? 0;
  calls.set(mesh, n + 1);
  const tag = `\u0000agree/${n}`;
  if (mesh.evictedBy) throw mesh.evictedBy;
  const S = new Set(opts.members.filter((r) => r !== me && mesh.isLost(r) !== undefined));
  const deadline = Date.now() + opts.timeoutMs;
  const stalledMs = (): number => mesh.stalls.longestSince(opts.since ?? deadline - opts.timeoutMs);

  let onEvicted: ((e: EvictedError) => void) | undefined;
  const evicted = new Promise<never>((_, reject) => { onEvicted = reject; mesh.once('evicted', onEvicted); });
  evicted.catch(() => {});
  try {
    for (let round = 0; ; round++) {
      const sent = [...S].sort((a, b) => a - b);
      const others = opts.members.filter((r) => r !== me && !S.has(r));
      const msg: RoundMsg<T> = { r: round, S: sent, p: opts.payload };
      // A failed send means the peer is lost; reading from it says so.
      for (const q of others) mesh.send(q, tag, msg).catch(() => {});
      const heard = await Promise.race([Promise.all(others.map((q) => hear<T>(mesh, q, tag, round, opts, deadline))), evicted]);

      const decided = heard.find((h): h is { q: number; decide: DecideMsg<T> } => 'decide' in h);
      if (decided) return finish(mesh, tag, opts, decided.decide.S, new Map(decided.decide.all), decided.q);
      for (const h of heard) {
        if ('m' in h && h.m.S.includes(me)) throw new EvictedError(me, h.q, `${opts.what}: it counts this rank dead`);
      }
      const unanimous = heard.every((h) => 'm' in h && sameSet(h.m.S, sent));
      if (unanimous) {
        // Everyone else lost while this rank was frozen past the deadline: it is far more likely the
        // one the others gave up on (their eviction notice lost with their connections) than the
        // last one standing. It stops rather than finish the job a second time.
        const stalled = stalledMs();
        if (others.length === 0 && sent.length > 0 && stalled > opts.livenessMs) {
          throw new EvictedError(me, me, `${opts.what}: this rank was frozen for ${(stalled / 1000).toFixed(1)} s, past the liveness deadline of ` +
            `${opts.livenessMs} ms, and since then no other rank answers — the others have most likely gone on without it`);
        }
        const payloads = new Map<number, T>([[me, opts.payload]]);
        for (const h of heard) if ('m' in h) payloads.set(h.q, h.m.p);
        return finish(mesh, tag, opts, sent, payloads);
      }
      for (const h of heard) {
        if ('lost' in h) S.add(h.q);
        else if ('m' in h) for (const r of h.m.S) if (r !== me && opts.members.includes(r)) S.add(r);
      }
    }
  } finally {
    if (onEvicted) mesh.off('evicted', onEvicted);
  }
}

/** Reads member q's message of this round, watching its liveness; a silent or dead q counts as lost. */
async function hear<T>(mesh: Mesh, q: number, tag: string, round: number, opts: AgreeOptions<T>, deadline: number): Promise<Heard<T>> {
  for (;;) {
    let m: RoundMsg<T> | DecideMsg<T>;
    try {
      m = (await mesh.recv(q, tag, { timeoutMs: Math.max(1, Math.min(opts.livenessMs, deadline - Date.now())), what: opts.what })) as typeof m;
    } catch (e) {
      if (e instanceof PeerLostError) return { q, lost: true };
      if (!(e instanceof PeerTimeoutError)) throw e;
      if (Date.now() >= deadline) throw new PeerTimeoutError(q, mesh.rank, opts.what, opts.timeoutMs);
      if (await mesh.ping(q, opts.livenessMs)) continue; // alive, still computing its share
      mesh.evict(q, `silent in ${opts.what} and no answer to a liveness ping within ${opts.livenessMs} ms`);
      return { q, lost: true };
    }
    if ((m as DecideMsg<T>).d === 1) return { q, decide: m as DecideMsg<T> };
    if ((m as RoundMsg<T>).r !== round) throw new ProtocolError(`rank ${q}`, mesh.rank, `${opts.what}: round ${(m as RoundMsg<T>).r} where round ${round} was due`);
    return { q, m: m as RoundMsg<T> };
  }
}

function finish<T>(mesh: Mesh, tag: string, opts: AgreeOptions<T>, dead: readonly number[], payloads: Map<number, T>, from?: number): Agreement<T> {
  const me = mesh.rank;
  if (dead.includes(me)) throw new EvictedError(me, from ?? me, `${opts.what}: the others agreed this rank is dead`);
  const lost = [...dead].sort((a, b) => a - b);
  for (const r of lost) mesh.evict(r, `agreed dead by the survivors in ${opts.what}`);
  const alive = opts.members.filter((r) => !dead.includes(r));
  const decision: DecideMsg<T> = { d: 1, S: lost, all: [...payloads] };
  for (const q of alive) if (q !== me && q !== from) mesh.send(q, tag, decision).catch(() => {});
  return { alive, lost, payloads };
}

function sameSet(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
