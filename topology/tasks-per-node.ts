// Slurm's tasks-per-node syntax (SLURM_TASKS_PER_NODE, SLURM_STEP_TASKS_PER_NODE): `2(x3),1` → [2, 2, 2, 1].

import { TopologyError } from './errors.js';

/** Expand a tasks-per-node spec into one count per node, in node-id order. */
export function expandTasksPerNode(spec: string): number[] {
  const counts: number[] = [];
  let column = 1;
  for (const item of spec.split(',')) {
    const m = /^(\d+)(?:\(x(\d+)\))?$/.exec(item.trim());
    if (!m) {
      throw new TopologyError(
        `invalid tasks-per-node '${spec}': item '${item}' at column ${column} is not N or N(xM), as in '2(x3),1'`,
      );
    }
    const tasks = Number(m[1]);
    const repeat = m[2] === undefined ? 1 : Number(m[2]);
    if (repeat < 1 || !Number.isSafeInteger(tasks) || !Number.isSafeInteger(repeat) || counts.length + repeat > 1 << 20) {
      throw new TopologyError(`invalid tasks-per-node '${spec}': item '${item}' at column ${column} has an impossible count`);
    }
    for (let i = 0; i < repeat; i++) counts.push(tasks);
    column += item.length + 1;
  }
  return counts;
}
