import { randomBytes, timingSafeEqual } from 'node:crypto';

// Admission to the direct data plane. The listening rank (the higher of a pair) hands its partner a
// fresh random one-time token over their libp2p connection — private-network keyed and noise
// encrypted, with both peer ids checked by the gater — so only that rank's process can know it. The
// dialler's first bytes on the raw socket must be [magic][its rank u32 BE][that token]; anything else
// is dropped before a single frame is read. The listener answers one ACCEPTED byte, then frames flow.
// The plane is authenticated this way but not encrypted (like MPI's TCP transport): use
// COMMUNE_DATA_PLANE=libp2p on networks where others can read the traffic.

export const MAGIC = Buffer.from('CDP1', 'latin1');
export const TOKEN_BYTES = 32;
export const HELLO_BYTES = MAGIC.byteLength + 4 + TOKEN_BYTES;
export const ACCEPTED = 0x06;

export function newToken(): Buffer {
  return randomBytes(TOKEN_BYTES);
}

export function hello(rank: number, token: Uint8Array): Buffer {
  const b = Buffer.alloc(HELLO_BYTES);
  MAGIC.copy(b, 0);
  b.writeUInt32BE(rank, MAGIC.byteLength);
  b.set(token, MAGIC.byteLength + 4);
  return b;
}

/** The rank and token a hello claims, or why it is not a hello. */
export function parseHello(b: Uint8Array): { rank: number; token: Buffer } | { error: string } {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (buf.byteLength < HELLO_BYTES) return { error: `handshake of ${buf.byteLength} bytes, expected ${HELLO_BYTES}` };
  if (!buf.subarray(0, MAGIC.byteLength).equals(MAGIC)) return { error: 'not a commune direct-plane handshake' };
  return { rank: buf.readUInt32BE(MAGIC.byteLength), token: buf.subarray(MAGIC.byteLength + 4, HELLO_BYTES) };
}

export function sameToken(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}
