// Bootstrap endpoints: the few ranks every rank can dial before the roster exists. They are computed from the
// environment alone, so all ranks agree without talking; COMMUNE_BOOTSTRAP overrides them under any launcher.

import { TopologyError } from './errors.js';
import { planPorts } from './ports.js';
import type { Endpoint } from './types.js';

/** How many nodes host a bootstrap rank: enough to survive one slow node, few enough to stay cheap. */
export const BOOTSTRAP_NODES = 3;

/** The lowest rank on each of the first BOOTSTRAP_NODES nodes that run any rank, listening on the planned ports. */
export function nodeBootstrap(nodes: string[], rankNodes: number[], ports: number[]): Endpoint[] {
  const endpoints: Endpoint[] = [];
  const seen = new Set<number>();
  rankNodes.forEach((node, rank) => {
    if (seen.has(node)) return;
    seen.add(node);
    endpoints.push({ rank, host: nodes[node]!, ports: [...ports] });
  });
  // Node-id order, not rank order: under cyclic placement both agree, but say which we mean.
  return endpoints.sort((a, b) => rankNodes[a.rank]! - rankNodes[b.rank]!).slice(0, BOOTSTRAP_NODES);
}

/** With no node list (mpirun, PMI, a bare commune launch) rank 0 is the bootstrap, at a host the user names. */
export function rankZeroBootstrap(host: string, jobId: string, stepId: string): Endpoint[] {
  return [{ rank: 0, host, ports: planPorts(jobId, stepId) }];
}

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

/** Ports this rank listens on: its bootstrap ports if it is one, else `port` (0 = any). */
export function listenPortsFor(rank: number, bootstrap: Endpoint[], port: number | undefined, portVar = 'COMMUNE_PORT'): number[] {
  const own = bootstrap.find((e) => e.rank === rank);
  if (!own) return [port ?? 0];
  if (port !== undefined && port !== 0 && !own.ports.includes(port)) {
    throw new TopologyError(
      `${portVar}=${port} conflicts with this rank's bootstrap port${own.ports.length > 1 ? 's' : ''} ${own.ports.join(', ')}; unset ${portVar} or make them agree`,
    );
  }
  return [...own.ports];
}
