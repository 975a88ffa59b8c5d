import { randomBytes } from 'node:crypto';
import { planPortBlocks } from '../../topology/ports.js';
import type { World } from '../../topology/types.js';
import { portBlock, rankPorts } from '../../topology/wireup.js';

/**
 * The World a local launcher would describe for rank `rank` of `size`, all on loopback, with the port
 * plan of job `jobId` (tests, the code-cache build step). The default job id is fresh, so concurrent
 * worlds plan apart.
 */
export function loopbackWorld(rank: number, size: number, jobId = `loopback-${randomBytes(6).toString('hex')}`): World {
  const rankNodes = new Array<number>(size).fill(0);
  const portBases = planPortBlocks(jobId, '0', portBlock(rankNodes, size));
  return {
    launcher: 'commune', rank, size, localRank: rank, node: 'localhost', nodes: ['localhost'], nodeHosts: ['127.0.0.1'],
    rankNodes, jobId, stepId: '0', bindHost: '127.0.0.1', wireUp: 'computed', portBases,
    listenPorts: size > 1 ? rankPorts(portBases, rank) : [], bootstrap: [],
  };
}
