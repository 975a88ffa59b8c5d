import { createServer } from 'node:net';

/** A TCP port that was free a moment ago on `host` (the launcher hands it to rank 0 as its bootstrap port). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * The first of `candidates` free on `host` (the launcher's bootstrap port). Planned ports lie below the
 * ephemeral range, so no other rank's port-0 listener (a direct-plane socket) can take it between this
 * check and rank 0's bind — which freePort's ephemeral pick allowed. Falls back to freePort.
 */
export async function firstFreePort(host: string, candidates: readonly number[]): Promise<number> {
  for (const port of candidates) {
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, host, () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
  return freePort(host);
}
