// Computed wire-up (PMIx's "instant on", without PMIx): where every rank listens follows from the launch
// environment alone — its node's host from the placement, its ports from the job step's port plan and
// its local rank — so no rank exchanges addresses with any other before talking to it. A rank takes
// PORTS_PER_RANK consecutive ports of its node's block: the direct plane's, then libp2p's.
// Only a launch that does not say where ranks run (mpirun across nodes, COMMUNE_BOOTSTRAP) falls back to
// a registry: ranks tell the first bootstrap rank where they listen and ask it on first contact.

import type { Endpoint, World } from './types.js';

export const PORTS_PER_RANK = 2;

/** Ports a job step reserves per node: enough for the most ranks any node runs (the whole world when the placement is unknown). */
export function portBlock(rankNodes: readonly number[], size: number): number {
  if (rankNodes.length !== size) return PORTS_PER_RANK * size;
  const perNode = new Map<number, number>();
  let most = 1;
  for (const n of rankNodes) {
    const c = (perNode.get(n) ?? 0) + 1;
    perNode.set(n, c);
    if (c > most) most = c;
  }
  return PORTS_PER_RANK * most;
}

/** A rank's direct-plane port in each candidate block, in the order to try them. */
export function rankPorts(bases: readonly number[], localRank: number): number[] {
  return bases.map((b) => b + PORTS_PER_RANK * localRank);
}

/** The libp2p port that goes with a direct-plane port. */
export function libp2pPortOf(directPort: number): number {
  return directPort + 1;
}

const localRanks = new WeakMap<readonly number[], Int32Array>();

/** Local rank of every rank, from the placement (rank order on each node, as launchers number them). */
function localRanksOf(rankNodes: readonly number[]): Int32Array {
  let l = localRanks.get(rankNodes);
  if (!l) {
    l = new Int32Array(rankNodes.length);
    const seen = new Map<number, number>();
    rankNodes.forEach((n, r) => { const c = seen.get(n) ?? 0; l![r] = c; seen.set(n, c + 1); });
    localRanks.set(rankNodes, l);
  }
  return l;
}

/**
 * Where `rank` can be dialled before anyone has heard from it: its node's host and its direct-plane port
 * candidates. Undefined when the launch does not say where it runs (registry wire-up), unless it is a
 * bootstrap rank.
 */
export function endpointOf(world: World, rank: number): Endpoint | undefined {
  const boot = world.bootstrap.find((e) => e.rank === rank);
  if (boot) return boot;
  if (rank === world.rank) return { rank, host: world.bindHost ?? world.nodeHosts[world.rankNodes[rank] ?? -1] ?? '127.0.0.1', ports: world.listenPorts };
  if (world.wireUp !== 'computed') return undefined;
  const node = world.rankNodes[rank];
  const host = node === undefined ? undefined : world.nodeHosts[node];
  if (host === undefined) return undefined;
  return { rank, host, ports: rankPorts(world.portBases, localRanksOf(world.rankNodes)[rank]!) };
}
