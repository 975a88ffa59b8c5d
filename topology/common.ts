// What every launcher shares: COMMUNE_SECRET, COMMUNE_HOST, COMMUNE_PORT and COMMUNE_BOOTSTRAP are honoured
// whichever launcher started the rank, so a site can always override what detection derived.

import { listenPortsFor, parseBootstrap } from './bootstrap.js';
import { TopologyError } from './errors.js';
import { readInt, readString, type Env } from './env.js';
import { planPortBlocks } from './ports.js';
import type { Endpoint, World } from './types.js';
import { portBlock, rankPorts } from './wireup.js';

/** Where rank 0 is dialled when the launcher gives no node list; multi-node mpirun must set COMMUNE_BOOTSTRAP_HOST. */
export const DEFAULT_BOOTSTRAP_HOST = '127.0.0.1';

export function bootstrapHost(env: Env): string {
  return readString(env, 'COMMUNE_BOOTSTRAP_HOST') ?? DEFAULT_BOOTSTRAP_HOST;
}

/** Rank 0, the registry of a launch that does not say where ranks run, at `host` on its planned ports. */
export function rankZeroRegistry(host: string, bases: number[]): Endpoint[] {
  return [{ rank: 0, host, ports: rankPorts(bases, 0) }];
}

type Derived = Omit<World, 'secret' | 'bindHost' | 'listenPorts' | 'portBases' | 'wireUp' | 'bootstrap' | 'notes'>;

/**
 * Adds the launcher-independent fields. The wire-up is computed when the launcher placed every rank
 * on a node with a known host; otherwise — or when COMMUNE_BOOTSTRAP names endpoints explicitly — ranks
 * go through a registry: the explicit endpoints, else `registry(bases)` (a launcher-specific rank 0).
 * `registry` may throw to say why neither is possible.
 */
export function finishWorld(env: Env, world: Derived, registry: (bases: number[]) => Endpoint[], notes: string[] = []): World {
  const hint = 'set it to the first TCP port of the job\'s port block (every rank the same) or unset it';
  const port = readInt(env, 'COMMUNE_PORT', hint);
  if (port !== undefined && port > 65535) throw new TopologyError(`COMMUNE_PORT=${port} is above 65535; ${hint}`);
  const secret = env['COMMUNE_SECRET'] === '' ? undefined : env['COMMUNE_SECRET'];
  const bindHost = readString(env, 'COMMUNE_HOST');
  const explicit = readString(env, 'COMMUNE_BOOTSTRAP');
  const placed = world.rankNodes.length === world.size && world.nodeHosts.length === world.nodes.length && world.nodes.length > 0;
  const wireUp = explicit !== undefined || !placed ? 'registry' : 'computed';
  let portBases: number[] = [];
  let bootstrap: Endpoint[] = [];
  if (world.size > 1) {
    portBases = port !== undefined && port > 0 ? [port] : planPortBlocks(world.jobId, world.stepId, portBlock(world.rankNodes, world.size));
    if (explicit !== undefined) bootstrap = parseBootstrap(explicit, world.size);
    else if (wireUp === 'registry') bootstrap = registry(portBases);
  }
  return {
    ...world,
    ...(secret !== undefined ? { secret } : {}),
    ...(bindHost !== undefined ? { bindHost } : {}),
    wireUp,
    portBases,
    listenPorts: world.size > 1 ? listenPortsFor(world.rank, bootstrap, rankPorts(portBases, world.localRank)) : [],
    bootstrap,
    ...(notes.length > 0 ? { notes } : {}),
  };
}
