import type { World } from '../../topology/types.js';

/** The World a local launcher would describe for rank `rank` of `size`, all on loopback (tests, the code-cache build step). */
export function loopbackWorld(rank: number, size: number, bootstrapPort: number, jobId = 'test'): World {
  return {
    launcher: 'commune', rank, size, localRank: rank, node: 'localhost', nodes: ['localhost'],
    rankNodes: new Array(size).fill(0), jobId, stepId: '0', bindHost: '127.0.0.1',
    listenPorts: [rank === 0 ? bootstrapPort : 0],
    bootstrap: size > 1 ? [{ rank: 0, host: '127.0.0.1', ports: [bootstrapPort] }] : [],
  };
}
