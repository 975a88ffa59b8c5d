import { randomBytes } from 'node:crypto';
import { Mesh, type MeshOptions } from '../../src/mesh/mesh.js';
import { freePort } from '../../src/mesh/free-port.js';
import type { World } from '../../topology/types.js';

/** The World a local launcher would describe for rank `rank` of `size`, all on loopback. */
export function loopbackWorld(rank: number, size: number, bootstrapPort: number, jobId = 'test'): World {
  return {
    launcher: 'commune', rank, size, localRank: rank, node: 'localhost', nodes: ['localhost'],
    rankNodes: new Array(size).fill(0), jobId, stepId: '0', bindHost: '127.0.0.1',
    listenPorts: [rank === 0 ? bootstrapPort : 0],
    bootstrap: size > 1 ? [{ rank: 0, host: '127.0.0.1', ports: [bootstrapPort] }] : [],
  };
}

/** Starts `size` real libp2p ranks in this process over TCP loopback. */
export async function startMeshes(size: number, opts: Partial<MeshOptions> = {}): Promise<{ meshes: Mesh[]; secret: string; port: number }> {
  const secret = opts.secret ?? randomBytes(32).toString('hex');
  const port = await freePort();
  const meshes = await Promise.all(Array.from({ length: size }, (_, r) =>
    Mesh.start({ ...opts, world: loopbackWorld(r, size, port), secret })));
  return { meshes, secret, port };
}

export async function closeAll(meshes: Mesh[]): Promise<void> {
  await Promise.all(meshes.map((m) => m.close()));
}
