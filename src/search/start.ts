// The first agreement of a flat search (DESIGN.md "Start-up of a flat world", step 4), fault tolerant
// like the ones that close each round: every rank contributes the hash of its configuration and, with
// --checkpoint, the records it read from the directory (on a cluster a shared file system; every rank
// reads it, so no single rank is needed). A configuration mismatch stops every rank with the same
// message; a rank lost here is simply not part of the search.
import { agree } from '../collectives/tree-agreement.js';
import { UsageError } from '../errors.js';
import type { Mesh } from '../mesh/mesh.js';
import type { TaskRecord } from '../ml/index.js';
import { claimCheckpointDir, readCheckpoint } from './checkpoint.js';
import { assertSameConfiguration, configHash, describeConfig, type SearchConfiguration } from './config.js';
import { packRecords, unpackRecords, type PackedRecords } from './flat-engine.js';
import { livenessMs } from './resilient-rounds.js';
import { rankLogger } from '../log.js';

export interface StartWorld { rank: number; size: number; mesh?: Mesh; timeoutMs?: number }

export interface Start {
  hash: string;
  /** The ranks that agreed, ascending. */
  alive: number[];
  /** Records from the checkpoint directory (empty without one). */
  done: TaskRecord[];
}

interface Contribution { hash: string; summary: string; ck?: { error?: string; records?: PackedRecords } }

/** Collective over the world: agree on the configuration (and the checkpoint) before any work. */
export async function agreeOnStart(world: StartWorld, c: SearchConfiguration, checkpoint?: { dir: string; nScorers: number }): Promise<Start> {
  const hash = configHash(c);
  const summary = describeConfig(c);
  const mine: Contribution = { hash, summary };
  if (checkpoint) {
    try {
      claimCheckpointDir(checkpoint.dir, hash, summary);
      // Every rank reads the same files; rank 0 says what it skipped, once.
      const log = world.rank === 0 ? rankLogger(world.rank, 'checkpoint') : undefined;
      const damaged = (file: string, line: number | undefined, why: string): void => {
        log?.warn({ file, line }, `checkpoint ${file}${line === undefined ? '' : ` line ${line}`}: ${why} — skipped; its fit is redone`);
      };
      mine.ck = { records: packRecords(readCheckpoint(checkpoint.dir, hash, damaged).filter((r) => r.scores.length === checkpoint.nScorers), checkpoint.nScorers) };
    } catch (e) {
      mine.ck = { error: (e as Error).message };
    }
  }
  const all = Array.from({ length: world.size }, (_, r) => r);
  const ag = world.mesh && world.size > 1
    ? await agree(world.mesh, { members: all, payload: mine, livenessMs: livenessMs(), timeoutMs: world.timeoutMs ?? 600_000, what: 'start-up agreement' })
    : { alive: [world.rank], payloads: new Map([[world.rank, mine]]) };
  const gathered: Contribution[] = [];
  for (const [r, p] of ag.payloads) gathered[r] = p;
  assertSameConfiguration(gathered);
  // Every rank read the same directory before anyone could append to it; the lowest rank's view counts.
  const first = gathered[ag.alive[0]].ck;
  if (first?.error !== undefined) throw new UsageError(first.error);
  return { hash, alive: ag.alive, done: first?.records ? unpackRecords(first.records, checkpoint!.nScorers) : [] };
}
