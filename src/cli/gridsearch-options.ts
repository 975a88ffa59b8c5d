// `commune gridsearch`'s options and their parsers: what the command line needs before anything heavy
// loads (main.ts and gridsearch-local.ts import this, not gridsearch.ts).
import { InvalidArgumentError } from 'commander';
import { MAX_LOCAL_RANKS } from '../launch/plan.js';
import type { SVCBackend } from '../ml/index.js';

export const SEED_SCORING = ['precision_macro', 'recall_macro'];

export interface GridsearchOptions {
  ranks?: number;
  grid?: string;
  scoring: string;
  cv: number;
  testSize: number;
  randomState: number;
  json?: string;
  quiet?: boolean;
  data?: string;
  svmBackend: SVCBackend;
  interface?: string;
  checkpoint?: string;
  /** flat (every rank a peer, default) or coordinator (commune/compat: scheduler, client, workers). */
  mode?: 'flat' | 'coordinator';
}

// ---- option parsers (commander: a thrown InvalidArgumentError prints one line and exits 2) --------

export function parseCv(v: string): number {
  const n = Number(v);
  if (!/^\s*\d+\s*$/.test(v) || !Number.isInteger(n) || n < 2) throw new InvalidArgumentError(`--cv must be an integer of at least 2 (number of folds), got '${v}'`);
  return n;
}

export function parseTestSize(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0 || n >= 1) throw new InvalidArgumentError(`--test-size must be a fraction strictly between 0 and 1, got '${v}'`);
  return n;
}

export function parseRandomState(v: string): number {
  const n = Number(v);
  if (!/^\s*\d+\s*$/.test(v) || !Number.isSafeInteger(n) || n > 2 ** 32 - 1) throw new InvalidArgumentError(`--random-state must be an integer between 0 and 2**32 - 1, got '${v}'`);
  return n;
}

export function parseRanks(v: string): number {
  const n = Number(v);
  if (!/^\s*\d+\s*$/.test(v) || !Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`--ranks must be a positive integer, got '${v}'`);
  if (n > MAX_LOCAL_RANKS) throw new InvalidArgumentError(`--ranks ${n}: a local job starts at most ${MAX_LOCAL_RANKS} ranks (one Node process each); for more, run gridsearch under srun or mpirun`);
  return n;
}

/** When the job started (ms since the epoch): the driver's start when relaunched, else this process's. */
export function startEpochMs(): number {
  const t = Number(process.env.COMMUNE_GRIDSEARCH_T0);
  return Number.isFinite(t) && t > 0 ? t : performance.timeOrigin;
}
