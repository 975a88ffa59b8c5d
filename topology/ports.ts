// The port plan. Every rank computes the same candidates from (job, step) alone, so no co-ordinator is
// needed; different jobs or steps sharing a node get different lists. A job step takes a block of ports
// per node (each rank a few, by local rank: wireup.ts); should a candidate block be taken anyway
// (another program, or a hash collision), a rank binds in the next block and dialers try the blocks
// in order — that is the documented fallback.

import { TopologyError } from './errors.js';

/** Lowest planned port: clear of the well-known and most registered service ports. */
export const PORT_MIN = 10000;
/** Highest planned port: just below Linux's default ephemeral range (32768–60999), so outgoing connections never hold it. */
export const PORT_MAX = 32767;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** 32-bit FNV-1a over the UTF-8 bytes of `text`. */
export function fnv1a32(text: string): number {
  let hash = FNV_OFFSET;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, FNV_PRIME) >>> 0;
  }
  return hash >>> 0;
}

/** Murmur3's finaliser: spreads consecutive inputs over all 32 bits. */
function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** `count` distinct candidate ports in [PORT_MIN, PORT_MAX] for this job step, in the order to try them. */
export function planPorts(jobId: string, stepId: string, count = 8): number[] {
  return planPortBlocks(jobId, stepId, 1, count);
}

/** `count` distinct first ports of blocks of `block` ports, each block inside [PORT_MIN, PORT_MAX], in the order to try them. */
export function planPortBlocks(jobId: string, stepId: string, block: number, count = 8): number[] {
  if (!Number.isSafeInteger(block) || block < 1 || block > PORT_MAX - PORT_MIN + 1) {
    throw new TopologyError(`port plan: a block of ${block} ports does not fit in ${PORT_MIN}..${PORT_MAX}; fewer ranks per node, or set COMMUNE_PORT`);
  }
  const span = PORT_MAX - PORT_MIN + 2 - block;
  if (!Number.isSafeInteger(count) || count < 1 || count > span) {
    throw new TopologyError(`port plan: count ${count} must be an integer between 1 and ${span}`);
  }
  const seed = fnv1a32(`${jobId}.${stepId}`);
  const ports: number[] = [];
  const seen = new Set<number>();
  for (let i = 0; ports.length < count; i++) {
    const port = PORT_MIN + (mix32((seed + Math.imul(i, 0x9e3779b9)) >>> 0) % span);
    if (!seen.has(port)) {
      seen.add(port);
      ports.push(port);
    }
  }
  return ports;
}
