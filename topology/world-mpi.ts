// Ranks started by mpirun (Open MPI) or a PMI launcher (MPICH's Hydra, Intel MPI). Neither tells us the node
// list. When every rank runs on this node (local size = size) the wire-up is still computed, on
// loopback (or COMMUNE_HOST); otherwise ranks register with rank 0, dialled at COMMUNE_BOOTSTRAP_HOST
// (default 127.0.0.1): a multi-node mpirun must set it to rank 0's host (or COMMUNE_BOOTSTRAP explicitly).

import { bootstrapHost, finishWorld, rankZeroRegistry } from './common.js';
import { checkRank, readFirst, readInt, readString, requireInt, type Env } from './env.js';
import { TopologyError } from './errors.js';
import type { Launcher, World } from './types.js';

interface Ids {
  rank: number;
  size: number;
  localRank: number;
  /** Ranks on this node, when the launcher says. */
  localSize?: number;
}

function jobIdOf(env: Env, names: string[], launcher: string, notes: string[]): string {
  const found = readFirst(env, [...names, 'COMMUNE_JOB_ID']);
  if (found) return found.value;
  // Without a job id two concurrent jobs on one node share port candidates; the dial fallback copes, but say so.
  notes.push(`no job id in the ${launcher} environment (${names.join(', ')}); set COMMUNE_JOB_ID to keep concurrent jobs' ports apart`);
  return launcher;
}

function mpiWorld(env: Env, hostname: string, launcher: Launcher, { localSize, ...ids }: Ids, jobId: string, notes: string[]): World {
  const oneNode = localSize === ids.size;
  const nodes = oneNode ? [hostname] : [];
  const nodeHosts = oneNode ? [readString(env, 'COMMUNE_HOST') ?? '127.0.0.1'] : [];
  const rankNodes = oneNode ? new Array<number>(ids.size).fill(0) : [];
  return finishWorld(env, { launcher, ...ids, node: hostname, nodes, rankNodes, nodeHosts, jobId, stepId: '0' },
    (bases) => rankZeroRegistry(bootstrapHost(env), bases), notes);
}

export function ompiWorld(env: Env, hostname: string): World {
  const hint = 'the Open MPI environment is inconsistent — start ranks with mpirun, or unset the OMPI_COMM_WORLD_* variables';
  const rank = readInt(env, 'OMPI_COMM_WORLD_RANK', hint)!;
  const size = requireInt(env, 'OMPI_COMM_WORLD_SIZE', `although OMPI_COMM_WORLD_RANK=${rank} is`, hint, 1);
  checkRank(rank, 'OMPI_COMM_WORLD_RANK', size, 'OMPI_COMM_WORLD_SIZE', hint);
  const localRank = requireInt(env, 'OMPI_COMM_WORLD_LOCAL_RANK', `although OMPI_COMM_WORLD_RANK=${rank} is`, hint);
  const localSize = readInt(env, 'OMPI_COMM_WORLD_LOCAL_SIZE', hint, 1);
  if (localRank >= (localSize ?? size)) {
    throw new TopologyError(`OMPI_COMM_WORLD_LOCAL_RANK=${localRank} is not below the local size ${localSize ?? size}; ${hint}`);
  }
  const notes: string[] = [];
  const jobId = jobIdOf(env, ['OMPI_MCA_ess_base_jobid', 'PMIX_NAMESPACE'], 'ompi', notes);
  return mpiWorld(env, hostname, 'ompi', { rank, size, localRank, localSize }, jobId, notes);
}

export function pmiWorld(env: Env, hostname: string): World {
  const hint = 'the PMI environment is inconsistent — start ranks with your MPI launcher, or unset PMI_RANK';
  const rank = readInt(env, 'PMI_RANK', hint)!;
  const size = requireInt(env, 'PMI_SIZE', `although PMI_RANK=${rank} is`, hint, 1);
  checkRank(rank, 'PMI_RANK', size, 'PMI_SIZE', hint);
  const localVar = readFirst(env, ['MPI_LOCALRANKID', 'PMI_LOCAL_RANK']);
  const localRank = localVar ? readInt(env, localVar.name, hint)! : 0;
  const localSize = readInt(env, 'MPI_LOCALNRANKS', hint, 1);
  if (localRank >= (localSize ?? size)) {
    throw new TopologyError(`${localVar!.name}=${localRank} is not below the local size ${localSize ?? size}; ${hint}`);
  }
  const notes: string[] = [];
  if (!localVar && size > 1) notes.push('neither MPI_LOCALRANKID nor PMI_LOCAL_RANK is set; local rank taken as 0');
  const jobId = jobIdOf(env, ['PMIX_NAMESPACE', 'PMI_JOBID'], 'pmi', notes);
  return mpiWorld(env, hostname, 'pmi', { rank, size, localRank, localSize: localVar ? localSize : undefined }, jobId, notes);
}
