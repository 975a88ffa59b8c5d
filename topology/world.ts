// Which launcher started this process, and the world it describes. Pure: the environment and host name are
// arguments, so every case can be tested without launching anything.

import { finishWorld } from './common.js';
import { readString, type Env } from './env.js';
import { TopologyError } from './errors.js';
import type { World } from './types.js';
import { communeWorld } from './world-commune.js';
import { ompiWorld, pmiWorld } from './world-mpi.js';
import { slurmWorld } from './world-slurm.js';

/** A size without a rank is a half-written environment: refuse rather than run as a world of one. */
function refuseOrphanSize(env: Env, sizeVar: string, rankVar: string): void {
  if (readString(env, sizeVar) !== undefined && readString(env, rankVar) === undefined) {
    throw new TopologyError(`${sizeVar}=${env[sizeVar]} is set but ${rankVar} is not; set both (the launcher does) or neither`);
  }
}

/**
 * Detect the world from the environment, in this order: commune's launcher (COMMUNE_RANK), Slurm
 * (SLURM_PROCID — an sbatch script has SLURM_JOB_ID but is not a task), Open MPI (OMPI_COMM_WORLD_RANK),
 * PMI (PMI_RANK), else a world of one on `hostname` (pass os.hostname()).
 */
export function detectWorld(env: Env, hostname = 'localhost'): World {
  refuseOrphanSize(env, 'COMMUNE_SIZE', 'COMMUNE_RANK');
  if (readString(env, 'COMMUNE_RANK') !== undefined) return communeWorld(env, hostname);
  if (readString(env, 'SLURM_PROCID') !== undefined) return slurmWorld(env, hostname);
  refuseOrphanSize(env, 'OMPI_COMM_WORLD_SIZE', 'OMPI_COMM_WORLD_RANK');
  if (readString(env, 'OMPI_COMM_WORLD_RANK') !== undefined) return ompiWorld(env, hostname);
  refuseOrphanSize(env, 'PMI_SIZE', 'PMI_RANK');
  if (readString(env, 'PMI_RANK') !== undefined) return pmiWorld(env, hostname);
  return finishWorld(env, {
    launcher: 'single',
    rank: 0,
    size: 1,
    localRank: 0,
    node: hostname,
    nodes: [hostname],
    rankNodes: [0],
    nodeHosts: [readString(env, 'COMMUNE_HOST') ?? '127.0.0.1'],
    jobId: readString(env, 'COMMUNE_JOB_ID') ?? '',
    stepId: '0',
  }, () => []);
}
