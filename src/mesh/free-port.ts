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
