import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { ConnectionProtector, MultiaddrConnection } from '@libp2p/interface';
import { Uint8ArrayList } from './libp2p-stack.js';

// The job's private network: every byte on a connection is XORed with a ChaCha20 stream keyed by the
// job's network key, under a fresh nonce per direction, before noise even starts — a process without
// the key cannot complete a handshake. Same construction as @libp2p/pnet (XSalsa20, key + nonce
// exchange), written here because pnet's pure-JavaScript cipher and its extra duplex pipes cost more
// than the rest of the stack (measured: ~70 MiB/s and ~0.3 ms per round trip); node:crypto's native
// ChaCha20 and direct source/sink wrapping remove both. Not wire-compatible with pnet, by design: only
// commune ranks speak to commune ranks.

const NONCE_BYTES = 12;

function ivFor(nonce: Uint8Array): Buffer {
  // node's chacha20 IV = 32-bit little-endian block counter (0) + 96-bit nonce.
  return Buffer.concat([Buffer.alloc(4), nonce]);
}

const bytesOf = (c: Uint8Array | Uint8ArrayList): Uint8Array => (c instanceof Uint8Array ? c : c.subarray());

class NativePrivateNetwork implements ConnectionProtector {
  constructor(private readonly key: Uint8Array) {
    if (key.byteLength !== 32) throw new RangeError('network key must be 32 bytes');
  }

  async protect(conn: MultiaddrConnection): Promise<MultiaddrConnection> {
    const key = this.key;
    const local = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('chacha20', key, ivFor(local));
    const sink: MultiaddrConnection['sink'] = (source) => conn.sink((async function* () {
      yield local;
      for await (const chunk of source) yield cipher.update(bytesOf(chunk));
    })());
    const source = (async function* () {
      let head: Uint8ArrayList | undefined = new Uint8ArrayList();
      let decipher: ReturnType<typeof createDecipheriv> | undefined;
      for await (const chunk of conn.source) {
        if (decipher) { yield decipher.update(bytesOf(chunk)); continue; }
        head!.append(chunk);
        if (head!.byteLength < NONCE_BYTES) continue;
        decipher = createDecipheriv('chacha20', key, ivFor(head!.subarray(0, NONCE_BYTES)));
        const rest = head!.subarray(NONCE_BYTES);
        head = undefined;
        if (rest.byteLength > 0) yield decipher.update(rest);
      }
    })();
    return { ...conn, source, sink };
  }
}

export function privateNetwork(key: Uint8Array): () => ConnectionProtector {
  return () => new NativePrivateNetwork(key);
}
