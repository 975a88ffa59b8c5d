// Network interface selection by name (`--interface ib0`, like dask-mpi's `interface=`). Pure: the caller
// passes os.networkInterfaces(), so tests can describe any machine.

import type { NetworkInterfaceInfo } from 'node:os';
import { TopologyError } from './errors.js';

function isIPv4(info: NetworkInterfaceInfo): boolean {
  // Node 18.0–18.3 reported the family as the number 4.
  const family: unknown = info.family;
  return family === 'IPv4' || family === 4;
}

function describe(ifaces: NodeJS.Dict<NetworkInterfaceInfo[]>): string {
  const entries = Object.entries(ifaces).map(([name, infos]) => {
    const v4 = (infos ?? []).filter(isIPv4).map((i) => i.address);
    return `${name} (${v4.length > 0 ? v4.join(', ') : 'no IPv4'})`;
  });
  return entries.length > 0 ? entries.join(', ') : 'none';
}

/** The first IPv4 address of interface `name`; a missing interface, or one without IPv4, lists the alternatives. */
export function selectInterface(name: string, ifaces: NodeJS.Dict<NetworkInterfaceInfo[]>, node = 'this node'): string {
  const infos = ifaces[name];
  const address = infos?.find(isIPv4)?.address;
  if (address !== undefined) return address;
  const problem = infos === undefined ? 'not found' : 'has no IPv4 address';
  throw new TopologyError(
    `interface '${name}' ${problem} on node ${node}; available: ${describe(ifaces)}. Pass one of these to --interface`,
  );
}
