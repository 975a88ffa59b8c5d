// One round of shared work closed by the fault-tolerant agreement, as the search's first round runs:
// a single unit, done by the first live rank. For fixtures that watch who the agreement counts alive.
import type { Mesh } from '../../src/mesh/mesh.js';
import { runRounds, type RoundsOutcome } from '../../src/search/resilient-rounds.js';

export async function oneRound(rank: number, alive: number[], mesh: Mesh, livenessMs: number): Promise<RoundsOutcome> {
  let done = false;
  return runRounds({ rank, alive, mesh, livenessMs, timeoutMs: 60_000 }, {
    what: 'work',
    pending: () => (done ? [] : [0]),
    share: (pending, _parts, i) => (i === 0 ? [...pending] : []),
    run: async (mine) => mine.length,
    absorb: () => { done = true; },
  });
}
