import { createServer } from 'node:net';

/** Binds `port` on `host` (0: any) and lets go: the port bound, or undefined when it could not bind. */
function probe(host: string, port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(undefined));
    s.listen(port, host, () => {
      const bound = (s.address() as { port: number }).port;
      s.close(() => resolve(bound));
    });
  });
}

/** A TCP port that was free a moment ago on `host` (an ephemeral one). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const port = await probe(host, 0);
  if (port === undefined) throw new Error(`cannot listen on ${host}`);
  return port;
}

/**
 * The first of `candidates` free on `host` (the launcher's bootstrap port). Planned ports lie below the
 * ephemeral range, so no other rank's port-0 listener (a direct-plane socket) can take it between this
 * check and rank 0's bind — which freePort's ephemeral pick allowed. Falls back to freePort.
 */
export async function firstFreePort(host: string, candidates: readonly number[]): Promise<number> {
  for (const port of candidates) if ((await probe(host, port)) !== undefined) return port;
  return freePort(host);
}
