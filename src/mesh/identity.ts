import { createPrivateKey, createPublicKey, hkdfSync } from 'node:crypto';
import type { Ed25519PrivateKey, PeerId } from '@libp2p/interface';

// Every key is derived from the job secret: the direct plane's handshake key (handshake.ts), the
// private-network key, and each rank's libp2p key from (secret, rank), so each rank knows every
// legitimate peer id in advance: the connection gater can admit exactly the job's ranks, with no key
// exchange at start-up. libp2p itself loads only with the first libp2p key (libp2p-plane.ts).

function derive(secret: string, info: string, length = 32): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.from('commune/v1'), Buffer.from(info), length));
}

// An Ed25519 private key as PKCS #8 DER is this fixed prefix and the 32-byte seed (RFC 8410 §7).
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * The Ed25519 public key of a 32-byte seed (RFC 8032), computed by OpenSSL through node:crypto.
 * Why not @libp2p/crypto's generateKeyPairFromSeed: the 5.1.x that fits libp2p 2.x derives it by
 * importing a JWK with an empty "x", which Node 24 refuses ("Invalid JWK OKP key"); its fix (5.1.10+)
 * needs libp2p 3. PKCS #8 import has worked since Node 12, so every version a job may mix derives the
 * same key, hence the same peer id.
 */
export function ed25519PublicKey(seed: Uint8Array): Uint8Array {
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  // SubjectPublicKeyInfo DER of an Ed25519 key ends with the 32 raw public-key bytes.
  return new Uint8Array(createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).subarray(-32));
}

export async function rankKey(secret: string, rank: number): Promise<Ed25519PrivateKey> {
  const seed = derive(secret, `rank-key:${rank}`);
  const raw = new Uint8Array(64); // libp2p's raw Ed25519 private key: seed ‖ public key
  raw.set(seed);
  raw.set(ed25519PublicKey(seed), 32);
  const { privateKeyFromRaw } = await import('./libp2p-stack.js');
  return privateKeyFromRaw(raw) as Ed25519PrivateKey;
}

export async function rankPeerId(secret: string, rank: number): Promise<PeerId> {
  const { peerIdFromPrivateKey } = await import('./libp2p-stack.js');
  return peerIdFromPrivateKey(await rankKey(secret, rank));
}

/** The job's key for the direct plane's handshake (handshake.ts). */
export function handshakeKey(secret: string): Uint8Array {
  return derive(secret, 'direct-plane-handshake-key');
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
