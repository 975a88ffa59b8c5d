import type { Where } from './direct-plane.js';

// The registry wire-up (topology/wireup.ts) for launches that do not say where ranks run — mpirun
// across nodes, or COMMUNE_BOOTSTRAP: every rank's first handshake with one registrar (the first
// bootstrap rank) tells it where that rank listens (the address its connection comes from, bound to the
// listening address, and the port in its hello), and a rank asks the registrar where a peer listens the
// first time it needs that peer — PMIx's "direct modex", on demand, O(1) messages per lookup. A question
// about a rank not met yet is answered once it is.

export const WHERE = '\u0000where?';
export const HERE = '\u0000where!';

interface Entry { host: string; port: number }

export class Registry {
  private readonly known = new Map<number, Entry>();
  private readonly asked = new Map<number, Array<(w: Where) => void>>();
  /** Ranks that asked about a rank not registered yet (registrar only). */
  private readonly askers = new Map<number, Set<number>>();

  constructor(
    readonly registrar: number,
    private readonly self: number,
    /** Sends a control message to a rank. */
    private readonly tell: (rank: number, tag: string, value: unknown) => void,
  ) {}

  /** Where `peer` listens, once the registrar knows. */
  lookup(peer: number): Promise<Where> {
    const e = this.known.get(peer);
    if (e) return Promise.resolve({ host: e.host, ports: [e.port] });
    return new Promise((resolve) => {
      const waiting = this.asked.get(peer);
      if (waiting) { waiting.push(resolve); return; }
      this.asked.set(peer, [resolve]);
      if (this.self !== this.registrar) this.tell(this.registrar, WHERE, peer);
    });
  }

  /** Handles a registry control message from `from`; false when the tag is not the registry's. */
  onControl(from: number, tag: string, value: unknown): boolean {
    if (tag === WHERE) {
      const peer = value as number;
      const e = this.known.get(peer);
      if (e) this.tell(from, HERE, { rank: peer, ...e });
      else {
        let s = this.askers.get(peer);
        if (!s) { s = new Set(); this.askers.set(peer, s); }
        s.add(from);
      }
      return true;
    }
    if (tag === HERE) {
      const v = value as { rank?: unknown; host?: unknown; port?: unknown } | null;
      if (Number.isInteger(v?.rank) && typeof v?.host === 'string' && Number.isInteger(v?.port)) this.record(v!.rank as number, v!.host as string, v!.port as number);
      return true;
    }
    return false;
  }

  /** `rank` listens at host:port (met in a handshake, or the registrar said so). */
  record(rank: number, host: string, port: number): void {
    if (this.known.has(rank)) return;
    this.known.set(rank, { host, port });
    for (const r of this.asked.get(rank) ?? []) r({ host, ports: [port] });
    this.asked.delete(rank);
    for (const q of this.askers.get(rank) ?? []) this.tell(q, HERE, { rank, host, port });
    this.askers.delete(rank);
  }
}
