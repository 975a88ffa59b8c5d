// Bootstrap endpoints: where the ranks of a registry wire-up (wireup.ts) register and look each other up,
// known to every rank before any talks: COMMUNE_BOOTSTRAP under any launcher, else rank 0 as the
// launcher describes it.

import { TopologyError } from './errors.js';
import type { Endpoint } from './types.js';

/** Parse COMMUNE_BOOTSTRAP: `rank@host:port,...` (IPv6 hosts in brackets: `0@[::1]:4000`). */
export function parseBootstrap(value: string, size: number, variable = 'COMMUNE_BOOTSTRAP'): Endpoint[] {
  const endpoints: Endpoint[] = [];
  const ranks = new Set<number>();
  for (const item of value.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const m = /^(\d+)@(\[[^\]]+\]|[^:@[\]\s]+):(\d+)$/.exec(item);
    const bad = (why: string): never => {
      throw new TopologyError(`${variable}='${value}': entry '${item}' ${why}; write entries as rank@host:port, e.g. 0@node1:24001`);
    };
    if (!m) return bad('is not rank@host:port');
    const rank = Number(m[1]);
    const port = Number(m[3]);
    const host = m[2]!.startsWith('[') ? m[2]!.slice(1, -1) : m[2]!;
    if (rank >= size) bad(`names rank ${rank}, but the world has only ${size} ranks`);
    if (port < 1 || port > 65535) bad(`has port ${port} outside 1..65535`);
    if (ranks.has(rank)) bad(`repeats rank ${rank}`);
    ranks.add(rank);
    endpoints.push({ rank, host, ports: [port] });
  }
  if (endpoints.length === 0) throw new TopologyError(`${variable} is set but lists no endpoints; unset it or give rank@host:port entries`);
  return endpoints;
}

/** Ports this rank listens on: its bootstrap ports if it is one, else its planned ones. */
export function listenPortsFor(rank: number, bootstrap: Endpoint[], planned: number[]): number[] {
  const own = bootstrap.find((e) => e.rank === rank);
  return own ? [...own.ports] : planned;
}
