// A rank started by `commune launch`. The launcher states everything explicitly, so any disagreement between
// its variables means a bug or a hand-edited environment — both are errors.

import { bootstrapHost, finishWorld, rankZeroRegistry } from './common.js';
import { checkRank, readInt, readString, requireInt, type Env } from './env.js';
import { TopologyError } from './errors.js';
import { layoutRanks, localRankOf, nodesOf, ranksOn, tasksOf, type Var } from './layout.js';
import type { Distribution } from './placement.js';
import type { World } from './types.js';

const HINT = 'the commune launcher environment is inconsistent — start ranks with `commune launch`, or unset the COMMUNE_* variables';

function distributionOf(env: Env): Distribution {
  const value = readString(env, 'COMMUNE_DISTRIBUTION') ?? 'block';
  if (value !== 'block' && value !== 'cyclic') {
    throw new TopologyError(`COMMUNE_DISTRIBUTION='${value}' is not 'block' or 'cyclic'; ${HINT}`);
  }
  return value;
}

function varOf(env: Env, name: string): Var | undefined {
  const value = readString(env, name);
  return value === undefined ? undefined : { name, value };
}

export function communeWorld(env: Env, hostname: string): World {
  const rank = readInt(env, 'COMMUNE_RANK', HINT)!;
  const size = requireInt(env, 'COMMUNE_SIZE', `although COMMUNE_RANK=${rank} is`, HINT, 1);
  checkRank(rank, 'COMMUNE_RANK', size, 'COMMUNE_SIZE', HINT);
  const sizeVar: Var = { name: 'COMMUNE_SIZE', value: String(size) };
  const distribution = distributionOf(env);

  const nodesVar = varOf(env, 'COMMUNE_NODES');
  let tasksVar = varOf(env, 'COMMUNE_TASKS_PER_NODE');
  const nodes = nodesVar ? nodesOf(nodesVar) : [];
  if (tasksVar && !nodesVar) {
    throw new TopologyError(`COMMUNE_TASKS_PER_NODE='${tasksVar.value}' is set but COMMUNE_NODES is not; ${HINT}`);
  }
  if (nodesVar && !tasksVar) {
    // One node holds every rank; anything else needs the counts spelled out.
    if (nodes.length > 1) {
      throw new TopologyError(`COMMUNE_NODES lists ${nodes.length} nodes but COMMUNE_TASKS_PER_NODE is not set; ${HINT}`);
    }
    tasksVar = { name: 'COMMUNE_TASKS_PER_NODE', value: String(size) };
  }
  const rankNodes = nodesVar && tasksVar ? layoutRanks(nodes, nodesVar, tasksOf(tasksVar), tasksVar, size, sizeVar, distribution) : [];

  const placedOn = rankNodes.length > 0 ? nodes[rankNodes[rank]!] : undefined;
  const named = readString(env, 'COMMUNE_NODE');
  if (named !== undefined && placedOn !== undefined && named !== placedOn) {
    throw new TopologyError(`COMMUNE_NODE='${named}' but COMMUNE_NODES and COMMUNE_TASKS_PER_NODE place rank ${rank} on '${placedOn}'; ${HINT}`);
  }
  const node = named ?? placedOn ?? hostname;

  const local = readInt(env, 'COMMUNE_LOCAL_RANK', HINT);
  if (local === undefined && rankNodes.length === 0) {
    throw new TopologyError(`COMMUNE_LOCAL_RANK is not set and COMMUNE_NODES is not either, so the local rank is unknown; ${HINT}`);
  }
  const localRank = local ?? localRankOf(rankNodes, rank);
  const onNode = rankNodes.length > 0 ? ranksOn(rankNodes, rankNodes[rank]!) : size;
  if (localRank >= onNode) {
    throw new TopologyError(`COMMUNE_LOCAL_RANK=${localRank} but only ${onNode} rank(s) run on node '${node}'; ${HINT}`);
  }

  const jobId = readString(env, 'COMMUNE_JOB_ID');
  if (jobId === undefined && size > 1 && readString(env, 'COMMUNE_BOOTSTRAP') === undefined) {
    throw new TopologyError(`neither COMMUNE_BOOTSTRAP nor COMMUNE_JOB_ID is set, so rank ${rank} cannot find its peers; ${HINT}`);
  }
  const hostsVar = varOf(env, 'COMMUNE_NODE_HOSTS');
  const nodeHosts = hostsVar ? hostsVar.value.split(',').map((h) => h.trim()) : nodes;
  if (hostsVar && nodeHosts.length !== nodes.length) {
    throw new TopologyError(`COMMUNE_NODE_HOSTS lists ${nodeHosts.length} host(s) but COMMUNE_NODES lists ${nodes.length} node(s); ${HINT}`);
  }

  return finishWorld(env, { launcher: 'commune', rank, size, localRank, node, nodes, rankNodes, nodeHosts, jobId: jobId ?? '', stepId: '0' },
    (bases) => rankZeroRegistry(bootstrapHost(env), bases));
}
