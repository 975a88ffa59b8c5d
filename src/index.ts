// commune's flat runtime: every rank an equal peer; results combined with MPI-style collectives.
import './polyfill.js';
import { Communicator } from './collectives/communicator.js';
import { joinWorld, type JoinOptions } from './world.js';

export type InitOptions = JoinOptions;

/**
 * Joins the world this process was launched into (commune launch, srun, mpirun; a world of one
 * otherwise) and returns its communicator. Every rank calls it; it returns once all ranks are known.
 */
export async function init(options: InitOptions = {}): Promise<Communicator> {
  const mesh = await joinWorld(options);
  return new Communicator(mesh, { timeoutMs: options.timeoutMs });
}

export { Communicator } from './collectives/communicator.js';
export * from './collectives/index.js';
export { Mesh } from './mesh/mesh.js';
export { joinWorld, type JoinOptions } from './world.js';
export * from './errors.js';
export { detectWorld, type World } from '../topology/index.js';
