// Pure launch topology: hostlists, placement, port plan, world detection, interface selection. No I/O here.

export type { Endpoint, Launcher, World } from './types.js';
export { TopologyError } from './errors.js';
export { compressHostlist, expandHostlist } from './hostlist.js';
export { expandTasksPerNode } from './tasks-per-node.js';
export { parseSlurmDistribution, placeRanks, type Distribution, type DistributionChoice } from './placement.js';
export { PORT_MAX, PORT_MIN, fnv1a32, planPortBlocks, planPorts } from './ports.js';
export { parseBootstrap } from './bootstrap.js';
export { PORTS_PER_RANK, endpointOf, libp2pPortOf, portBlock, rankPorts } from './wireup.js';
export { DEFAULT_BOOTSTRAP_HOST } from './common.js';
export { detectWorld } from './world.js';
export { ranksOnThisNode } from './layout.js';
export { selectInterface } from './interfaces.js';
