import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

// Admission to a rank's listening port: a challenge-response keyed by the job's secret (HMAC-SHA256 with
// a key derived from it, see identity.ts), both ways, before a single frame is read. Why not libp2p's
// noise handshake per connection: it costs ~18 ms of CPU per pair (measured here, warm), which at
// O(p log p) connections is most of a large job's start-up; this costs microseconds. What it proves is
// the same in practice: every rank's libp2p key is derived from the same job secret, so either way a
// connection is admitted because the other end holds the job's secret. Fresh nonces on both sides keep a
// recorded handshake from being replayed.
//
//   acceptor → dialer   CHALLENGE  magic "CDP2", version, mode (0 direct, 1 libp2p only), acceptor's rank u32, nonce
//   dialer → acceptor   HELLO      magic, dialer rank u32, target rank u32, flags u8, dialer's port u16, pid u32, nonce, mac
//   acceptor → dialer   ACCEPT     0x06, pid u32, flags u8, mac
// then frames flow from the acceptor to the dialer (the dialer reads: see direct-plane.ts for why).

export const MAGIC = Buffer.from('CDP2', 'latin1');
const VERSION = 1;
const NONCE = 16;
const MAC = 32;
export const CHALLENGE_BYTES = MAGIC.byteLength + 2 + 4 + NONCE;
export const HELLO_BYTES = MAGIC.byteLength + 4 + 4 + 1 + 2 + 4 + NONCE + MAC;
export const ACCEPT_BYTES = 1 + 4 + 1 + MAC;
const ACCEPT = 0x06;

/** HELLO flags. */
export const DIAL_ME = 1; // the dialer wants to send too: dial it back
export const WANT_LIBP2P = 2; // the dialer wants to reach this rank over libp2p: start it (doorbell)
/** ACCEPT flags. */
export const LIBP2P_UP = 1; // the acceptor's libp2p node listens (its port follows its direct port)

export type Mode = 'direct' | 'libp2p';

export interface Challenge { mode: Mode; rank: number; bytes: Buffer }
export interface Hello { rank: number; target: number; flags: number; port: number; pid: number; bytes: Buffer }

function mac(key: Uint8Array, label: string, ...parts: Uint8Array[]): Buffer {
  const h = createHmac('sha256', key).update(label);
  for (const p of parts) h.update(p);
  return h.digest();
}

function sameMac(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}

export function challenge(rank: number, mode: Mode): Buffer {
  const b = Buffer.alloc(CHALLENGE_BYTES);
  MAGIC.copy(b, 0);
  b[4] = VERSION;
  b[5] = mode === 'libp2p' ? 1 : 0;
  b.writeUInt32BE(rank, 6);
  randomBytes(NONCE).copy(b, 10);
  return b;
}

/** The acceptor's challenge, or why these bytes are not one (the dialer then tries the next candidate port). */
export function parseChallenge(b: Buffer): Challenge | { error: string } {
  if (!b.subarray(0, MAGIC.byteLength).equals(MAGIC)) return { error: 'not a commune rank (no handshake)' };
  if (b[4] !== VERSION) return { error: `handshake version ${b[4]}, expected ${VERSION} (another commune version?)` };
  return { mode: b[5] === 1 ? 'libp2p' : 'direct', rank: b.readUInt32BE(6), bytes: b.subarray(0, CHALLENGE_BYTES) };
}

export function hello(key: Uint8Array, ch: Challenge, f: Omit<Hello, 'bytes'>): Buffer {
  const b = Buffer.alloc(HELLO_BYTES);
  MAGIC.copy(b, 0);
  b.writeUInt32BE(f.rank, 4);
  b.writeUInt32BE(f.target, 8);
  b[12] = f.flags;
  b.writeUInt16BE(f.port, 13);
  b.writeUInt32BE(f.pid, 15);
  randomBytes(NONCE).copy(b, 19);
  mac(key, 'commune/hello', ch.bytes, b.subarray(0, HELLO_BYTES - MAC)).copy(b, HELLO_BYTES - MAC);
  return b;
}

/** The dialer's hello checked against the challenge this acceptor sent; or why it is refused. */
export function checkHello(key: Uint8Array, sent: Buffer, b: Buffer, self: number): Hello | { error: string; rank?: number } {
  if (!b.subarray(0, MAGIC.byteLength).equals(MAGIC)) return { error: 'not a commune direct-plane handshake' };
  const rank = b.readUInt32BE(4);
  const expected = mac(key, 'commune/hello', sent, b.subarray(0, HELLO_BYTES - MAC));
  if (!sameMac(expected, b.subarray(HELLO_BYTES - MAC, HELLO_BYTES))) return { error: 'wrong key: not a rank of this job', rank };
  const target = b.readUInt32BE(8);
  if (target !== self) return { error: `it wanted rank ${target}, this is rank ${self}`, rank };
  return { rank, target, flags: b[12]!, port: b.readUInt16BE(13), pid: b.readUInt32BE(15), bytes: b.subarray(0, HELLO_BYTES) };
}

export function accept(key: Uint8Array, sent: Buffer, h: Hello, pid: number, flags: number): Buffer {
  const b = Buffer.alloc(ACCEPT_BYTES);
  b[0] = ACCEPT;
  b.writeUInt32BE(pid, 1);
  b[5] = flags;
  mac(key, 'commune/accept', sent, h.bytes, b.subarray(0, 6)).copy(b, 6);
  return b;
}

/** The acceptor's answer checked against our challenge and hello: its pid and flags, or why not. */
export function checkAccept(key: Uint8Array, ch: Challenge, sentHello: Buffer, b: Buffer): { pid: number; flags: number } | { error: string } {
  if (b[0] !== ACCEPT) return { error: 'the rank did not accept the handshake' };
  const expected = mac(key, 'commune/accept', ch.bytes, sentHello, b.subarray(0, 6));
  if (!sameMac(expected, b.subarray(6, ACCEPT_BYTES))) return { error: 'wrong key: the process at that port is not a rank of this job' };
  return { pid: b.readUInt32BE(1), flags: b[5]! };
}
