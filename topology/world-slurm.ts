// A task started by srun. Only SLURM_PROCID marks a task: an sbatch script also has SLURM_JOB_ID and friends
// but is not a rank. Step-level variables win over job-level ones, since a step may use part of the allocation.

import { finishWorld } from './common.js';
import { checkRank, readFirst, readInt, type Env } from './env.js';
import { TopologyError } from './errors.js';
import { layoutRanks, localRankOf, nodesOf, ranksOn, tasksOf } from './layout.js';
import { parseSlurmDistribution } from './placement.js';
import type { World } from './types.js';

const HINT = 'the Slurm task environment is inconsistent — start ranks with srun inside an allocation, or unset SLURM_PROCID when not running under srun';

export function slurmWorld(env: Env, hostname: string): World {
  const rank = readInt(env, 'SLURM_PROCID', HINT)!;
  const sizeVar = readFirst(env, ['SLURM_STEP_NUM_TASKS', 'SLURM_NTASKS']);
  if (!sizeVar) {
    throw new TopologyError(`SLURM_PROCID=${rank} is set but neither SLURM_STEP_NUM_TASKS nor SLURM_NTASKS is; ${HINT}`);
  }
  const size = readInt(env, sizeVar.name, HINT, 1)!;
  checkRank(rank, 'SLURM_PROCID', size, sizeVar.name, HINT);

  const nodesVar = readFirst(env, ['SLURM_STEP_NODELIST', 'SLURM_JOB_NODELIST', 'SLURM_NODELIST']);
  const tasksVar = readFirst(env, ['SLURM_STEP_TASKS_PER_NODE', 'SLURM_TASKS_PER_NODE']);
  const nodes = nodesVar ? nodesOf(nodesVar) : [];
  const choice = parseSlurmDistribution(env['SLURM_DISTRIBUTION']);
  const notes = choice.note ? [choice.note] : [];

  let rankNodes: number[] = [];
  if (nodesVar && tasksVar && choice.distribution !== 'arbitrary') {
    rankNodes = layoutRanks(nodes, nodesVar, tasksOf(tasksVar), tasksVar, size, sizeVar, choice.distribution);
  }

  const nodeId = readInt(env, 'SLURM_NODEID', HINT);
  if (nodeId !== undefined && nodesVar && nodeId >= nodes.length) {
    throw new TopologyError(`SLURM_NODEID=${nodeId} but ${nodesVar.name}='${nodesVar.value}' lists only ${nodes.length} node(s); ${HINT}`);
  }
  if (nodeId !== undefined && rankNodes.length > 0 && rankNodes[rank] !== nodeId) {
    throw new TopologyError(
      `SLURM_PROCID=${rank} should run on node ${rankNodes[rank]} (${nodes[rankNodes[rank]!]}) under ${choice.distribution} placement of ` +
        `${tasksVar!.name}='${tasksVar!.value}', but SLURM_NODEID=${nodeId}; check SLURM_DISTRIBUTION ('${env['SLURM_DISTRIBUTION'] ?? ''}') ` +
        `or set COMMUNE_BOOTSTRAP explicitly`,
    );
  }

  const myNode = nodeId ?? (rankNodes.length > 0 ? rankNodes[rank] : undefined);
  const localId = readInt(env, 'SLURM_LOCALID', HINT);
  if (localId === undefined && rankNodes.length === 0) {
    throw new TopologyError(`SLURM_LOCALID is not set and the placement is unknown, so the local rank cannot be derived; ${HINT}`);
  }
  const localRank = localId ?? localRankOf(rankNodes, rank);
  if (rankNodes.length > 0 && myNode !== undefined && localRank >= ranksOn(rankNodes, myNode)) {
    throw new TopologyError(
      `SLURM_LOCALID=${localRank} but node ${myNode} (${nodes[myNode]}) runs only ${ranksOn(rankNodes, myNode)} task(s) per ${tasksVar!.name}='${tasksVar!.value}'; ${HINT}`,
    );
  }
  if (localRank >= size) throw new TopologyError(`SLURM_LOCALID=${localRank} is not below ${sizeVar.name}=${size}; ${HINT}`);

  const jobId = readFirst(env, ['SLURM_JOB_ID', 'SLURM_JOBID'])?.value;
  const stepId = readFirst(env, ['SLURM_STEP_ID', 'SLURM_STEPID'])?.value;
  const registry = (): never => {
    const missing = [
      ...(nodesVar ? [] : ['SLURM_STEP_NODELIST']),
      ...(tasksVar ? [] : ['SLURM_STEP_TASKS_PER_NODE']),
      ...(jobId !== undefined ? [] : ['SLURM_JOB_ID']),
      ...(stepId !== undefined ? [] : ['SLURM_STEP_ID']),
    ];
    if (choice.distribution === 'arbitrary') {
      throw new TopologyError(
        `SLURM_DISTRIBUTION=arbitrary places ranks from a host file commune cannot see, so where each rank listens is unknown; ` +
          `set COMMUNE_BOOTSTRAP=rank@host:port,... or use block or cyclic distribution`,
      );
    }
    throw new TopologyError(`cannot compute where the ranks listen: ${missing.join(', ')} not set; ${HINT}, or set COMMUNE_BOOTSTRAP=rank@host:port,...`);
  };
  if (size > 1 && readFirst(env, ['COMMUNE_BOOTSTRAP']) === undefined && (jobId === undefined || stepId === undefined)) registry();

  const node = readFirst(env, ['SLURMD_NODENAME'])?.value ?? (myNode !== undefined ? nodes[myNode] : undefined) ?? hostname;
  return finishWorld(
    env,
    { launcher: 'slurm', rank, size, localRank, node, nodes, rankNodes, nodeHosts: nodes, jobId: jobId ?? '', stepId: stepId ?? '' },
    registry,
    notes,
  );
}
