// Node list + tasks per node + distribution → node of every rank, with errors that name the variables involved.

import { TopologyError } from './errors.js';
import { expandHostlist } from './hostlist.js';
import { placeRanks, type Distribution } from './placement.js';
import { expandTasksPerNode } from './tasks-per-node.js';

/** A launch variable's name and value, carried together so messages can quote both. */
export interface Var {
  name: string;
  value: string;
}

function within<T>(v: Var, parse: (value: string) => T): T {
  try {
    return parse(v.value);
  } catch (e) {
    if (e instanceof TopologyError) throw new TopologyError(`${v.name}: ${e.message}`);
    throw e;
  }
}

export function nodesOf(v: Var): string[] {
  const nodes = within(v, expandHostlist);
  if (nodes.length === 0) throw new TopologyError(`${v.name}='${v.value}' lists no nodes`);
  return nodes;
}

export function tasksOf(v: Var): number[] {
  return within(v, expandTasksPerNode);
}

/** Check the node list, tasks per node and size agree, then place the ranks. */
export function layoutRanks(
  nodes: string[],
  nodesVar: Var,
  tasks: number[],
  tasksVar: Var,
  size: number,
  sizeVar: Var,
  distribution: Distribution,
): number[] {
  if (tasks.length !== nodes.length) {
    throw new TopologyError(
      `${tasksVar.name}='${tasksVar.value}' describes ${tasks.length} node(s) but ${nodesVar.name}='${nodesVar.value}' lists ${nodes.length}; the launcher's variables disagree — relaunch the job`,
    );
  }
  const total = tasks.reduce((a, b) => a + b, 0);
  if (total !== size) {
    throw new TopologyError(
      `${tasksVar.name}='${tasksVar.value}' adds up to ${total} tasks but ${sizeVar.name}=${sizeVar.value}; the launcher's variables disagree — relaunch the job`,
    );
  }
  return placeRanks(tasks, distribution);
}

/** Position of `rank` among the ranks on its node, in rank order (how launchers number local ranks). */
export function localRankOf(rankNodes: number[], rank: number): number {
  let local = 0;
  for (let r = 0; r < rank; r++) if (rankNodes[r] === rankNodes[rank]) local++;
  return local;
}

/** Ranks placed on `node`. */
export function ranksOn(rankNodes: number[], node: number): number {
  return rankNodes.filter((n) => n === node).length;
}

/** Ranks sharing this rank's node when the placement is known, else the whole world (the cautious guess). */
export function ranksOnThisNode(world: { rank: number; size: number; rankNodes: number[] }): number {
  return world.rankNodes.length === world.size ? ranksOn(world.rankNodes, world.rankNodes[world.rank]) : world.size;
}
