// Strict readers for launch variables: a value that is present but wrong is an error naming the variable,
// its value and what to do — never silently replaced by a default.

import { TopologyError } from './errors.js';

export type Env = Record<string, string | undefined>;

/** The variable's trimmed value, or undefined when unset or blank. */
export function readString(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** The first of `names` that is set, with its name (for messages). */
export function readFirst(env: Env, names: string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = readString(env, name);
    if (value !== undefined) return { name, value };
  }
  return undefined;
}

/** A non-negative integer (at least `min`), or undefined when unset. */
export function readInt(env: Env, name: string, hint: string, min = 0): number | undefined {
  const raw = readString(env, name);
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw)) || Number(raw) < min) {
    const kind = min === 0 ? 'a non-negative integer' : `an integer ≥ ${min}`;
    throw new TopologyError(`${name}='${env[name]}' is not ${kind}; ${hint}`);
  }
  return Number(raw);
}

/** Like readInt, but the variable must be set. */
export function requireInt(env: Env, name: string, why: string, hint: string, min = 0): number {
  const value = readInt(env, name, hint, min);
  if (value === undefined) throw new TopologyError(`${name} is not set, ${why}; ${hint}`);
  return value;
}

/** The largest world commune plans for (per-rank tables are sized by it). */
export const MAX_WORLD_SIZE = 1 << 20;

/** Rank and size must agree; every launcher checks this the same way. */
export function checkRank(rank: number, rankVar: string, size: number, sizeVar: string, hint: string): void {
  if (size > MAX_WORLD_SIZE) throw new TopologyError(`${sizeVar}=${size}: worlds of more than ${MAX_WORLD_SIZE} ranks are not supported; ${hint}`);
  if (rank >= size) {
    throw new TopologyError(`${rankVar}=${rank} is not below ${sizeVar}=${size} (ranks are 0..${size - 1}); ${hint}`);
  }
}
