import { CommuneError } from '../errors.js';
import { TopologyError } from '../../topology/index.js';

/** Prints one clear line for a known error and exits with its code (2 for bad input); rethrows the rest. */
export function exitOnError(e: unknown): never {
  if (e instanceof CommuneError || e instanceof TopologyError) {
    process.stderr.write(`commune: ${e.message}\n`);
    process.exit(e.exitCode);
  }
  process.stderr.write(`commune: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
}
