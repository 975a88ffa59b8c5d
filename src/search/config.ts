// Configuration agreement (DESIGN.md "Start-up of a flat world", step 4): before any work, the ranks
// agree on a hash of their configuration (grid, scorers, cv, test size, random state, data, SVM
// backend; start.ts). A mismatch stops every rank with the same message, naming which ranks differ (exit 2).
import { createHash } from 'node:crypto';
import { UsageError } from '../errors.js';
import type { Matrix, ParamGridSpec } from '../ml/index.js';

/** Everything that determines the results of a search. */
export interface SearchConfiguration {
  grid: ParamGridSpec[];
  scoring: string[];
  cv: number;
  testSize: number;
  randomState: number;
  /** sha256 of the data (dataHash). */
  data: string;
  svmBackend: string;
}

/** JSON with object keys sorted, so equal configurations serialise identically. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  if (typeof v === 'number' && !Number.isFinite(v)) return JSON.stringify(String(v));
  return JSON.stringify(v);
}

/** sha256 (hex) of a data set: shape, feature values and labels, as bytes. */
export function dataHash(X: Matrix, y: Int32Array): string {
  const h = createHash('sha256');
  h.update(Uint32Array.of(X.rows, X.cols));
  h.update(new Uint8Array(X.data.buffer, X.data.byteOffset, X.data.byteLength));
  h.update(new Uint8Array(y.buffer, y.byteOffset, y.byteLength));
  return h.digest('hex');
}

/** sha256 (hex) of the canonical configuration. */
export function configHash(c: SearchConfiguration): string {
  return createHash('sha256').update(canonicalJson(c)).digest('hex');
}

/** A short human summary of what differs, for the mismatch message. */
export function describeConfig(c: SearchConfiguration): string {
  return `grid=${canonicalJson(c.grid)} scoring=${c.scoring.join(',')} cv=${c.cv} test-size=${c.testSize} random-state=${c.randomState} data=${c.data.slice(0, 12)} svm-backend=${c.svmBackend}`;
}

export class ConfigMismatchError extends UsageError {}

/** What each rank contributes to the configuration check: its hash and a readable summary. */
export interface ConfigCheck { hash: string; summary: string }

/** Throws the same ConfigMismatchError on every rank that gathered the same (sparse, by rank) checks. */
export function assertSameConfiguration(gathered: ReadonlyArray<ConfigCheck>): void {
  const msg = mismatchMessage(gathered);
  if (msg !== undefined) throw new ConfigMismatchError(msg);
}

function rankList(ranks: number[]): string {
  return `${ranks.length === 1 ? 'rank' : 'ranks'} ${ranks.join(', ')}`;
}

/**
 * The mismatch message for the gathered configurations, or undefined when all agree. A pure function
 * of the gathered list, so every rank computes the same message.
 */
export function mismatchMessage(gathered: ReadonlyArray<{ hash: string; summary: string }>): string | undefined {
  // (A sparse list: ranks lost before agreeing have no entry.)
  const byHash = new Map<string, number[]>();
  gathered.forEach((g, rank) => { const l = byHash.get(g.hash) ?? []; l.push(rank); byHash.set(g.hash, l); });
  if (byHash.size <= 1) return undefined;
  // The group holding rank 0 is the reference; every other group is listed as differing from it.
  const groups = [...byHash.values()].sort((a, b) => a[0] - b[0]);
  const [ref, ...others] = groups;
  const lines = groups.map((ranks) => `  ${rankList(ranks)}: ${gathered[ranks[0]].summary} (hash ${gathered[ranks[0]].hash.slice(0, 12)})`);
  return `configuration mismatch: ${others.map(rankList).join('; ')} ${others.flat().length === 1 ? 'was' : 'were'} started with a different configuration from ${rankList(ref)} — ` +
    `start every rank with the same options and data:\n${lines.join('\n')}`;
}
