// `commune gridsearch` outside a launched world: N local ranks, started by the launcher in this
// process. This process only starts them: each rank checks the whole input (grid, scorers, data)
// before it computes, as ranks under srun do, and bad input is reported once — the lowest rank's
// one-line message, relayed here without a rank prefix, exit 2. Checking it here first as well kept
// the ranks from starting until this process had loaded the ML code and the data. What only this
// process can check, it checks (the rank count, the interface); with --checkpoint, gridsearch.ts
// checks everything and claims the directory before launching.
import { availableParallelism, hostname, networkInterfaces } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { detectWorld, selectInterface } from '../../topology/index.js';
import { UsageError } from '../errors.js';
import { PROGRESS_PREFIX, progressMode, ProgressView } from '../search/progress.js';
import { RELAY_VARIABLE, RELAYED_PREFIX } from './errors.js';
import { startEpochMs, type GridsearchOptions } from './gridsearch-options.js';

/** Ranks of a local job (`--ranks`, else one per CPU; the co-ordinator adds its scheduler and client). */
export function localRanks(o: GridsearchOptions): number {
  return o.ranks ?? (o.mode === 'coordinator' ? availableParallelism() + 2 : availableParallelism());
}

/** A local co-ordinator job needs its scheduler, its client and a worker. */
export function checkCoordinatorRanks(o: GridsearchOptions): void {
  const ranks = localRanks(o);
  if (o.mode === 'coordinator' && ranks < 3) throw new UsageError(`--ranks ${ranks}: --mode coordinator needs at least 3 ranks (scheduler, client and one worker), e.g. --ranks 4`);
}

/**
 * Runs the job on local ranks when this process is not a rank of a launched world and needs no
 * checking of its own (no --checkpoint, more than one rank); resolves false otherwise.
 */
export async function launchLocal(o: GridsearchOptions): Promise<boolean> {
  if (detectWorld(process.env, hostname()).launcher !== 'single' || o.checkpoint !== undefined) return false;
  const ranks = localRanks(o);
  if (ranks <= 1) return false;
  checkCoordinatorRanks(o);
  // Local ranks all bind on this node: an unknown --interface is reported once, before launching.
  if (o.interface !== undefined) selectInterface(o.interface, networkInterfaces(), hostname());
  process.exitCode = await relaunch(o, ranks);
  return true;
}

/** Runs this command on N local ranks (the launcher, in this process); the printing rank's stdout passes through unprefixed. */
export async function relaunch(o: GridsearchOptions, ranks: number): Promise<number> {
  const main = fileURLToPath(new URL('./main.js', import.meta.url));
  const args = [main, 'gridsearch', '--scoring', o.scoring, '--cv', String(o.cv), '--test-size', String(o.testSize), '--random-state', String(o.randomState)];
  if (o.grid !== undefined) args.push('--grid', resolve(o.grid));
  if (o.json !== undefined) args.push('--json', resolve(o.json));
  if (o.quiet) args.push('--quiet');
  if (o.data !== undefined) args.push('--data', resolve(o.data));
  if (o.checkpoint !== undefined) args.push('--checkpoint', resolve(o.checkpoint));
  if (o.interface !== undefined) args.push('--interface', o.interface);
  args.push('--svm-backend', o.svmBackend ?? 'smo');
  if (o.mode === 'coordinator') args.push('--mode', 'coordinator');
  const { launch } = await import('../launch/launcher.js');
  // The printing rank's progress protocol lines are rendered here (a bar on a TTY), where the terminal is.
  const view = new ProgressView(progressMode(o.quiet, {}));
  let relayed = false;
  try {
    // keepGoing: the flat engine survives lost ranks, so the launcher must not stop the survivors.
    return await launch({
      ranks, nodes: 1, keepGoing: true, command: [process.execPath, ...args],
      env: { COMMUNE_GRIDSEARCH_T0: String(startEpochMs()), COMMUNE_PROGRESS_PIPE: o.quiet ? '0' : '1', [RELAY_VARIABLE]: '1' },
      // Bad input: the rank's own one-line message is relayed below, exit 2; nothing to add.
      quietExitCodes: [2],
      // Only the printing rank (the lowest live one) writes to stdout.
      onLine: (rank, stream, line) => {
        if (stream === 'stderr') {
          if (!line.startsWith(RELAYED_PREFIX)) process.stderr.write(`[${rank}] ${line}\n`);
          else if (!relayed) { relayed = true; process.stderr.write(`${line.slice(RELAYED_PREFIX.length)}\n`); }
          return;
        }
        if (line.startsWith(PROGRESS_PREFIX)) {
          const [d, t] = line.slice(PROGRESS_PREFIX.length).split(' ').map(Number);
          if (Number.isFinite(d) && Number.isFinite(t)) view.update(d, t);
          return;
        }
        view.stop(); // the results follow the search: the bar is done
        process.stdout.write(line + '\n');
      },
    });
  } finally {
    view.stop();
  }
}
