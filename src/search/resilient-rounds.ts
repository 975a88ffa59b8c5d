// Work shared among the live ranks in rounds, each closed by a fault-tolerant agreement
// (collectives/tree-agreement.ts): round 0 splits all the units; if ranks died, the survivors
// agree on who is left and on every survivor's results, and the next round splits only the units
// still missing (the dead ranks' share, including results they computed but never delivered) over the
// survivors. State absorbed from agreed payloads is identical on every survivor, so every survivor
// plans the next round identically without further talk. Used for the search and for the refits.
import { agree } from '../collectives/tree-agreement.js';
import type { Mesh } from '../mesh/mesh.js';
import { UsageError } from '../errors.js';

export interface Survivors {
  rank: number;
  /** The live ranks, ascending (this rank among them). */
  alive: readonly number[];
  /** undefined: a world of one; a promise: the mesh still joins (awaited before the first agreement). */
  mesh?: Mesh | Promise<Mesh>;
  /** A rank silent this long is pinged, and evicted when it does not answer within as long again. */
  livenessMs: number;
  /** Deadline of one agreement. */
  timeoutMs: number;
}

export interface RoundsJob<P> {
  /** Names the work in messages ("search"). */
  what: string;
  /** Units still to do; a function of absorbed state only, so identical on every survivor. */
  pending(): number[];
  /** The units of part `index` when `parts` live ranks share `pending`. */
  share(pending: readonly number[], parts: number, index: number): number[];
  /** Runs this rank's units; the result is this rank's payload. */
  run(units: readonly number[], round: number): Promise<P>;
  /**
   * Takes every survivor's payload of a round, ascending by rank, and the ranks found dead in it (may
   * throw: every survivor throws alike).
   */
  absorb(payloads: ReadonlyArray<[number, P]>, round: number, lost: readonly number[]): void;
}

export interface RoundsOutcome {
  alive: number[];
  /** Ranks found dead, in the order agreed. */
  lost: number[];
  rounds: number;
}

/** Collective over `world.alive`: returns once every unit is done by somebody still alive. */
export async function runRounds<P>(world: Survivors, job: RoundsJob<P>): Promise<RoundsOutcome> {
  let alive = [...world.alive];
  const lost: number[] = [];
  for (let round = 0; ; round++) {
    const since = Date.now();
    const mine = job.share(job.pending(), alive.length, alive.indexOf(world.rank));
    const payload = await job.run(mine, round);
    const what = `${job.what} round ${round}`;
    const mesh = alive.length > 1 ? await world.mesh : undefined;
    const ag = mesh
      ? await agree(mesh, { members: alive, payload, livenessMs: world.livenessMs, timeoutMs: world.timeoutMs, what, since })
      : { alive, lost: [], payloads: new Map([[world.rank, payload]]) };
    lost.push(...ag.lost);
    alive = ag.alive;
    job.absorb([...ag.payloads].sort((a, b) => a[0] - b[0]), round, ag.lost);
    if (job.pending().length === 0) return { alive, lost, rounds: round + 1 };
  }
}

/** COMMUNE_LIVENESS_MS, default 5 s: how long a rank may stay silent before it is pinged. */
export function livenessMs(env: Record<string, string | undefined> = process.env): number {
  const raw = env.COMMUNE_LIVENESS_MS;
  if (raw === undefined || raw === '') return 5000;
  const v = Number(raw);
  if (!/^\s*\d+\s*$/.test(raw) || !(v > 0)) throw new UsageError(`COMMUNE_LIVENESS_MS must be a positive whole number of milliseconds, got '${raw}'`);
  return v;
}
