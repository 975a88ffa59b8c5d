// Rank → node placement with Slurm's semantics, so every rank computes the same map from the environment alone.

import { TopologyError } from './errors.js';

export type Distribution = 'block' | 'cyclic';

/** How Slurm places tasks on nodes; 'arbitrary' means the map comes from a host file we cannot see. */
export interface DistributionChoice {
  distribution: Distribution | 'arbitrary';
  /** Set when the value was approximated or not understood, to surface in logs. */
  note?: string;
}

/**
 * Node index of each rank. block: node 0 is filled first, then node 1, ...
 * cyclic: ranks are dealt round-robin over the nodes that still have room (Slurm's _task_layout_cyclic).
 */
export function placeRanks(tasksPerNode: number[], distribution: Distribution): number[] {
  tasksPerNode.forEach((n, i) => {
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new TopologyError(`tasks per node: node ${i} has ${n} tasks; every count must be a non-negative integer`);
    }
  });
  const placed: number[] = [];
  if (distribution === 'block') {
    tasksPerNode.forEach((n, node) => {
      for (let i = 0; i < n; i++) placed.push(node);
    });
    return placed;
  }
  if (distribution !== 'cyclic') {
    throw new TopologyError(`unknown distribution '${String(distribution)}'; use 'block' or 'cyclic'`);
  }
  const left = [...tasksPerNode];
  const total = left.reduce((a, b) => a + b, 0);
  while (placed.length < total) {
    for (let node = 0; node < left.length; node++) {
      if (left[node]! > 0) {
        left[node]!--;
        placed.push(node);
      }
    }
  }
  return placed;
}

/**
 * Read SLURM_DISTRIBUTION (`block`, `cyclic:block`, `plane=4`, `arbitrary`, `block,pack` ...).
 * Only the first component decides which node a task lands on; the rest is about sockets and cores.
 */
export function parseSlurmDistribution(value: string | undefined): DistributionChoice {
  if (value === undefined || value.trim() === '') return { distribution: 'block' };
  const first = value.trim().split(',')[0]!.split(':')[0]!.toLowerCase();
  switch (first) {
    case 'block':
    case '*': // Slurm's "default" placeholder, and the default is block
      return { distribution: 'block' };
    case 'cyclic':
      return { distribution: 'cyclic' };
    case 'arbitrary':
      return { distribution: 'arbitrary' };
    default:
      if (first.startsWith('plane')) {
        return {
          distribution: 'block',
          note: `SLURM_DISTRIBUTION=${value}: plane placement is treated as block; if start-up cannot find the bootstrap ranks, run with --distribution=block or set COMMUNE_BOOTSTRAP`,
        };
      }
      return { distribution: 'block', note: `SLURM_DISTRIBUTION=${value} is not understood; assuming block placement` };
  }
}
