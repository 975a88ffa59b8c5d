import { msSetting } from './settings.js';
import './polyfill.js';
import { hostname, networkInterfaces } from 'node:os';
import { lookup } from 'node:dns/promises';
import { detectWorld, selectInterface, type World } from '../topology/index.js';
import { UsageError } from './errors.js';
import { Mesh } from './mesh/mesh.js';
import { unsupportedNode } from './node-version.js';
import { resolveSecret } from './mesh/secret.js';

export interface JoinOptions {
  /** Network interface to bind (like dask-mpi's `interface=`), e.g. 'ib0'. */
  interface?: string;
  /** Default deadline for every receive and collective, ms. */
  timeoutMs?: number;
  /** Deadline for the whole start-up, ms. */
  startupTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** The address this rank binds: launcher's choice, else the named interface, else its node name's address. */
async function bindAddress(world: World, iface: string | undefined): Promise<string | undefined> {
  if (iface) return selectInterface(iface, networkInterfaces(), world.node);
  if (world.bindHost) return world.bindHost;
  if (world.nodes.length > 1) {
    // On a cluster (or the local Slurm test cluster) a node's name resolves to the address peers reach it at.
    try { return (await lookup(world.node, { family: 4 })).address; } catch { return '0.0.0.0'; }
  }
  return undefined;
}

/** Detects the world from the environment and joins its mesh (a world of one joins nothing). */
export async function joinWorld(opts: JoinOptions = {}): Promise<Mesh> {
  const tooOld = unsupportedNode();
  if (tooOld) throw new UsageError(tooOld);
  const env = opts.env ?? process.env;
  const world = detectWorld(env, hostname());
  const host = await bindAddress(world, opts.interface);
  const secret = world.size > 1 ? resolveSecret({ secret: world.secret, jobId: world.jobId, stepId: world.stepId, env }) : '';
  const startupTimeoutMs = opts.startupTimeoutMs ?? msSetting(env, 'COMMUNE_STARTUP_TIMEOUT_MS', 60_000);
  const timeoutMs = opts.timeoutMs ?? msSetting(env, 'COMMUNE_TIMEOUT_MS', 60_000);
  return Mesh.start({ world, secret, host, startupTimeoutMs, timeoutMs });
}
