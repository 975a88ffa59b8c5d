// What every launcher shares: COMMUNE_SECRET, COMMUNE_HOST, COMMUNE_PORT and COMMUNE_BOOTSTRAP are honoured
// whichever launcher started the rank, so a site can always override what detection derived.

import { listenPortsFor, parseBootstrap } from './bootstrap.js';
import { TopologyError } from './errors.js';
import { readInt, readString, type Env } from './env.js';
import type { Endpoint, World } from './types.js';

/** Where rank 0 is dialled when the launcher gives no node list; multi-node mpirun must set COMMUNE_BOOTSTRAP_HOST. */
export const DEFAULT_BOOTSTRAP_HOST = '127.0.0.1';

export function bootstrapHost(env: Env): string {
  return readString(env, 'COMMUNE_BOOTSTRAP_HOST') ?? DEFAULT_BOOTSTRAP_HOST;
}

/** Explicit COMMUNE_BOOTSTRAP wins; a world of one needs none; otherwise the launcher-specific plan. */
export function chooseBootstrap(env: Env, size: number, plan: () => Endpoint[]): Endpoint[] {
  const explicit = readString(env, 'COMMUNE_BOOTSTRAP');
  if (explicit !== undefined) return parseBootstrap(explicit, size);
  return size === 1 ? [] : plan();
}

type Derived = Omit<World, 'secret' | 'bindHost' | 'listenPorts' | 'notes'>;

/** Add the launcher-independent fields. */
export function finishWorld(env: Env, world: Derived, notes: string[] = []): World {
  const port = readInt(env, 'COMMUNE_PORT', 'set it to a TCP port (0 = any free port) or unset it');
  if (port !== undefined && port > 65535) {
    throw new TopologyError(`COMMUNE_PORT=${port} is above 65535; set it to a TCP port (0 = any free port) or unset it`);
  }
  const secret = env['COMMUNE_SECRET'] === '' ? undefined : env['COMMUNE_SECRET'];
  const bindHost = readString(env, 'COMMUNE_HOST');
  return {
    ...world,
    ...(secret !== undefined ? { secret } : {}),
    ...(bindHost !== undefined ? { bindHost } : {}),
    listenPorts: listenPortsFor(world.rank, world.bootstrap, port),
    ...(notes.length > 0 ? { notes } : {}),
  };
}
