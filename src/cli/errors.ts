import { CommuneError } from '../errors.js';
import { TopologyError } from '../../topology/index.js';

/** Set by a local launch (gridsearch-local.ts) for its ranks: their bad-input message is passed on as is. */
export const RELAY_VARIABLE = 'COMMUNE_RELAY_USAGE';
/** Marks that message on the rank's stderr (a record separator: never the start of ordinary output). */
export const RELAYED_PREFIX = '\u001ecommune-usage ';

/** Prints one clear line for a known error and exits with its code (2 for bad input); rethrows the rest. */
export function exitOnError(e: unknown): never {
  if (e instanceof CommuneError || e instanceof TopologyError) {
    const relay = e.exitCode === 2 && process.env[RELAY_VARIABLE] === '1' ? RELAYED_PREFIX : '';
    process.stderr.write(`${relay}commune: ${e.message}\n`);
    process.exit(e.exitCode);
  }
  process.stderr.write(`commune: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
}
