import { hkdfSync } from 'node:crypto';
import { generateKeyPairFromSeed, peerIdFromPrivateKey } from './libp2p-stack.js';
import type { Ed25519PrivateKey, PeerId } from '@libp2p/interface';

// Every rank's key is derived from (job secret, rank), so each rank knows every legitimate peer id in
// advance: the connection gater can admit exactly the job's ranks, with no key exchange at start-up.

function derive(secret: string, info: string, length = 32): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.from('commune/v1'), Buffer.from(info), length));
}

export async function rankKey(secret: string, rank: number): Promise<Ed25519PrivateKey> {
  return generateKeyPairFromSeed('Ed25519', derive(secret, `rank-key:${rank}`));
}

export async function rankPeerId(secret: string, rank: number): Promise<PeerId> {
  return peerIdFromPrivateKey(await rankKey(secret, rank));
}

/** The job's 32-byte private-network key (see private-network.ts). */
export function networkKey(secret: string): Uint8Array {
  return derive(secret, 'private-network-key');
}

/** Peer id string → rank for every rank of the world. */
export async function peerDirectory(secret: string, size: number): Promise<{ ids: PeerId[]; rankOf: Map<string, number> }> {
  const ids = await Promise.all(Array.from({ length: size }, (_, r) => rankPeerId(secret, r)));
  return { ids, rankOf: new Map(ids.map((id, r) => [id.toString(), r])) };
}
