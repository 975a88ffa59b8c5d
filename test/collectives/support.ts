import { Communicator, type CommunicatorOptions } from '../../src/collectives/communicator.js';
import type { Mesh } from '../../src/mesh/mesh.js';

/** Runs `fn` with environment variables set, restoring them afterwards (overrides are read at construction). */
export function withEnv<T>(vars: Record<string, string | undefined>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  try {
    return fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
}

/** One communicator per mesh, built with `vars` in the environment (created in the same order on every rank). */
export function communicators(meshes: Mesh[], vars: Record<string, string | undefined> = {}, opts: CommunicatorOptions = {}): Communicator[] {
  return withEnv(vars, () => meshes.map((m) => new Communicator(m, opts)));
}

/** Runs `fn` on every rank at once. */
export function onAll<T>(comms: Communicator[], fn: (c: Communicator) => Promise<T>): Promise<T[]> {
  return Promise.all(comms.map(fn));
}

export function bytesOf(a: ArrayBufferView): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

export const DTYPES = [Float64Array, Float32Array, Int32Array, Uint8Array, BigInt64Array] as const;
export type Dtype = (typeof DTYPES)[number];

export const PS = [1, 2, 3, 4, 5, 7, 8];
/** The count matrix of the issue, without 2^20 (a separate, smaller test covers it). */
export const counts = (p: number): number[] => [...new Set([0, 1, 4, Math.max(0, p - 1), 100, 10000])];
