import type { Mesh } from '../mesh/mesh.js';
import { PeerLostError } from '../errors.js';

// One per mesh, shared by its communicators: numbers them (in creation order, the same on every
// rank), forwards the mesh's 'lost' events, and answers peers' "where are you in collective s?"
// queries. Those answers let a rank whose receive timed out follow the chain of waits (A waits on
// B, which waits on C, which never entered) and name the rank actually at fault.

export type Status =
  | { s: 'wait'; on: number }         // inside the collective, waiting on rank `on`
  | { s: 'busy' }                     // inside it, computing
  | { s: 'failed'; on: number; why: string } // it failed there, blaming rank `on`
  | { s: 'done' }
  | { s: 'absent' }                   // has not entered it
  | { s: 'lost'; why: string };       // (local verdict) the rank is gone

export interface Member {
  status(seq: number): Status;
  onLost(rank: number, why: string, left: boolean): void;
}

const QUERY = 'coll/q';
const hubs = new WeakMap<Mesh, Hub>();

export class Hub {
  private nextId = 0;
  private nextQuery = 0;
  private readonly members = new Map<number, Member>();

  static of(mesh: Mesh): Hub {
    let h = hubs.get(mesh);
    if (!h) { h = new Hub(mesh); hubs.set(mesh, h); }
    return h;
  }

  private constructor(private readonly mesh: Mesh) {
    mesh.on('lost', (rank, why, left) => { for (const m of this.members.values()) m.onLost(rank, why, left); });
    mesh.serve(QUERY, (peer, value) => this.answer(peer, value as { c: number; s: number; id: string }));
  }

  register(m: Member): number {
    const id = this.nextId++;
    this.members.set(id, m);
    return id;
  }

  unregister(id: number): void {
    this.members.delete(id);
  }

  /** Answers `peer`'s query. */
  private answer(peer: number, q: { c: number; s: number; id: string }): void {
    const status: Status = this.members.get(q?.c)?.status(q.s) ?? { s: 'absent' };
    this.mesh.send(peer, `coll/a/${q?.id}`, status).catch(() => {});
  }

  /** Asks `peer` where it is in collective `seq` of communicator `comm`; undefined when it does not answer in time. */
  async query(peer: number, comm: number, seq: number, graceMs: number): Promise<Status | undefined> {
    const id = `${this.mesh.rank}.${this.nextQuery++}`;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), graceMs); });
    try {
      return await Promise.race([
        (async () => {
          await this.mesh.send(peer, QUERY, { c: comm, s: seq, id });
          return (await this.mesh.recv(peer, `coll/a/${id}`, { timeoutMs: graceMs, what: 'status reply' })) as Status;
        })().catch((e: Error): Status | undefined => (e instanceof PeerLostError ? { s: 'lost', why: e.message } : undefined)),
        late,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }
}
